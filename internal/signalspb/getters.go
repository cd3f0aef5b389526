package signalspb

// Getters return the zero value on a nil receiver, as generated code does.

// GetSpans returns x.Spans.
func (x *UploadRequest) GetSpans() []*Span {
	if x != nil {
		return x.Spans
	}
	return nil
}

// GetMetrics returns x.Metrics.
func (x *UploadRequest) GetMetrics() []*Metric {
	if x != nil {
		return x.Metrics
	}
	return nil
}

// GetIssues returns x.Issues.
func (x *UploadRequest) GetIssues() []*Issue {
	if x != nil {
		return x.Issues
	}
	return nil
}

// GetLogBatches returns x.LogBatches.
func (x *UploadRequest) GetLogBatches() []*LogBatch {
	if x != nil {
		return x.LogBatches
	}
	return nil
}

// GetUploadTs returns x.UploadTs.
func (x *UploadRequest) GetUploadTs() int64 {
	if x != nil {
		return x.UploadTs
	}
	return 0
}

// GetResources returns x.Resources.
func (x *UploadRequest) GetResources() []*Resource {
	if x != nil {
		return x.Resources
	}
	return nil
}

// GetKey returns x.Key.
func (x *Tag) GetKey() string {
	if x != nil {
		return x.Key
	}
	return ""
}

// GetValue returns x.Value.
func (x *Tag) GetValue() string {
	if x != nil {
		return x.Value
	}
	return ""
}

// GetSpanId returns x.SpanId.
func (x *Span) GetSpanId() string {
	if x != nil {
		return x.SpanId
	}
	return ""
}

// GetTraceId returns x.TraceId.
func (x *Span) GetTraceId() string {
	if x != nil {
		return x.TraceId
	}
	return ""
}

// GetParentSpanId returns x.ParentSpanId.
func (x *Span) GetParentSpanId() string {
	if x != nil {
		return x.ParentSpanId
	}
	return ""
}

// GetLinkedSpanIds returns x.LinkedSpanIds.
func (x *Span) GetLinkedSpanIds() []string {
	if x != nil {
		return x.LinkedSpanIds
	}
	return nil
}

// GetStartTs returns x.StartTs.
func (x *Span) GetStartTs() int64 {
	if x != nil {
		return x.StartTs
	}
	return 0
}

// GetEndTs returns x.EndTs.
func (x *Span) GetEndTs() int64 {
	if x != nil {
		return x.EndTs
	}
	return 0
}

// GetName returns x.Name.
func (x *Span) GetName() string {
	if x != nil {
		return x.Name
	}
	return ""
}

// GetTags returns x.Tags.
func (x *Span) GetTags() []*Tag {
	if x != nil {
		return x.Tags
	}
	return nil
}

// GetAttributes returns x.Attributes.
func (x *Span) GetAttributes() []*Attribute {
	if x != nil {
		return x.Attributes
	}
	return nil
}

// GetCounters returns x.Counters.
func (x *Span) GetCounters() []*Counter {
	if x != nil {
		return x.Counters
	}
	return nil
}

// GetEvents returns x.Events.
func (x *Span) GetEvents() []*SpanEvent {
	if x != nil {
		return x.Events
	}
	return nil
}

// GetName returns x.Name.
func (x *SpanEvent) GetName() string {
	if x != nil {
		return x.Name
	}
	return ""
}

// GetEventTs returns x.EventTs.
func (x *SpanEvent) GetEventTs() int64 {
	if x != nil {
		return x.EventTs
	}
	return 0
}

// GetAttributes returns x.Attributes.
func (x *SpanEvent) GetAttributes() []*Attribute {
	if x != nil {
		return x.Attributes
	}
	return nil
}

// GetName returns x.Name.
func (x *Attribute) GetName() string {
	if x != nil {
		return x.Name
	}
	return ""
}

// GetValue returns x.Value.
func (x *Attribute) GetValue() string {
	if x != nil {
		return x.Value
	}
	return ""
}

// GetName returns x.Name.
func (x *Counter) GetName() string {
	if x != nil {
		return x.Name
	}
	return ""
}

// GetValue returns x.Value.
func (x *Counter) GetValue() float64 {
	if x != nil {
		return x.Value
	}
	return 0
}

// GetTags returns x.Tags.
func (x *LogBatch) GetTags() []*Tag {
	if x != nil {
		return x.Tags
	}
	return nil
}

// GetLogEntries returns x.LogEntries.
func (x *LogBatch) GetLogEntries() []*LogEntry {
	if x != nil {
		return x.LogEntries
	}
	return nil
}

// GetEntryTs returns x.EntryTs.
func (x *LogEntry) GetEntryTs() string {
	if x != nil {
		return x.EntryTs
	}
	return ""
}

// GetLevel returns x.Level.
func (x *LogEntry) GetLevel() LogEntry_LogLevel {
	if x != nil {
		return x.Level
	}
	return 0
}

// GetMessage returns x.Message.
func (x *LogEntry) GetMessage() string {
	if x != nil {
		return x.Message
	}
	return ""
}

// GetException returns x.Exception.
func (x *LogEntry) GetException() string {
	if x != nil {
		return x.Exception
	}
	return ""
}

// GetLogTs returns x.LogTs.
func (x *LogEntry) GetLogTs() int64 {
	if x != nil {
		return x.LogTs
	}
	return 0
}

// GetIssueId returns x.IssueId.
func (x *Issue) GetIssueId() string {
	if x != nil {
		return x.IssueId
	}
	return ""
}

// GetTags returns x.Tags.
func (x *Issue) GetTags() []*Tag {
	if x != nil {
		return x.Tags
	}
	return nil
}

// GetName returns x.Name.
func (x *Issue) GetName() string {
	if x != nil {
		return x.Name
	}
	return ""
}

// GetSeverity returns x.Severity.
func (x *Issue) GetSeverity() string {
	if x != nil {
		return x.Severity
	}
	return ""
}

// GetTitle returns x.Title.
func (x *Issue) GetTitle() string {
	if x != nil {
		return x.Title
	}
	return ""
}

// GetDescription returns x.Description.
func (x *Issue) GetDescription() string {
	if x != nil {
		return x.Description
	}
	return ""
}

// GetIssueTs returns x.IssueTs.
func (x *Issue) GetIssueTs() int64 {
	if x != nil {
		return x.IssueTs
	}
	return 0
}

// GetResourceId returns x.ResourceId.
func (x *Resource) GetResourceId() string {
	if x != nil {
		return x.ResourceId
	}
	return ""
}

// GetKind returns x.Kind.
func (x *Resource) GetKind() string {
	if x != nil {
		return x.Kind
	}
	return ""
}

// GetTags returns x.Tags.
func (x *Resource) GetTags() []*Tag {
	if x != nil {
		return x.Tags
	}
	return nil
}

// GetAttributes returns x.Attributes.
func (x *Resource) GetAttributes() []*Attribute {
	if x != nil {
		return x.Attributes
	}
	return nil
}

// GetFirstSeenTs returns x.FirstSeenTs.
func (x *Resource) GetFirstSeenTs() int64 {
	if x != nil {
		return x.FirstSeenTs
	}
	return 0
}

// GetLastSeenTs returns x.LastSeenTs.
func (x *Resource) GetLastSeenTs() int64 {
	if x != nil {
		return x.LastSeenTs
	}
	return 0
}
