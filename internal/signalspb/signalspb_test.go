package signalspb

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// TestProtoMatchesShared checks that the .proto copied here is the contract
// in shared/protocol (present beside the repository in development and CI).
func TestProtoMatchesShared(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "shared", "protocol", "graphsignal-signals.proto")
	want, err := os.ReadFile(shared)
	if err != nil {
		t.Skipf("shared contract not found (%v); nothing to compare", err)
	}
	got, err := os.ReadFile("graphsignal-signals.proto")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("graphsignal-signals.proto differs from %s: copy it here and run go generate", shared)
	}
}

func TestRoundTrip(t *testing.T) {
	in := &UploadRequest{
		UploadTs: 42,
		Spans: []*Span{{
			SpanId: "a1b2c3d4e5f6", TraceId: "0123456789ab", ParentSpanId: "ffeeddccbbaa", Name: "op",
			StartTs: 1, EndTs: 2, LinkedSpanIds: []string{"x"},
			Tags:       []*Tag{{Key: "k", Value: "v"}},
			Attributes: []*Attribute{{Name: "a", Value: "b"}},
			Counters:   []*Counter{{Name: "token_count", Value: 3}},
			Events:     []*SpanEvent{{Name: "exception", EventTs: 2, Attributes: []*Attribute{{Name: "exception.type", Value: "E"}}}},
		}},
		Metrics: []*Metric{{Name: "m", Type: Metric_HISTOGRAM_METRIC, Datapoints: []*DataPoint{
			{Value: &DataPoint_Histogram_{Histogram: &DataPoint_Histogram{Bins: []float64{1, 10}, Counts: []int64{2, 3}}}, MeasurementTs: 5},
			{Value: &DataPoint_Total{Total: 7}},
		}}},
		LogBatches: []*LogBatch{{LogEntries: []*LogEntry{{Level: LogEntry_ERROR_LEVEL, Message: "m", LogTs: 9}}}},
	}
	b, err := proto.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out UploadRequest
	if err := proto.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(in, &out) {
		t.Errorf("round trip changed the message:\n in %v\nout %v", in, &out)
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
	if err := proto.Unmarshal(req, &got); err != nil {
		t.Fatal(err)
	}
	if got.GetUploadTs() != 77 || len(got.GetSpans()) != 1 || got.GetSpans()[0].GetSpanId() != "sid" ||
		got.GetSpans()[0].GetName() != "name" || got.GetSpans()[0].GetStartTs() != 123 {
		t.Errorf("decoded %v", &got)
	}
}
