package otlpexport

import (
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// FuzzParsePartialSuccess checks the hand-written response decoder against
// protobuf-go's (the reference parser: the same verdict and values on
// every input, except that a message that is not UTF-8 is kept rather than
// refused) and against pdata's (the same values whenever pdata accepts it:
// pdata refuses a known field of another wire type, which protobuf-go
// skips, and accepts some malformed input, such as overflowing varints).
func FuzzParsePartialSuccess(f *testing.F) {
	resp := ptraceotlp.NewExportResponse()
	resp.PartialSuccess().SetRejectedSpans(42)
	resp.PartialSuccess().SetErrorMessage("spans too old")
	b, err := resp.MarshalProto()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00})
	f.Add([]byte{0x0a, 0x02, 0x08, 0x7f, 0x0a, 0x03, 0x12, 0x01, 'x'})                          // two occurrences merge
	f.Add([]byte{0x0a, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}) // -1
	f.Add([]byte{0x12, 0x01, 'x', 0x0a, 0x01})                                                  // truncated
	f.Add([]byte{0x0a, 0x04, 0x10, 0x05, 0x1d, 0x00})                                           // wrong types, truncated fixed32
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parsePartialSuccess(b)

		var ref coltracepb.ExportTraceServiceResponse
		rerr := proto.Unmarshal(b, &ref)
		if rerr != nil && strings.Contains(rerr.Error(), "UTF-8") {
			return
		}
		if (err == nil) != (rerr == nil) {
			t.Fatalf("parsePartialSuccess(%x) error %v, protobuf-go %v", b, err, rerr)
		}
		if err != nil {
			return
		}
		if ps := ref.GetPartialSuccess(); got.rejected != clampCount(ps.GetRejectedSpans()) || got.message != ps.GetErrorMessage() {
			t.Fatalf("parsePartialSuccess(%x) = %d %q, protobuf-go %d %q", b, got.rejected, got.message, ps.GetRejectedSpans(), ps.GetErrorMessage())
		}

		want := ptraceotlp.NewExportResponse()
		if werr := want.UnmarshalProto(b); werr != nil {
			return
		}
		if ps := want.PartialSuccess(); got.rejected != clampCount(ps.RejectedSpans()) || got.message != ps.ErrorMessage() {
			t.Fatalf("parsePartialSuccess(%x) = %d %q, pdata %d %q", b, got.rejected, got.message, ps.RejectedSpans(), ps.ErrorMessage())
		}
		// The logs response has the same shape.
		lw := plogotlp.NewExportResponse()
		if lerr := lw.UnmarshalProto(b); lerr == nil && clampCount(lw.PartialSuccess().RejectedLogRecords()) != got.rejected {
			t.Fatalf("logs response of %x: %v %d, want %d", b, lerr, lw.PartialSuccess().RejectedLogRecords(), got.rejected)
		}
	})
}

// FuzzParsePartialSuccessJSON checks the OTLP/JSON response decoder
// against pdata's: when pdata accepts a response, the decoder reads the
// same count and message, or refuses it (a refused response body counts as
// no partial success, never as a failure).
func FuzzParsePartialSuccessJSON(f *testing.F) {
	f.Add([]byte(`{"partialSuccess":{"rejectedSpans":"3","errorMessage":"bad"}}`))
	f.Add([]byte(`{"partial_success":{"rejected_spans":3}}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"partialSuccess":null}`))
	f.Add([]byte(`{"partialSuccess":{"rejectedSpans":"x"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parsePartialSuccessJSON(b, tracesKind)
		want := ptraceotlp.NewExportResponse()
		if werr := want.UnmarshalJSON(b); werr == nil && err == nil {
			ps := want.PartialSuccess()
			if got.rejected != clampCount(ps.RejectedSpans()) || got.message != ps.ErrorMessage() {
				t.Fatalf("traces: parsePartialSuccessJSON(%q) = %d %q, pdata %d %q", b, got.rejected, got.message, ps.RejectedSpans(), ps.ErrorMessage())
			}
		}
		got, err = parsePartialSuccessJSON(b, logsKind)
		lw := plogotlp.NewExportResponse()
		if werr := lw.UnmarshalJSON(b); werr == nil && err == nil {
			ps := lw.PartialSuccess()
			if got.rejected != clampCount(ps.RejectedLogRecords()) || got.message != ps.ErrorMessage() {
				t.Fatalf("logs: parsePartialSuccessJSON(%q) = %d %q, pdata %d %q", b, got.rejected, got.message, ps.RejectedLogRecords(), ps.ErrorMessage())
			}
		}
	})
}
