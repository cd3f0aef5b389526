package httpintake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/signalspb"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Graphsignal SDK conventions.
const (
	headerAPIKey   = "X-API-Key"
	sdkStatusTag   = "span.status" // "error" marks a failed span
	sdkIntakeValue = "graphsignal_sdk"
)

// authorized checks X-API-Key in constant time, answering 401 when wrong.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	got := r.Header.Get(headerAPIKey)
	if s.cfg.APIKey != "" && constantTimeEqual(got, s.cfg.APIKey) {
		return true
	}
	s.stats.unauthorized.Add(1)
	http.Error(w, "invalid API key", http.StatusUnauthorized)
	return false
}

// SDKConfigSource gives the Graphsignal SDK's options as the Graphsignal
// API answers them (in cloud mode: sdkconfig.Fetcher).
type SDKConfigSource interface {
	// Options returns the sdk_config JSON ({"options":[…]}), or nil when
	// none is known. It returns by the time ctx is done.
	Options(ctx context.Context) []byte
}

// handleSDKConfig serves GET /api/v1/sdk_config/: the options that make the
// Graphsignal SDK send its spans. With Config.SDKConfig they are the
// Graphsignal API's (waiting at most Config.SDKConfigWait for them), and
// the local default when it has none.
func (s *Server) handleSDKConfig(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodGet) || !s.authorized(w, r) {
		return
	}
	if s.cfg.SDKConfig != nil {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.SDKConfigWait)
		body := s.cfg.SDKConfig.Options(ctx)
		cancel()
		if body != nil {
			s.stats.sdkConfigFromAPI.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
			return
		}
	}
	type option struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	body, _ := json.Marshal(struct {
		Options []option `json:"options"`
	}{[]option{{"traces_per_sec", strconv.FormatFloat(s.cfg.TracesPerSec, 'f', -1, 64)}}})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// handleSignals serves POST /api/v1/signals/: a gzip protobuf UploadRequest.
func (s *Server) handleSignals(w http.ResponseWriter, r *http.Request) {
	if !allowMethod(w, r, http.MethodPost) || !s.authorized(w, r) {
		return
	}
	body, err := readBody(w, r, s.cfg.MaxBodyBytes, false)
	if err != nil {
		s.signalsError(w, statusFor(err), err)
		return
	}
	now := s.cfg.Now()
	b, err := s.decodeSignals(body, s.ownRun(), now)
	if err == nil && s.cfg.PassThrough {
		err = s.passThrough(&b, body, now)
	}
	if err != nil {
		s.signalsError(w, http.StatusBadRequest, err)
		return
	}
	s.stats.batch(&b)
	s.consume(b)
	resp := (&signalspb.UploadResponse{}).Marshal()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(resp)
}

// sdkRun is the run whose defaults the records of an UploadRequest take:
// its trace (for records without one) and its run span (the parent of
// root spans in that trace).
type sdkRun struct {
	trace   telemetry.TraceID
	runSpan telemetry.SpanID
}

// ownRun is this intake's run (Config.TraceID, Config.RunSpanID).
func (s *Server) ownRun() sdkRun { return sdkRun{s.cfg.TraceID, s.cfg.RunSpanID} }

// decodeSignals maps an UploadRequest (serialized, not compressed) to
// records with run's defaults and the intake's tags under their own
// (docs/intake.md).
func (s *Server) decodeSignals(body []byte, run sdkRun, now time.Time) (telemetry.Batch, error) {
	var req signalspb.UploadRequest
	if err := req.Unmarshal(body); err != nil {
		return telemetry.Batch{}, fmt.Errorf("decode upload request: %w", err)
	}
	b := telemetry.Batch{Spans: make([]telemetry.Span, 0, len(req.GetSpans()))}
	for _, sp := range req.GetSpans() {
		b.Spans = append(b.Spans, s.sdkSpan(sp, run, now))
	}
	for _, m := range req.GetMetrics() {
		b.Metrics = s.sdkMetric(b.Metrics, m, run, now)
	}
	for _, lb := range req.GetLogBatches() {
		b.Logs = s.sdkLogs(b.Logs, lb, run, now)
	}
	return b, nil
}

// ForwardedUpload is an SDK upload that a nested run forwarded whole
// through the enclosing run's socket (docs/protocol.md, "sdk_upload"): the
// nested run's telemetry.SDKUpload and the run it was received by.
type ForwardedUpload struct {
	Time    time.Time
	Body    []byte            // the UploadRequest, the nested run's tags merged in
	TraceID telemetry.TraceID // the nested run's trace; zero: this intake's
	RunSpan telemetry.SpanID  // the nested run's span; zero: this intake's
}

// DecodeForwarded maps a forwarded upload to what handleSignals would have
// handed the consumer had the request come here, with the nested run's
// trace and run span as the records' defaults and this intake's tags
// (the run's and context tags) under the body's own. In cloud mode
// (Config.PassThrough) the batch carries the body itself as an SDKUpload,
// unchanged (the nested run merged its own tags into it; merging this
// run's would replace its run_id) and the records carry InSDKUpload. The
// records are counted in Stats like those of a request. Decoding is held
// within the intake's in-flight bound (Config.InFlightBytes): a body that
// would pass it is refused with an error, as one that does not decode. Safe for concurrent use, also after Close; the caller
// hands the batch on.
func (s *Server) DecodeForwarded(u ForwardedUpload) (telemetry.Batch, error) {
	h := &hold{f: &s.inflight}
	defer h.release()
	if err := h.take(int64(len(u.Body)) + decodeHold(int64(len(u.Body)), false)); err != nil {
		return telemetry.Batch{}, fmt.Errorf("forwarded SDK upload: %w", err)
	}
	run := s.ownRun()
	if !u.TraceID.IsZero() {
		run.trace = u.TraceID
	}
	if !u.RunSpan.IsZero() {
		run.runSpan = u.RunSpan
	}
	b, err := s.decodeSignals(u.Body, run, u.Time)
	if err != nil {
		return telemetry.Batch{}, fmt.Errorf("forwarded SDK upload: %w", err)
	}
	if s.cfg.PassThrough {
		markInSDKUpload(&b)
		b.SDKUploads = append(b.SDKUploads, telemetry.SDKUpload{Time: u.Time, Body: u.Body})
	}
	s.stats.batch(&b)
	return b, nil
}

// passThrough adds the request itself to b, with the run's tags merged,
// and marks the records decoded from it (Config.PassThrough).
func (s *Server) passThrough(b *telemetry.Batch, body []byte, now time.Time) error {
	merged, err := signalspb.MergeTags(body, s.tags())
	if err != nil {
		return fmt.Errorf("merge run tags into upload request: %w", err)
	}
	b.SDKUploads = append(b.SDKUploads, telemetry.SDKUpload{Time: now, Body: merged})
	markInSDKUpload(b)
	return nil
}

// markInSDKUpload marks b's records as carried by an SDKUpload.
func markInSDKUpload(b *telemetry.Batch) {
	for i := range b.Spans {
		b.Spans[i].InSDKUpload = true
	}
	for i := range b.Metrics {
		b.Metrics[i].InSDKUpload = true
	}
	for i := range b.Logs {
		b.Logs[i].InSDKUpload = true
	}
}

func (s *Server) signalsError(w http.ResponseWriter, code int, err error) {
	switch code {
	case http.StatusRequestEntityTooLarge:
		s.stats.tooLarge.Add(1)
	case http.StatusUnsupportedMediaType:
		s.stats.unsupportedMedia.Add(1)
	case http.StatusTooManyRequests:
		s.stats.throttled.Add(1)
		w.Header().Set("Retry-After", "1")
	default:
		s.stats.badRequests.Add(1)
	}
	http.Error(w, err.Error(), code)
}

// sdkSpan maps a Graphsignal SDK span (docs/intake.md).
func (s *Server) sdkSpan(sp *signalspb.Span, run sdkRun, now time.Time) telemetry.Span {
	ts := telemetry.Span{
		TraceID:      sdkTraceID(sp.GetTraceId()),
		SpanID:       sdkSpanID(sp.GetSpanId()),
		ParentSpanID: sdkSpanID(sp.GetParentSpanId()),
		Name:         sp.GetName(),
		Start:        timeOr(sp.GetStartTs(), now),
		End:          timeOr(sp.GetEndTs(), time.Time{}),
		Tags:         make(telemetry.Tags, len(sp.GetTags())+s.tagCount()),
		Attributes:   make(map[string]any, len(sp.GetAttributes())+2),
	}
	if ts.TraceID.IsZero() {
		ts.TraceID = run.trace
	}
	if ts.SpanID.IsZero() {
		ts.SpanID = telemetry.NewSpanID()
	}
	ts.ParentSpanID = run.parentFor(ts.TraceID, ts.SpanID, ts.ParentSpanID)
	for _, t := range sp.GetTags() {
		ts.Tags[t.GetKey()] = t.GetValue()
	}
	if ts.Tags[sdkStatusTag] == "error" {
		ts.Status = telemetry.StatusError
	}
	ts.Tags = s.runTags(ts.Tags)
	for _, a := range sp.GetAttributes() {
		if s.cfg.RecordPayloads || !isContentAttr(a.GetName()) {
			ts.Attributes[a.GetName()] = a.GetValue()
		}
	}
	ts.Attributes[attrIntake] = sdkIntakeValue
	if ids := sp.GetLinkedSpanIds(); len(ids) > 0 {
		linked := make([]string, len(ids))
		for i, id := range ids {
			linked[i] = sdkSpanID(id).String()
		}
		ts.Attributes[attrLinkedSpanIDs] = linked
	}
	for _, c := range sp.GetCounters() {
		ts.Usage = append(ts.Usage, telemetry.Usage{Name: c.GetName(), Value: c.GetValue()})
	}
	for _, ev := range sp.GetEvents() {
		at := timeOr(ev.GetEventTs(), ts.Start)
		if ev.GetName() == "exception" {
			get := func(k string) string {
				for _, a := range ev.GetAttributes() {
					if a.GetName() == k {
						return a.GetValue()
					}
				}
				return ""
			}
			ts.Exceptions = append(ts.Exceptions, exceptionFrom(get, at))
			ts.Status = telemetry.StatusError
			continue
		}
		if !s.cfg.RecordPayloads && isContentEvent(ev.GetName()) {
			continue
		}
		e := telemetry.Event{Name: ev.GetName(), Time: at}
		for _, a := range ev.GetAttributes() {
			if !s.cfg.RecordPayloads && isContentAttr(a.GetName()) {
				continue
			}
			if e.Attributes == nil {
				e.Attributes = make(map[string]any, len(ev.GetAttributes()))
			}
			e.Attributes[a.GetName()] = a.GetValue()
		}
		ts.Events = append(ts.Events, e)
	}
	return ts
}

// sdkMetric maps one Graphsignal SDK metric's data points. The SDK sends
// per-upload deltas for counters, summaries and histograms; they are
// accumulated into cumulative values. Profiles are dropped and counted.
func (s *Server) sdkMetric(out []telemetry.Metric, m *signalspb.Metric, run sdkRun, now time.Time) []telemetry.Metric {
	tags := make(telemetry.Tags, len(m.GetTags())+s.tagCount())
	for _, t := range m.GetTags() {
		tags[t.GetKey()] = t.GetValue()
	}
	tags = s.runTags(tags)
	for _, dp := range m.GetDatapoints() {
		tm := telemetry.Metric{
			TraceID: run.trace, Name: m.GetName(), Unit: m.GetUnit(),
			Tags: tags.Clone(), Time: timeOr(dp.GetMeasurementTs(), now),
		}
		ok := true
		switch v := dp.GetValue().(type) {
		case *signalspb.DataPoint_Gauge:
			tm.Kind, tm.Value = telemetry.Gauge, v.Gauge
		case *signalspb.DataPoint_Total:
			tm.Kind = telemetry.Counter
			tm.Value, ok = s.cum.addCounter(tm.Name, tm.Tags, v.Total)
		case *signalspb.DataPoint_Summary_:
			tm.Kind = telemetry.Histogram
			tm.Counts = []uint64{uint64(max(v.Summary.GetCount(), 0))}
			tm.Count, tm.Sum = tm.Counts[0], v.Summary.GetSum()
			ok = s.cum.addHistogram(&tm)
		case *signalspb.DataPoint_Histogram_:
			tm.Kind = telemetry.Histogram
			ok = s.cum.addBins(&tm, v.Histogram.GetBins(), v.Histogram.GetCounts())
		default:
			ok = false
		}
		if !ok {
			s.stats.dropped.Add(1)
			continue
		}
		out = append(out, tm)
	}
	return out
}

// sdkLogs maps a Graphsignal SDK log batch; entries belong to the run's trace.
func (s *Server) sdkLogs(out []telemetry.Log, lb *signalspb.LogBatch, run sdkRun, now time.Time) []telemetry.Log {
	tags := make(telemetry.Tags, len(lb.GetTags())+s.tagCount())
	for _, t := range lb.GetTags() {
		tags[t.GetKey()] = t.GetValue()
	}
	tags = s.runTags(tags)
	for _, e := range lb.GetLogEntries() {
		out = append(out, telemetry.Log{
			Time:      timeOr(e.GetLogTs(), now),
			Level:     sdkLevel(e.GetLevel()),
			Message:   e.GetMessage(),
			Exception: e.GetException(),
			Tags:      tags.Clone(),
			TraceID:   run.trace,
		})
	}
	return out
}

// sdkLevel maps the proto's LogLevel to trace, debug, info, warning, error,
// critical ("" when unspecified).
func sdkLevel(l signalspb.LogEntry_LogLevel) string {
	switch l {
	case signalspb.LogEntry_UNSPECIFIED_LEVEL:
		return ""
	case signalspb.LogEntry_TRACE_LEVEL, signalspb.LogEntry_DEBUG_LEVEL, signalspb.LogEntry_INFO_LEVEL,
		signalspb.LogEntry_WARNING_LEVEL, signalspb.LogEntry_ERROR_LEVEL, signalspb.LogEntry_CRITICAL_LEVEL:
		return strings.ToLower(strings.TrimSuffix(l.String(), "_LEVEL"))
	}
	return ""
}

// sdkSpanID normalises a Graphsignal SDK span id (the SDK uses 12 hex
// digits) to a W3C span id: hex of up to 16 digits is left-padded with
// zeros; anything else is hashed (first 8 bytes of SHA-256). "" is zero.
func sdkSpanID(s string) telemetry.SpanID {
	var id telemetry.SpanID
	normaliseID(s, id[:])
	return id
}

// sdkTraceID normalises a Graphsignal SDK trace id like sdkSpanID, to 16 bytes.
func sdkTraceID(s string) telemetry.TraceID {
	var id telemetry.TraceID
	normaliseID(s, id[:])
	return id
}

func normaliseID(s string, dst []byte) {
	if s == "" {
		return
	}
	if len(s) <= 2*len(dst) {
		padded := strings.Repeat("0", 2*len(dst)-len(s)) + strings.ToLower(s)
		if _, err := hex.Decode(dst, []byte(padded)); err == nil {
			return
		}
	}
	sum := sha256.Sum256([]byte(s))
	copy(dst, sum[:])
}
