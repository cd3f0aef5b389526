package signalspb

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"

	gen "github.com/graphsignal/graphsignal/internal/signalspb/signalspbgen"
)

// TestFixtureSetsEveryField makes the round trips below cover the whole
// schema: every field of every message reachable from UploadRequest, map
// entries' keys and values included, holds a non-zero value somewhere in
// fullRequest.
func TestFixtureSetsEveryField(t *testing.T) {
	seen := map[protoreflect.FullName]bool{}
	all := map[protoreflect.FullName]bool{}
	var schema func(md protoreflect.MessageDescriptor)
	schema = func(md protoreflect.MessageDescriptor) {
		for i := range md.Fields().Len() {
			fd := md.Fields().Get(i)
			if all[fd.FullName()] {
				continue
			}
			all[fd.FullName()] = true
			if fd.Message() != nil {
				schema(fd.Message())
			}
		}
	}
	schema((&gen.UploadRequest{}).ProtoReflect().Descriptor())
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			seen[fd.FullName()] = true
			switch {
			case fd.IsMap():
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					if k.String() != "" && mv.String() != "" {
						seen[fd.MapKey().FullName()], seen[fd.MapValue().FullName()] = true, true
					}
					return true
				})
			case fd.IsList() && fd.Message() != nil:
				for i := range v.List().Len() {
					walk(v.List().Get(i).Message())
				}
			case fd.Message() != nil:
				walk(v.Message())
			}
			return true
		})
	}
	walk(fullRequest().ProtoReflect())
	for name := range all {
		if !seen[name] {
			t.Errorf("fullRequest leaves %s unset", name)
		}
	}
}

// TestRoundTrip checks both directions against protobuf-go: its encoding
// decodes here to the same message, and Marshal here produces exactly its
// deterministic encoding.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		msg  *gen.UploadRequest
	}{
		{"empty", &gen.UploadRequest{}},
		{"every field", fullRequest()},
		{"sdk request", sdkRequest(100, 10)},
		{"empty elements", &gen.UploadRequest{Spans: []*gen.Span{{}}, Metrics: []*gen.Metric{{Datapoints: []*gen.DataPoint{{}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := canonical(tt.msg)
			var got UploadRequest
			if err := got.Unmarshal(want); err != nil {
				t.Fatalf("Unmarshal(generated Marshal) = %v", err)
			}
			if diff := cmp.Diff(tt.msg, genUploadRequest(&got), protocmp.Transform()); diff != "" {
				t.Errorf("Unmarshal(generated Marshal) (-want +got):\n%s", diff)
			}
			enc := got.Marshal()
			if !bytes.Equal(enc, want) {
				t.Errorf("Marshal() differs from protobuf-go's deterministic encoding: %s", firstDiff(enc, want))
			}
			var back gen.UploadRequest
			if err := proto.Unmarshal(enc, &back); err != nil {
				t.Fatalf("generated Unmarshal(Marshal()) = %v", err)
			}
			if diff := cmp.Diff(tt.msg, &back, protocmp.Transform()); diff != "" {
				t.Errorf("generated Unmarshal(Marshal()) (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAppendMarshal: AppendMarshal appends after existing bytes, and a nil
// message marshals as an empty one.
func TestAppendMarshal(t *testing.T) {
	req := &UploadRequest{Spans: []*Span{{Name: "x"}, nil}}
	got := req.AppendMarshal([]byte("prefix"))
	if want := append([]byte("prefix"), req.Marshal()...); !bytes.Equal(got, want) {
		t.Errorf("AppendMarshal(prefix) = %x, want %x", got, want)
	}
	if want := []byte{0x0a, 0x03, 0x3a, 0x01, 'x', 0x0a, 0x00}; !bytes.Equal(req.Marshal(), want) {
		t.Errorf("Marshal() = %x, want %x", req.Marshal(), want)
	}
	if b := (*UploadRequest)(nil).Marshal(); len(b) != 0 {
		t.Errorf("nil Marshal() = %x, want empty", b)
	}
	if b := (&UploadResponse{}).Marshal(); len(b) != 0 {
		t.Errorf("UploadResponse Marshal() = %x, want empty", b)
	}
}

// TestWireNumbers pins field numbers the Graphsignal API relies on, by
// decoding hand-encoded bytes.
func TestWireNumbers(t *testing.T) {
	var span []byte
	span = protowire.AppendTag(span, 1, protowire.BytesType)
	span = protowire.AppendString(span, "sid")
	span = protowire.AppendTag(span, 7, protowire.BytesType)
	span = protowire.AppendString(span, "name")
	span = protowire.AppendTag(span, 5, protowire.VarintType)
	span = protowire.AppendVarint(span, 123)
	var req []byte
	req = protowire.AppendTag(req, 1, protowire.BytesType)
	req = protowire.AppendBytes(req, span)
	req = protowire.AppendTag(req, 5, protowire.VarintType)
	req = protowire.AppendVarint(req, 77)
	var got UploadRequest
	if err := got.Unmarshal(req); err != nil {
		t.Fatal(err)
	}
	want := UploadRequest{UploadTs: 77, Spans: []*Span{{SpanId: "sid", Name: "name", StartTs: 123}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Unmarshal(%.64x) (-want +got):\n%s", req, diff)
	}
}

// TestUnmarshalResets: Unmarshal replaces, it does not merge.
func TestUnmarshalResets(t *testing.T) {
	got := Span{Name: "old", Tags: []*Tag{{Key: "k"}}}
	if err := got.Unmarshal([]byte{0x0a, 0x01, 'x'}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Span{SpanId: "x"}, got); diff != "" {
		t.Errorf("Unmarshal into a used Span (-want +got):\n%s", diff)
	}
}

func TestGettersOnNil(t *testing.T) {
	var dp *DataPoint
	var sp *Span
	var le *LogEntry
	if sp.GetName() != "" || sp.GetTags() != nil || sp.GetStartTs() != 0 || le.GetLevel() != LogEntry_UNSPECIFIED_LEVEL ||
		dp.GetValue() != nil || dp.GetGauge() != 0 || dp.GetSummary() != nil || dp.GetHistogram().GetBins() != nil ||
		(*UploadRequest)(nil).GetSpans() != nil || (*ProfileField)(nil).GetDescriptor_() != nil {
		t.Error("a getter on a nil message returned a non-zero value")
	}
	dp = &DataPoint{Value: &DataPoint_Total{Total: 2}}
	if dp.GetTotal() != 2 || dp.GetGauge() != 0 || dp.GetProfile() != nil {
		t.Errorf("oneof getters of %+v wrong", dp.Value)
	}
}

func TestEnumString(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{LogEntry_WARNING_LEVEL.String(), "WARNING_LEVEL"},
		{LogEntry_LogLevel(7).String(), "7"},
		{Metric_PROFILE_METRIC.String(), "PROFILE_METRIC"},
		{Metric_MetricType(-1).String(), "-1"},
		{ProfileField_COUNTER_FIELD.String(), "COUNTER_FIELD"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
	// Every named value has the generated name.
	for v := range int32(60) {
		if g, w := LogEntry_LogLevel(v).String(), gen.LogEntry_LogLevel(v).String(); g != w {
			t.Errorf("LogEntry_LogLevel(%d).String() = %q, want %q", v, g, w)
		}
		if g, w := Metric_MetricType(v).String(), gen.Metric_MetricType(v).String(); g != w {
			t.Errorf("Metric_MetricType(%d).String() = %q, want %q", v, g, w)
		}
		if g, w := ProfileField_FieldType(v).String(), gen.ProfileField_FieldType(v).String(); g != w {
			t.Errorf("ProfileField_FieldType(%d).String() = %q, want %q", v, g, w)
		}
	}
}

// compareWithGenerated decodes b with both implementations and reports any
// difference in acceptance or result. It returns this package's error.
func compareWithGenerated(t *testing.T, b []byte) error {
	t.Helper()
	var want gen.UploadRequest
	wantErr := proto.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(b, &want)
	var got UploadRequest
	err := got.Unmarshal(b)
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("Unmarshal(%.64x) = %v, protobuf-go says %v", b, err, wantErr)
	}
	if err != nil {
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("Unmarshal(%.64x) = %v, want an error wrapping ErrMalformed", b, err)
		}
		return err
	}
	if g, w := canonical(genUploadRequest(&got)), canonical(&want); !bytes.Equal(g, w) {
		t.Fatalf("Unmarshal(%.64x) decoded\n%.64x, protobuf-go\n%.64x\n(-want +got):\n%s", b, g, w,
			cmp.Diff(&want, genUploadRequest(&got), protocmp.Transform()))
	}
	if g, w := got.Marshal(), canonical(&want); !bytes.Equal(g, w) {
		t.Fatalf("Marshal() after Unmarshal(%.64x) differs from protobuf-go: %s", b, firstDiff(g, w))
	}
	return nil
}

// firstDiff describes where got and want first differ.
func firstDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(i-16, 0)
	return fmt.Sprintf("at byte %d of %d (want %d):\n got ...%.48x\nwant ...%.48x", i, len(got), len(want), got[from:], want[from:])
}
