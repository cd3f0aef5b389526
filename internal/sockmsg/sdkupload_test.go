package sockmsg_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/ipc"
	"github.com/graphsignal/graphsignal/internal/sockmsg"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestSDKUploadRoundTrip encodes SDK uploads with every field of the model
// set (a field added to telemetry.SDKUpload and not to the protocol comes
// back zero), of sizes around the piece size, and decodes every line with
// the intake's decoder: the pieces are numbered from 0, only the last is
// marked, every line is within the limit, and they join to the body.
func TestSDKUploadRoundTrip(t *testing.T) {
	trace := telemetry.TraceID{0xab, 1}
	runSpan := telemetry.SpanID{0xcd, 2}
	for _, size := range []int{0, 1, sockmsg.SDKUploadChunkBytes - 1, sockmsg.SDKUploadChunkBytes, sockmsg.SDKUploadChunkBytes + 1, 3*sockmsg.SDKUploadChunkBytes + 7} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			want := filled[telemetry.SDKUpload](t)
			want.Body = bytes.Repeat([]byte{0, 0xff, '\n', '"'}, size/4+1)[:size]
			out := sockmsg.AppendSDKUpload(nil, "u-7", &want, trace, runSpan)
			lines := strings.SplitAfter(string(out), "\n")
			lines = lines[:len(lines)-1]
			if n := max(1, (size+sockmsg.SDKUploadChunkBytes-1)/sockmsg.SDKUploadChunkBytes); len(lines) != n {
				t.Fatalf("%d lines for a body of %d bytes, want %d", len(lines), size, n)
			}
			var got telemetry.SDKUpload
			for i, l := range lines {
				if len(l)-1 > ipc.MaxLineBytes {
					t.Fatalf("piece %d is %d bytes, over the line limit", i, len(l)-1)
				}
				m := decode(t, []byte(l))
				c := m.Chunk
				if m.Type != ipc.TypeSDKUpload || c.ID != "u-7" || c.Seq != int64(i) || c.Last != (i == len(lines)-1) {
					t.Fatalf("piece %d decoded as type %v id %q seq %d last %v", i, m.Type, c.ID, c.Seq, c.Last)
				}
				if i == 0 {
					got.Time = c.Time
					if c.TraceID != trace || c.RunSpan != runSpan {
						t.Errorf("piece 0 ids %v %v, want %v %v", c.TraceID, c.RunSpan, trace, runSpan)
					}
				}
				got.Body = append(got.Body, c.Data...)
			}
			if !bytes.Equal(got.Body, want.Body) {
				t.Errorf("pieces join to %d bytes, not the body of %d sent", len(got.Body), len(want.Body))
			}
			got.Body, want.Body = nil, nil // compared above, byte for byte
			if diff := cmp.Diff(want, got, sameTime); diff != "" {
				t.Errorf("SDK upload round trip (-sent +decoded):\n%s", diff)
			}
		})
	}
}
