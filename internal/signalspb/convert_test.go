package signalspb

import (
	"google.golang.org/protobuf/proto"

	gen "github.com/graphsignal/graphsignal/internal/signalspb/signalspbgen"
)

// The converters below copy a message of this package into the generated
// type field by field, so that tests compare the two implementations on the
// generated type. A field the converter forgot shows up as a difference,
// because the fixtures set every field (TestFixtureSetsEveryField).

func convert[S, D any](in []S, f func(S) D) []D {
	if in == nil {
		return nil
	}
	out := make([]D, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func genUploadRequest(x *UploadRequest) *gen.UploadRequest {
	return &gen.UploadRequest{
		Spans:      convert(x.Spans, genSpan),
		Metrics:    convert(x.Metrics, genMetric),
		Issues:     convert(x.Issues, genIssue),
		LogBatches: convert(x.LogBatches, genLogBatch),
		UploadTs:   x.UploadTs,
		Resources:  convert(x.Resources, genResource),
	}
}

func genTag(x *Tag) *gen.Tag { return &gen.Tag{Key: x.Key, Value: x.Value} }

func genAttribute(x *Attribute) *gen.Attribute { return &gen.Attribute{Name: x.Name, Value: x.Value} }

func genMetric(x *Metric) *gen.Metric {
	return &gen.Metric{
		MetricId: x.MetricId, Name: x.Name, Tags: convert(x.Tags, genTag),
		Type: gen.Metric_MetricType(x.Type), Unit: x.Unit,
		Datapoints: convert(x.Datapoints, genDataPoint), Fields: convert(x.Fields, genProfileField),
	}
}

func genDataPoint(x *DataPoint) *gen.DataPoint {
	out := &gen.DataPoint{MeasurementTs: x.MeasurementTs}
	switch v := x.Value.(type) {
	case *DataPoint_Gauge:
		out.Value = &gen.DataPoint_Gauge{Gauge: v.Gauge}
	case *DataPoint_Total:
		out.Value = &gen.DataPoint_Total{Total: v.Total}
	case *DataPoint_Summary_:
		out.Value = &gen.DataPoint_Summary_{Summary: &gen.DataPoint_Summary{
			Count: v.Summary.Count, Sum: v.Summary.Sum, Sum2: v.Summary.Sum2}}
	case *DataPoint_Histogram_:
		out.Value = &gen.DataPoint_Histogram_{Histogram: &gen.DataPoint_Histogram{
			Bins: v.Histogram.Bins, Counts: v.Histogram.Counts}}
	case *DataPoint_Profile_:
		out.Value = &gen.DataPoint_Profile_{Profile: &gen.DataPoint_Profile{
			FieldIds: v.Profile.FieldIds, Values: v.Profile.Values}}
	}
	return out
}

func genProfileField(x *ProfileField) *gen.ProfileField {
	return &gen.ProfileField{FieldId: x.FieldId, Type: gen.ProfileField_FieldType(x.Type), Descriptor_: x.Descriptor_}
}

func genSpan(x *Span) *gen.Span {
	return &gen.Span{
		SpanId: x.SpanId, TraceId: x.TraceId, ParentSpanId: x.ParentSpanId, LinkedSpanIds: x.LinkedSpanIds,
		StartTs: x.StartTs, EndTs: x.EndTs, Name: x.Name,
		Tags: convert(x.Tags, genTag), Attributes: convert(x.Attributes, genAttribute),
		Counters: convert(x.Counters, func(c *Counter) *gen.Counter { return &gen.Counter{Name: c.Name, Value: c.Value} }),
		Events: convert(x.Events, func(e *SpanEvent) *gen.SpanEvent {
			return &gen.SpanEvent{Name: e.Name, EventTs: e.EventTs, Attributes: convert(e.Attributes, genAttribute)}
		}),
	}
}

func genLogBatch(x *LogBatch) *gen.LogBatch {
	return &gen.LogBatch{
		Tags: convert(x.Tags, genTag),
		LogEntries: convert(x.LogEntries, func(e *LogEntry) *gen.LogEntry {
			return &gen.LogEntry{EntryTs: e.EntryTs, Level: gen.LogEntry_LogLevel(e.Level), Message: e.Message,
				Exception: e.Exception, LogTs: e.LogTs}
		}),
	}
}

func genIssue(x *Issue) *gen.Issue {
	return &gen.Issue{IssueId: x.IssueId, Tags: convert(x.Tags, genTag), Name: x.Name, Severity: x.Severity,
		Title: x.Title, Description: x.Description, IssueTs: x.IssueTs}
}

func genResource(x *Resource) *gen.Resource {
	return &gen.Resource{ResourceId: x.ResourceId, Kind: x.Kind, Tags: convert(x.Tags, genTag),
		Attributes: convert(x.Attributes, genAttribute), FirstSeenTs: x.FirstSeenTs, LastSeenTs: x.LastSeenTs}
}

// canonical is protobuf-go's deterministic encoding of m (decode with
// DiscardUnknown to compare without unknown fields): equal messages have equal encodings (NaNs included, bit for bit).
func canonical(m proto.Message) []byte {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}
