package signalspb

// UploadRequest is one upload of signals: POST /api/v1/signals/ carries one,
// gzip-compressed.
type UploadRequest struct {
	Spans      []*Span     // field 1
	Metrics    []*Metric   // field 2
	Issues     []*Issue    // field 3
	LogBatches []*LogBatch // field 4
	UploadTs   int64       // field 5, Unix nanoseconds
	Resources  []*Resource // field 6
}

// UploadResponse is the (empty) answer to an UploadRequest.
type UploadResponse struct{}

// Tag is a key/value label of a span, metric, log batch, issue or resource.
type Tag struct {
	Key   string // field 1
	Value string // field 2
}

// Metric is a named series of data points.
type Metric struct {
	MetricId   string            // field 1
	Name       string            // field 2
	Tags       []*Tag            // field 3
	Type       Metric_MetricType // field 4
	Unit       string            // field 5
	Datapoints []*DataPoint      // field 6
	Fields     []*ProfileField   // field 7
}

// DataPoint is one measurement of a Metric.
type DataPoint struct {
	// Value is one of *DataPoint_Gauge, *DataPoint_Total,
	// *DataPoint_Summary_, *DataPoint_Histogram_, *DataPoint_Profile_, or nil.
	Value         isDataPoint_Value
	MeasurementTs int64 // field 10, Unix nanoseconds
}

// isDataPoint_Value is the oneof DataPoint.value.
type isDataPoint_Value interface{ isDataPoint_Value() }

// DataPoint_Gauge is DataPoint.value's case gauge (field 1).
type DataPoint_Gauge struct{ Gauge float64 }

// DataPoint_Total is DataPoint.value's case total (field 2).
type DataPoint_Total struct{ Total float64 }

// DataPoint_Summary_ is DataPoint.value's case summary (field 3).
type DataPoint_Summary_ struct{ Summary *DataPoint_Summary }

// DataPoint_Histogram_ is DataPoint.value's case histogram (field 4).
type DataPoint_Histogram_ struct{ Histogram *DataPoint_Histogram }

// DataPoint_Profile_ is DataPoint.value's case profile (field 5).
type DataPoint_Profile_ struct{ Profile *DataPoint_Profile }

func (*DataPoint_Gauge) isDataPoint_Value()      {}
func (*DataPoint_Total) isDataPoint_Value()      {}
func (*DataPoint_Summary_) isDataPoint_Value()   {}
func (*DataPoint_Histogram_) isDataPoint_Value() {}
func (*DataPoint_Profile_) isDataPoint_Value()   {}

// DataPoint_Summary is a count, sum and sum of squares.
type DataPoint_Summary struct {
	Count int64   // field 1
	Sum   float64 // field 2
	Sum2  float64 // field 3
}

// DataPoint_Histogram is bins (upper bounds) with their counts.
type DataPoint_Histogram struct {
	Bins   []float64 // field 1, packed
	Counts []int64   // field 2, packed
}

// DataPoint_Profile is one value per ProfileField.
type DataPoint_Profile struct {
	FieldIds []uint64  // field 1, packed
	Values   []float64 // field 2, packed
}

// ProfileField describes one field of a profile metric.
type ProfileField struct {
	FieldId     uint64                 // field 1
	Type        ProfileField_FieldType // field 2
	Descriptor_ map[string]string      // field 3 (named as protoc-gen-go names it)
}

// Span is one operation traced by the Graphsignal SDK.
type Span struct {
	SpanId        string       // field 1
	TraceId       string       // field 2
	ParentSpanId  string       // field 3
	LinkedSpanIds []string     // field 4
	StartTs       int64        // field 5, Unix nanoseconds
	EndTs         int64        // field 6, Unix nanoseconds
	Name          string       // field 7
	Tags          []*Tag       // field 8
	Attributes    []*Attribute // field 9
	Counters      []*Counter   // field 10
	Events        []*SpanEvent // field 11
}

// SpanEvent is a timed event within a Span.
type SpanEvent struct {
	Name       string       // field 1
	EventTs    int64        // field 2, Unix nanoseconds
	Attributes []*Attribute // field 3
}

// Attribute is a name/value property of a span, event or resource.
type Attribute struct {
	Name  string // field 1
	Value string // field 2
}

// Counter is a named number of a Span (token counts, durations).
type Counter struct {
	Name  string  // field 2
	Value float64 // field 4
}

// LogBatch is log entries sharing tags.
type LogBatch struct {
	Tags       []*Tag      // field 1
	LogEntries []*LogEntry // field 2
}

// LogEntry is one log record.
type LogEntry struct {
	EntryTs   string            // field 1
	Level     LogEntry_LogLevel // field 2
	Message   string            // field 3
	Exception string            // field 4
	LogTs     int64             // field 5, Unix nanoseconds
}

// Issue is a problem the SDK detected.
type Issue struct {
	IssueId     string // field 1
	Tags        []*Tag // field 2
	Name        string // field 3
	Severity    string // field 4
	Title       string // field 5
	Description string // field 6
	IssueTs     int64  // field 7, Unix nanoseconds
}

// Resource is a described entity (host, process, device) seen by the SDK.
type Resource struct {
	ResourceId  string       // field 1
	Kind        string       // field 2
	Tags        []*Tag       // field 3
	Attributes  []*Attribute // field 4
	FirstSeenTs int64        // field 5, Unix nanoseconds
	LastSeenTs  int64        // field 6, Unix nanoseconds
}
