// Package telemetry holds the data model shared by every part of graphsignal:
// spans, scores, metrics, logs and the identifiers that tie them into one
// trace per run. It does no I/O; producers (launcher, process monitor,
// intakes) create these values and consumers (store, exporters) read them.
//
// Values are plain data. A value handed to a consumer is owned by the
// consumer: producers must not mutate it afterwards.
package telemetry

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// TraceID is a W3C trace id (16 bytes). The zero value means "absent".
type TraceID [16]byte

// SpanID is a W3C span id (8 bytes). The zero value means "absent".
type SpanID [8]byte

// ErrBadID is returned by ParseTraceID and ParseSpanID for input that is not
// lower- or upper-case hex of the right length, or that is all zeros.
var ErrBadID = errors.New("invalid id")

// NewTraceID returns a random, non-zero trace id.
func NewTraceID() TraceID {
	var id TraceID
	for id.IsZero() {
		_, _ = rand.Read(id[:])
	}
	return id
}

// NewSpanID returns a random, non-zero span id.
func NewSpanID() SpanID {
	var id SpanID
	for id.IsZero() {
		_, _ = rand.Read(id[:])
	}
	return id
}

// IsZero reports whether the id is absent.
func (id TraceID) IsZero() bool { return id == TraceID{} }

// IsZero reports whether the id is absent.
func (id SpanID) IsZero() bool { return id == SpanID{} }

// String returns the id as 32 lower-case hex digits, or "" when absent.
func (id TraceID) String() string {
	if id.IsZero() {
		return ""
	}
	return hex.EncodeToString(id[:])
}

// String returns the id as 16 lower-case hex digits, or "" when absent.
func (id SpanID) String() string {
	if id.IsZero() {
		return ""
	}
	return hex.EncodeToString(id[:])
}

// ParseTraceID parses 32 hex digits. It returns an error wrapping ErrBadID
// for anything else, including the all-zero id.
func ParseTraceID(s string) (TraceID, error) {
	var id TraceID
	if err := parseHex(s, id[:]); err != nil {
		return TraceID{}, fmt.Errorf("trace id %q: %w", s, err)
	}
	return id, nil
}

// ParseSpanID parses 16 hex digits. It returns an error wrapping ErrBadID
// for anything else, including the all-zero id.
func ParseSpanID(s string) (SpanID, error) {
	var id SpanID
	if err := parseHex(s, id[:]); err != nil {
		return SpanID{}, fmt.Errorf("span id %q: %w", s, err)
	}
	return id, nil
}

func parseHex(s string, dst []byte) error {
	if len(s) != 2*len(dst) {
		return ErrBadID
	}
	if _, err := hex.Decode(dst, []byte(s)); err != nil {
		return ErrBadID
	}
	for _, b := range dst {
		if b != 0 {
			return nil
		}
	}
	return ErrBadID
}

// Tags are the unit of grouping: session_id, user_id, run_id, deployment and
// any user key. Keys are lower case by convention of the producers.
type Tags map[string]string

// Clone returns an independent copy (nil for an empty set).
func (t Tags) Clone() Tags {
	if len(t) == 0 {
		return nil
	}
	c := make(Tags, len(t))
	for k, v := range t {
		c[k] = v
	}
	return c
}

// Merge returns a copy of t with every entry of over applied on top.
func (t Tags) Merge(over Tags) Tags {
	c := make(Tags, len(t)+len(over))
	for k, v := range t {
		c[k] = v
	}
	for k, v := range over {
		c[k] = v
	}
	return c
}

// Well-known tag keys.
const (
	TagSessionID  = "session_id"
	TagUserID     = "user_id"
	TagRunID      = "run_id"
	TagDeployment = "deployment"
)

// Tag keys of a distributed job's facts (docs/distributed.md), set by the
// run from what the job's launcher or scheduler says. They are snake_case
// like session_id and run_id, so that a user can set each of them with
// GRAPHSIGNAL_TAG_<KEY>.
const (
	TagJobLauncher    = "job_launcher"      // slurm, kubernetes, torchrun or mpi
	TagJobID          = "job_id"            // the job's id
	TagJobName        = "job_name"          // the job's name
	TagJobRank        = "job_rank"          // decimal, the global rank
	TagJobLocalRank   = "job_local_rank"    // decimal, the rank on this node
	TagJobWorldSize   = "job_world_size"    // decimal, the number of ranks
	TagJobNodeRank    = "job_node_rank"     // decimal, this node's index
	TagJobNodes       = "job_nodes"         // decimal, the number of nodes
	TagJobNode        = "job_node"          // this node's name
	TagJobArrayID     = "job_array_id"      // the Slurm array's job id
	TagJobArrayTaskID = "job_array_task_id" // the Slurm array task's index
)

// Status is a span's outcome, as in OpenTelemetry.
type Status int

// Span statuses.
const (
	StatusUnset Status = iota
	StatusOK
	StatusError
)

// String returns "unset", "ok" or "error".
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusError:
		return "error"
	default:
		return "unset"
	}
}

// Span is one timed operation. The run itself is the root span of its trace;
// spans reported by the child are parented to it unless they name a parent.
//
// Attributes hold string, bool, int64, float64 or []string values.
type Span struct {
	TraceID       TraceID
	SpanID        SpanID
	ParentSpanID  SpanID
	Name          string
	Start         time.Time
	End           time.Time
	Tags          Tags
	Attributes    map[string]any
	Status        Status
	StatusMessage string
	Events        []Event
	Exceptions    []Exception
	Payloads      []Payload
	Usage         []Usage
	Scores        []Score
	// InSDKUpload marks a span decoded from an SDKUpload, which carries it
	// to the Graphsignal API whole.
	InSDKUpload bool
}

// IsRun reports whether s is a run span (attribute AttrSpanKind =
// SpanKindRun): the root span graphsignal writes for each run, which the
// pipeline never drops and the journal keeps room for.
func (s *Span) IsRun() bool {
	k, ok := s.Attributes[AttrSpanKind].(string)
	return ok && k == SpanKindRun
}

// Duration returns End-Start, or 0 when the span has not ended.
func (s *Span) Duration() time.Duration {
	if s.End.IsZero() || s.End.Before(s.Start) {
		return 0
	}
	return s.End.Sub(s.Start)
}

// Event is a timestamped annotation on a span.
type Event struct {
	Name       string
	Time       time.Time
	Attributes map[string]any
}

// Exception describes an error that happened during a span. For a run span
// Type names the kind of failure (see the ExitKind constants) and Message the
// details, with the tail of the child's stderr in StackTrace.
type Exception struct {
	Type       string
	Message    string
	StackTrace string
	Time       time.Time
}

// Payload is named data recorded on a span (prompt, completion, ...). Data is
// the raw bytes: JSON when ContentType is application/json.
type Payload struct {
	Name        string
	ContentType string
	Data        []byte
}

// Usage is a counter reported with a span, such as token_count, optionally
// tied to one of its payloads.
type Usage struct {
	PayloadName string
	Name        string
	Value       float64
}

// Kinds of token counts (Usage.TokenKind).
const (
	TokensInput         = "input"
	TokensOutput        = "output"
	TokensCacheRead     = "cache_read"
	TokensCacheCreation = "cache_creation"
	TokensOther         = "other" // total_tokens and other *_tokens counters
)

// TokenKind says what a usage counter counts when it counts tokens (a
// Tokens constant), or "" when it does not: the SDKs' names
// (prompt_tokens, completion_tokens, cached_tokens, …) and token_count of
// the input or output payload (input, prompt, request, messages; output,
// completion, response, choices).
func (u Usage) TokenKind() string {
	switch u.Name {
	case "prompt_tokens", "input_tokens":
		return TokensInput
	case "completion_tokens", "output_tokens":
		return TokensOutput
	case "cache_read_input_tokens", "cached_tokens":
		return TokensCacheRead
	case "cache_creation_input_tokens":
		return TokensCacheCreation
	case "token_count":
		switch u.PayloadName {
		case "input", "prompt", "request", "messages":
			return TokensInput
		case "output", "completion", "response", "choices":
			return TokensOutput
		}
		return TokensOther
	}
	if strings.HasSuffix(u.Name, "_tokens") {
		return TokensOther
	}
	return ""
}

// Score is an evaluation of a span, run, session or user: user feedback, an
// eval result, a guardrail verdict. SpanID is zero when the score is not tied
// to one span; Tags (run_id, session_id, user_id) say what it scores.
type Score struct {
	Name     string
	Value    float64
	Unit     string
	Comment  string
	Severity int
	Tags     Tags
	TraceID  TraceID
	SpanID   SpanID
	Time     time.Time
}

// MetricKind says how a metric's points combine.
type MetricKind int

// Metric kinds.
const (
	Gauge MetricKind = iota + 1
	Counter
	Histogram
)

// String returns "gauge", "counter" or "histogram".
func (k MetricKind) String() string {
	switch k {
	case Gauge:
		return "gauge"
	case Counter:
		return "counter"
	case Histogram:
		return "histogram"
	default:
		return "unknown"
	}
}

// ParseMetricKind is the inverse of MetricKind.String.
func ParseMetricKind(s string) (MetricKind, error) {
	switch s {
	case "gauge":
		return Gauge, nil
	case "counter":
		return Counter, nil
	case "histogram":
		return Histogram, nil
	}
	return 0, fmt.Errorf("metric kind %q: want gauge, counter or histogram", s)
}

// Metric is one data point of a time series. TraceID ties it to the run that
// produced it (zero for metrics recorded outside a run). A Counter's Value is the
// cumulative total since the start of the run. A Histogram carries Buckets
// (upper bounds) and Counts (len(Buckets)+1, the last for +Inf) plus Count
// and Sum; Value is unused for it.
type Metric struct {
	TraceID TraceID
	Name    string
	Kind    MetricKind
	Unit    string
	Tags    Tags
	Time    time.Time
	Value   float64
	Buckets []float64
	Counts  []uint64
	Count   uint64
	Sum     float64
	// InSDKUpload marks a point decoded from an SDKUpload.
	InSDKUpload bool
}

// Log is one log record, tied to a trace and optionally a span.
type Log struct {
	Time      time.Time
	Level     string
	Message   string
	Exception string
	Tags      Tags
	TraceID   TraceID
	SpanID    SpanID
	// InSDKUpload marks a log decoded from an SDKUpload.
	InSDKUpload bool
}

// ErrorLevels are the log levels, lower case, that count as errors (in
// error counts, `sessions --failed`, summaries).
var ErrorLevels = []string{"error", "err", "fatal", "critical", "crit", "alert", "emerg", "panic"}

// IsErrorLevel reports whether a log level, in any case, is an error level.
func IsErrorLevel(level string) bool {
	return slices.Contains(ErrorLevels, strings.ToLower(level))
}

// Units used in metric names and attributes.
const (
	UnitBytes   = "By"
	UnitSeconds = "s"
	UnitPercent = "%"
	UnitCount   = "{count}"
)

// Batch is a group of records handed from a producer to a consumer in one
// call. Any field may be empty.
type Batch struct {
	Spans      []Span
	Metrics    []Metric
	Scores     []Score
	Logs       []Log
	SDKUploads []SDKUpload
}

// SDKUpload is one request the official Graphsignal SDK in the program sent
// to the intake while graphsignal uploads to the Graphsignal API (cloud
// mode): the serialized UploadRequest (not compressed) with the run's tags
// merged into every tagged message, and every field kept as received,
// including those the model does not hold. The records decoded from it
// travel beside it with InSDKUpload set, for the local store; the Graphsignal
// API gets the SDKUpload itself (docs/upload.md).
type SDKUpload struct {
	Time time.Time
	Body []byte
}

// Len returns the number of records in the batch.
func (b *Batch) Len() int {
	return len(b.Spans) + len(b.Metrics) + len(b.Scores) + len(b.Logs) + len(b.SDKUploads)
}

// UnixNano is t in Unix nanoseconds, 0 for the zero time: the form in which
// the store and the journal keep times.
func UnixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromUnixNano is the inverse of UnixNano, in UTC.
func FromUnixNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
