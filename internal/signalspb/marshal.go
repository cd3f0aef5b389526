package signalspb

// AppendMarshal appends the encoding of x to b (see the package doc).
func (x *UploadRequest) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendMessages(b, 1, x.Spans)
	b = appendMessages(b, 2, x.Metrics)
	b = appendMessages(b, 3, x.Issues)
	b = appendMessages(b, 4, x.LogBatches)
	b = appendVarint(b, 5, x.UploadTs)
	return appendMessages(b, 6, x.Resources)
}

// AppendMarshal appends the encoding of x, which is empty, to b.
func (x *UploadResponse) AppendMarshal(b []byte) []byte { return b }

// AppendMarshal appends the encoding of x to b (see the package doc).
func (x *Tag) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendString(b, 1, x.Key)
	return appendString(b, 2, x.Value)
}

// AppendMarshal appends the encoding of x to b (see the package doc).
func (x *Metric) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendString(b, 1, x.MetricId)
	b = appendString(b, 2, x.Name)
	b = appendMessages(b, 3, x.Tags)
	b = appendVarint(b, 4, x.Type)
	b = appendString(b, 5, x.Unit)
	b = appendMessages(b, 6, x.Datapoints)
	return appendMessages(b, 7, x.Fields)
}

// AppendMarshal appends the encoding of x to b (see the package doc). The
// oneof's case is written whenever it is set, even to a zero value; a case
// holding a nil message is written as an empty one. The oneof comes after
// measurement_ts, as protobuf-go orders it.
func (x *DataPoint) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendVarint(b, 10, x.MeasurementTs)
	switch v := x.Value.(type) {
	case *DataPoint_Gauge:
		b = appendFixed64(b, 1, v.Gauge)
	case *DataPoint_Total:
		b = appendFixed64(b, 2, v.Total)
	case *DataPoint_Summary_:
		b = appendMessage(b, 3, v.Summary)
	case *DataPoint_Histogram_:
		b = appendMessage(b, 4, v.Histogram)
	case *DataPoint_Profile_:
		b = appendMessage(b, 5, v.Profile)
	}
	return b
}

// AppendMarshal appends the encoding of x to b (see the package doc).
func (x *DataPoint_Summary) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendVarint(b, 1, x.Count)
	b = appendDouble(b, 2, x.Sum)
	return appendDouble(b, 3, x.Sum2)
}

// AppendMarshal appends the encoding of x to b (see the package doc).
func (x *DataPoint_Histogram) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendPackedDoubles(b, 1, x.Bins)
	return appendPackedVarints(b, 2, x.Counts)
}

// AppendMarshal appends the encoding of x to b (see the package doc).
func (x *DataPoint_Profile) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendPackedVarints(b, 1, x.FieldIds)
	return appendPackedDoubles(b, 2, x.Values)
}

// AppendMarshal appends the encoding of x to b (see the package doc).
func (x *ProfileField) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendVarint(b, 1, x.FieldId)
	b = appendVarint(b, 2, x.Type)
	return appendMap(b, 3, x.Descriptor_)
}

// AppendMarshal appends the encoding of x to b (see the package doc).
func (x *Span) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendString(b, 1, x.SpanId)
	b = appendString(b, 2, x.TraceId)
	b = appendString(b, 3, x.ParentSpanId)
	b = appendStrings(b, 4, x.LinkedSpanIds)
	b = appendVarint(b, 5, x.StartTs)
	b = appendVarint(b, 6, x.EndTs)
	b = appendString(b, 7, x.Name)
	b = appendMessages(b, 8, x.Tags)
	b = appendMessages(b, 9, x.Attributes)
	b = appendMessages(b, 10, x.Counters)
	return appendMessages(b, 11, x.Events)
}

// AppendMarshal appends the encoding of x to b (see the package doc).
func (x *SpanEvent) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendString(b, 1, x.Name)
	b = appendVarint(b, 2, x.EventTs)
	return appendMessages(b, 3, x.Attributes)
}

// AppendMarshal appends the encoding of x to b (see the package doc).
func (x *Attribute) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendString(b, 1, x.Name)
	return appendString(b, 2, x.Value)
}

// AppendMarshal appends the encoding of x to b (see the package doc).
func (x *Counter) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendString(b, 2, x.Name)
	return appendDouble(b, 4, x.Value)
}

// AppendMarshal appends the encoding of x to b (see the package doc).
func (x *LogBatch) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendMessages(b, 1, x.Tags)
	return appendMessages(b, 2, x.LogEntries)
}

// AppendMarshal appends the encoding of x to b (see the package doc).
func (x *LogEntry) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendString(b, 1, x.EntryTs)
	b = appendVarint(b, 2, x.Level)
	b = appendString(b, 3, x.Message)
	b = appendString(b, 4, x.Exception)
	return appendVarint(b, 5, x.LogTs)
}

// AppendMarshal appends the encoding of x to b (see the package doc).
func (x *Issue) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendString(b, 1, x.IssueId)
	b = appendMessages(b, 2, x.Tags)
	b = appendString(b, 3, x.Name)
	b = appendString(b, 4, x.Severity)
	b = appendString(b, 5, x.Title)
	b = appendString(b, 6, x.Description)
	return appendVarint(b, 7, x.IssueTs)
}

// AppendMarshal appends the encoding of x to b (see the package doc).
func (x *Resource) AppendMarshal(b []byte) []byte {
	if x == nil {
		return b
	}
	b = appendString(b, 1, x.ResourceId)
	b = appendString(b, 2, x.Kind)
	b = appendMessages(b, 3, x.Tags)
	b = appendMessages(b, 4, x.Attributes)
	b = appendVarint(b, 5, x.FirstSeenTs)
	return appendVarint(b, 6, x.LastSeenTs)
}
