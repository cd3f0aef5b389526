package signalspb

import (
	"fmt"
	"math"
	"strings"

	gen "github.com/graphsignal/graphsignal/internal/signalspb/signalspbgen"
)

// fullRequest sets every field of every message reachable from
// UploadRequest, every case of the oneof, and edge values: negative and
// extreme integers, open enum values without a name, -0, a multi-byte
// UTF-8 string, and a 20,000-byte value whose enclosing messages need
// length prefixes of two and three bytes.
func fullRequest() *gen.UploadRequest {
	tags := func(p string) []*gen.Tag {
		return []*gen.Tag{{Key: p + ".k", Value: p + ".v"}, {Key: "", Value: "empty key"}}
	}
	attrs := func(p string) []*gen.Attribute {
		return []*gen.Attribute{{Name: p + ".a", Value: "é€😀"}, {Name: "empty value"}}
	}
	return &gen.UploadRequest{
		UploadTs: math.MaxInt64,
		Spans: []*gen.Span{{
			SpanId: "a1b2c3d4e5f6", TraceId: "0123456789ab", ParentSpanId: "ffeeddccbbaa",
			LinkedSpanIds: []string{"l1", "", "l3"}, StartTs: -1, EndTs: math.MinInt64, Name: "op",
			Tags: tags("span"), Attributes: append(attrs("span"), &gen.Attribute{Name: "big", Value: strings.Repeat("x", 20000)}),
			Counters: []*gen.Counter{{Name: "tokens", Value: 3.5}, {Name: "neg zero", Value: math.Copysign(0, -1)}, {Name: "inf", Value: math.Inf(-1)}},
			Events:   []*gen.SpanEvent{{Name: "exception", EventTs: 7, Attributes: attrs("event")}, {Name: "bare"}},
		}, {}},
		Metrics: []*gen.Metric{{
			MetricId: "m1", Name: "gpu.util", Tags: tags("metric"), Type: gen.Metric_PROFILE_METRIC, Unit: "percent",
			Datapoints: []*gen.DataPoint{
				{Value: &gen.DataPoint_Gauge{Gauge: 12.5}, MeasurementTs: 1},
				{Value: &gen.DataPoint_Gauge{Gauge: 0}},
				{Value: &gen.DataPoint_Total{Total: -7}, MeasurementTs: 2},
				{Value: &gen.DataPoint_Summary_{Summary: &gen.DataPoint_Summary{Count: 3, Sum: 6, Sum2: 14}}, MeasurementTs: 3},
				{Value: &gen.DataPoint_Summary_{Summary: &gen.DataPoint_Summary{}}},
				{Value: &gen.DataPoint_Histogram_{Histogram: &gen.DataPoint_Histogram{Bins: []float64{1, 10, math.MaxFloat64}, Counts: []int64{2, -3, math.MaxInt64}}}, MeasurementTs: 4},
				{Value: &gen.DataPoint_Profile_{Profile: &gen.DataPoint_Profile{FieldIds: []uint64{0, 1, math.MaxUint64}, Values: []float64{0.5, -1, 0}}}, MeasurementTs: 5},
				{MeasurementTs: 6},
			},
			Fields: []*gen.ProfileField{
				{FieldId: math.MaxUint64, Type: gen.ProfileField_COUNTER_FIELD, Descriptor_: map[string]string{"b": "2", "a": "1", "": "", "ü": "ö"}},
				{FieldId: 2, Type: 7},
			},
		}, {Name: "odd type", Type: -1}},
		Issues: []*gen.Issue{{IssueId: "i1", Tags: tags("issue"), Name: "oom", Severity: "high", Title: "Out of memory",
			Description: "line1\nline2", IssueTs: 99}},
		LogBatches: []*gen.LogBatch{{Tags: tags("log"), LogEntries: []*gen.LogEntry{
			{EntryTs: "2026-01-01T00:00:00Z", Level: gen.LogEntry_CRITICAL_LEVEL, Message: "boom", Exception: "tb", LogTs: 11},
			{Level: 1234},
		}}},
		Resources: []*gen.Resource{{ResourceId: "r1", Kind: "host", Tags: tags("res"), Attributes: attrs("res"),
			FirstSeenTs: 1, LastSeenTs: 2}},
	}
}

// sdkRequest is a request like the Graphsignal SDK's: spans spans with
// tags, attributes, counters and events, and metrics metrics.
func sdkRequest(spans, metrics int) *gen.UploadRequest {
	req := &gen.UploadRequest{UploadTs: 1_764_000_000_000_000_000}
	for i := range spans {
		start := req.UploadTs + int64(i)*1e6
		req.Spans = append(req.Spans, &gen.Span{
			SpanId: fmt.Sprintf("%012x", i+1), TraceId: "0123456789ab", ParentSpanId: "ffeeddccbbaa",
			StartTs: start, EndTs: start + 5e6, Name: "openai.chat.completions.create",
			Tags: []*gen.Tag{{Key: "model_type", Value: "chat"}, {Key: "session_id", Value: "sdk-session"},
				{Key: "deployment", Value: "prod"}, {Key: "span.status", Value: "ok"}},
			Attributes: []*gen.Attribute{{Name: "model", Value: "gpt-4o"}, {Name: "temperature", Value: "0.7"},
				{Name: "gen_ai.input.messages", Value: strings.Repeat("hello ", 20)}},
			Counters: []*gen.Counter{{Name: "prompt_tokens", Value: 12}, {Name: "completion_tokens", Value: 40},
				{Name: "span.duration", Value: 5e6}},
			Events: []*gen.SpanEvent{{Name: "first_token", EventTs: start + 1e6,
				Attributes: []*gen.Attribute{{Name: "n", Value: "1"}}}},
		})
	}
	for i := range metrics {
		req.Metrics = append(req.Metrics, &gen.Metric{
			Name: fmt.Sprintf("span.duration.%d", i), Type: gen.Metric_HISTOGRAM_METRIC, Unit: "ns",
			Tags: []*gen.Tag{{Key: "host", Value: "h"}, {Key: "operation", Value: "chat"}},
			Datapoints: []*gen.DataPoint{
				{Value: &gen.DataPoint_Histogram_{Histogram: &gen.DataPoint_Histogram{
					Bins: []float64{1e3, 1e4, 1e5, 1e6, 1e7}, Counts: []int64{1, 5, 20, 7, 1}}}, MeasurementTs: req.UploadTs},
				{Value: &gen.DataPoint_Gauge{Gauge: float64(i)}, MeasurementTs: req.UploadTs},
			},
		})
	}
	return req
}
