package httpintake

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/graphsignal/graphsignal/internal/signalspb"
	gen "github.com/graphsignal/graphsignal/internal/signalspb/signalspbgen"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestDecodeForwarded: an upload a nested run forwarded (its tags merged
// in) decodes as a request would, with the nested run's run span as the
// parent of its root spans and its tags over this run's; in cloud mode the
// body goes on byte for byte, not merged again, and the records are marked
// InSDKUpload.
func TestDecodeForwarded(t *testing.T) {
	req := sdkUploadWithUnknown()
	req.Spans[0].TraceId, req.Spans[0].ParentSpanId = testTrace.String(), ""
	raw, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := signalspb.MergeTags(raw, telemetry.Tags{"run_id": "nested", "parent_run_id": testTags["run_id"]})
	if err != nil {
		t.Fatal(err)
	}
	nestedSpan := telemetry.SpanID{0xee, 7}
	for _, cloud := range []bool{true, false} {
		t.Run(map[bool]string{true: "cloud", false: "local"}[cloud], func(t *testing.T) {
			s, _ := startIntake(t, func(c *Config) { c.PassThrough = cloud })
			b, err := s.DecodeForwarded(ForwardedUpload{Time: t0, Body: body, TraceID: testTrace, RunSpan: nestedSpan})
			if err != nil {
				t.Fatalf("DecodeForwarded = %v", err)
			}
			if len(b.Spans) != len(req.Spans) || len(b.Metrics) == 0 {
				t.Fatalf("decoded %d spans and %d metrics, want %d spans and some metrics", len(b.Spans), len(b.Metrics), len(req.Spans))
			}
			sp := b.Spans[0]
			if sp.ParentSpanID != nestedSpan || sp.Tags["run_id"] != "nested" || sp.Tags["deployment"] != testTags["deployment"] || sp.InSDKUpload != cloud {
				t.Errorf("span parent %v tags %v InSDKUpload %v; want parent %v, the nested run_id over this run's tags, InSDKUpload %v",
					sp.ParentSpanID, sp.Tags, sp.InSDKUpload, nestedSpan, cloud)
			}
			switch {
			case cloud && (len(b.SDKUploads) != 1 || !bytes.Equal(b.SDKUploads[0].Body, body) || !b.SDKUploads[0].Time.Equal(t0)):
				t.Errorf("SDKUploads = %d, want the body as received", len(b.SDKUploads))
			case !cloud && len(b.SDKUploads) != 0:
				t.Errorf("local mode: %d SDKUploads, want none", len(b.SDKUploads))
			}
			if st := s.Stats(); st.Spans != uint64(len(b.Spans)) || st.SDKUploads != uint64(len(b.SDKUploads)) {
				t.Errorf("Stats spans %d uploads %d, want %d and %d", st.Spans, st.SDKUploads, len(b.Spans), len(b.SDKUploads))
			}
		})
	}
}

// TestDecodeForwardedRefused: a body that is not an UploadRequest, and one
// whose decoding would pass the in-flight bound, are refused.
func TestDecodeForwardedRefused(t *testing.T) {
	ok, err := proto.Marshal(&gen.UploadRequest{UploadTs: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		body     []byte
		inFlight int64
	}{
		{"not protobuf", []byte{0xff, 0xff, 0xff}, 0},
		{"over the in-flight bound", append(ok, bytes.Repeat([]byte{0x28, 1}, 512)...), 4 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := startIntake(t, func(c *Config) { c.PassThrough, c.InFlightBytes = true, tt.inFlight })
			if b, err := s.DecodeForwarded(ForwardedUpload{Time: t0, Body: tt.body}); err == nil {
				t.Errorf("DecodeForwarded(%d bytes) = %d records, want an error", len(tt.body), b.Len())
			}
			if s.inflight.used.Load() != 0 {
				t.Errorf("in-flight bytes held after the refusal: %d", s.inflight.used.Load())
			}
		})
	}
}
