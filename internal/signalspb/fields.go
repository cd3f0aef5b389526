package signalspb

import (
	"math"

	"github.com/graphsignal/graphsignal/internal/wire"
)

func (x *UploadRequest) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1:
		return decodeMessages(typ, b, &x.Spans)
	case 2:
		return decodeMessages(typ, b, &x.Metrics)
	case 3:
		return decodeMessages(typ, b, &x.Issues)
	case 4:
		return decodeMessages(typ, b, &x.LogBatches)
	case 5:
		return decodeVarint(typ, b, &x.UploadTs)
	case 6:
		return decodeMessages(typ, b, &x.Resources)
	}
	return 0, nil
}

func (x *UploadResponse) field(wire.Number, wire.Type, []byte) (int, error) {
	return 0, nil
}

func (x *Tag) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1:
		return decodeString(typ, b, &x.Key)
	case 2:
		return decodeString(typ, b, &x.Value)
	}
	return 0, nil
}

func (x *Metric) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1:
		return decodeString(typ, b, &x.MetricId)
	case 2:
		return decodeString(typ, b, &x.Name)
	case 3:
		return decodeMessages(typ, b, &x.Tags)
	case 4:
		return decodeVarint(typ, b, &x.Type)
	case 5:
		return decodeString(typ, b, &x.Unit)
	case 6:
		return decodeMessages(typ, b, &x.Datapoints)
	case 7:
		return decodeMessages(typ, b, &x.Fields)
	}
	return 0, nil
}

// field decodes DataPoint's fields. Like protobuf-go, a scalar case of the
// oneof replaces the value, and a message case merges into the value when
// it holds the same case and replaces it otherwise.
func (x *DataPoint) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1, 2:
		if typ != wire.Fixed64Type {
			return 0, nil
		}
		v, n := wire.ConsumeFixed64(b)
		if n < 0 {
			return 0, malformed(n)
		}
		if f := math.Float64frombits(v); num == 1 {
			x.Value = &DataPoint_Gauge{Gauge: f}
		} else {
			x.Value = &DataPoint_Total{Total: f}
		}
		return n, nil
	case 3:
		w, ok := x.Value.(*DataPoint_Summary_)
		if !ok || w.Summary == nil {
			w = &DataPoint_Summary_{Summary: new(DataPoint_Summary)}
		}
		return x.decodeCase(w, w.Summary, typ, b)
	case 4:
		w, ok := x.Value.(*DataPoint_Histogram_)
		if !ok || w.Histogram == nil {
			w = &DataPoint_Histogram_{Histogram: new(DataPoint_Histogram)}
		}
		return x.decodeCase(w, w.Histogram, typ, b)
	case 5:
		w, ok := x.Value.(*DataPoint_Profile_)
		if !ok || w.Profile == nil {
			w = &DataPoint_Profile_{Profile: new(DataPoint_Profile)}
		}
		return x.decodeCase(w, w.Profile, typ, b)
	case 10:
		return decodeVarint(typ, b, &x.MeasurementTs)
	}
	return 0, nil
}

// decodeCase decodes m, the message of the oneof's case w, and sets the
// oneof to w when it was.
func (x *DataPoint) decodeCase(w isDataPoint_Value, m message, typ wire.Type, b []byte) (int, error) {
	n, err := decodeMessage(typ, b, m)
	if n > 0 && err == nil {
		x.Value = w
	}
	return n, err
}

func (x *DataPoint_Summary) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1:
		return decodeVarint(typ, b, &x.Count)
	case 2:
		return decodeDouble(typ, b, &x.Sum)
	case 3:
		return decodeDouble(typ, b, &x.Sum2)
	}
	return 0, nil
}

func (x *DataPoint_Histogram) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1:
		return decodeDoubles(typ, b, &x.Bins)
	case 2:
		return decodeVarints(typ, b, &x.Counts)
	}
	return 0, nil
}

func (x *DataPoint_Profile) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1:
		return decodeVarints(typ, b, &x.FieldIds)
	case 2:
		return decodeDoubles(typ, b, &x.Values)
	}
	return 0, nil
}

func (x *ProfileField) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1:
		return decodeVarint(typ, b, &x.FieldId)
	case 2:
		return decodeVarint(typ, b, &x.Type)
	case 3:
		return decodeMap(typ, b, &x.Descriptor_)
	}
	return 0, nil
}

func (x *Span) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1:
		return decodeString(typ, b, &x.SpanId)
	case 2:
		return decodeString(typ, b, &x.TraceId)
	case 3:
		return decodeString(typ, b, &x.ParentSpanId)
	case 4:
		return decodeStrings(typ, b, &x.LinkedSpanIds)
	case 5:
		return decodeVarint(typ, b, &x.StartTs)
	case 6:
		return decodeVarint(typ, b, &x.EndTs)
	case 7:
		return decodeString(typ, b, &x.Name)
	case 8:
		return decodeMessages(typ, b, &x.Tags)
	case 9:
		return decodeMessages(typ, b, &x.Attributes)
	case 10:
		return decodeMessages(typ, b, &x.Counters)
	case 11:
		return decodeMessages(typ, b, &x.Events)
	}
	return 0, nil
}

func (x *SpanEvent) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1:
		return decodeString(typ, b, &x.Name)
	case 2:
		return decodeVarint(typ, b, &x.EventTs)
	case 3:
		return decodeMessages(typ, b, &x.Attributes)
	}
	return 0, nil
}

func (x *Attribute) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1:
		return decodeString(typ, b, &x.Name)
	case 2:
		return decodeString(typ, b, &x.Value)
	}
	return 0, nil
}

func (x *Counter) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 2:
		return decodeString(typ, b, &x.Name)
	case 4:
		return decodeDouble(typ, b, &x.Value)
	}
	return 0, nil
}

func (x *LogBatch) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1:
		return decodeMessages(typ, b, &x.Tags)
	case 2:
		return decodeMessages(typ, b, &x.LogEntries)
	}
	return 0, nil
}

func (x *LogEntry) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1:
		return decodeString(typ, b, &x.EntryTs)
	case 2:
		return decodeVarint(typ, b, &x.Level)
	case 3:
		return decodeString(typ, b, &x.Message)
	case 4:
		return decodeString(typ, b, &x.Exception)
	case 5:
		return decodeVarint(typ, b, &x.LogTs)
	}
	return 0, nil
}

func (x *Issue) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1:
		return decodeString(typ, b, &x.IssueId)
	case 2:
		return decodeMessages(typ, b, &x.Tags)
	case 3:
		return decodeString(typ, b, &x.Name)
	case 4:
		return decodeString(typ, b, &x.Severity)
	case 5:
		return decodeString(typ, b, &x.Title)
	case 6:
		return decodeString(typ, b, &x.Description)
	case 7:
		return decodeVarint(typ, b, &x.IssueTs)
	}
	return 0, nil
}

func (x *Resource) field(num wire.Number, typ wire.Type, b []byte) (int, error) {
	switch num {
	case 1:
		return decodeString(typ, b, &x.ResourceId)
	case 2:
		return decodeString(typ, b, &x.Kind)
	case 3:
		return decodeMessages(typ, b, &x.Tags)
	case 4:
		return decodeMessages(typ, b, &x.Attributes)
	case 5:
		return decodeVarint(typ, b, &x.FirstSeenTs)
	case 6:
		return decodeVarint(typ, b, &x.LastSeenTs)
	}
	return 0, nil
}
