package otlpexport

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestSendHTTP(t *testing.T) {
	for _, proto := range []string{ProtocolHTTPProtobuf, ProtocolHTTPJSON} {
		t.Run(proto, func(t *testing.T) {
			r := newReceiver(t)
			cfg := r.config(proto)
			cfg.Version = "1.2.3"
			s := newSender(t, cfg)
			want := "OTLP " + r.srv.URL
			if proto == ProtocolHTTPJSON {
				want += " (http/json)"
			}
			if got := s.Name(); got != want {
				t.Errorf("Name() = %q, want %q", got, want)
			}
			res, err := s.Send(context.Background(), testBatch())
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			reqs := r.requests()
			if len(reqs) != 3 {
				t.Fatalf("got %d requests, want 3", len(reqs))
			}
			wire := 0
			for _, q := range reqs {
				wire += q.wire
				wantType := "application/x-protobuf"
				if proto == ProtocolHTTPJSON {
					wantType = "application/json"
				}
				if got := q.header.Get("Content-Type"); got != wantType {
					t.Errorf("%s Content-Type = %q, want %q", q.path, got, wantType)
				}
				if got := q.header.Get("Content-Encoding"); got != "gzip" {
					t.Errorf("%s Content-Encoding = %q, want gzip", q.path, got)
				}
				if got := q.header.Get("User-Agent"); got != "graphsignal/1.2.3" {
					t.Errorf("%s User-Agent = %q", q.path, got)
				}
				if got := q.header.Get("Authorization"); got != "Bearer tok-123" {
					t.Errorf("%s Authorization = %q", q.path, got)
				}
			}
			if res.Bytes != wire || res.Rejected != 0 {
				t.Errorf("Result = %+v, want Bytes %d (as received), Rejected 0", res, wire)
			}
			if n := r.conns.Load(); n != 3 {
				t.Errorf("%d connections for the three signals, want 3 (one each: sent at once)", n)
			}
			if _, err := s.Send(context.Background(), testBatch()); err != nil {
				t.Fatalf("second Send: %v", err)
			}
			if n := r.conns.Load(); n != 3 {
				t.Errorf("%d connections after a second Send, want the 3 reused", n)
			}
			checkTraces(t, reqs[0].traces)
			checkMetrics(t, reqs[1].metrics)
			checkLogs(t, reqs[2].logs)
		})
	}
}

// wantResource is the resource of the run's own records.
var wantResource = map[string]any{
	"service.name":                "train",
	"deployment.environment.name": "ci",
	"process.executable.name":     "python",
	"process.command_args":        []any{"python", "train.py"},
	"process.pid":                 int64(4242),
	"host.name":                   "builder-7",
	"cicd.pipeline.run.id":        "99",
	"vcs.ref.head.revision":       "abc123",
	"session.id":                  "sess-1",
	"graphsignal.tag.session_id":  "sess-1",
	"graphsignal.run.id":          "run-1",
	"graphsignal.tag.run_id":      "run-1",
}

// withAttrs returns a copy of m with extra entries.
func withAttrs(m map[string]any, extra map[string]any) map[string]any {
	out := make(map[string]any, len(m)+len(extra))
	for k, v := range m {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func checkTraces(t *testing.T, td ptrace.Traces) {
	t.Helper()
	if td.SpanCount() != 3 {
		t.Fatalf("SpanCount = %d, want 3", td.SpanCount())
	}
	rss := td.ResourceSpans()
	if rss.Len() != 2 {
		t.Fatalf("%d resources, want 2 (the run's, the program's service)", rss.Len())
	}
	// The run's resource holds the run span and the Graphsignal SDK span.
	if diff := cmp.Diff(wantResource, rss.At(0).Resource().Attributes().AsRaw()); diff != "" {
		t.Errorf("run resource (-want +got):\n%s", diff)
	}
	wantProgram := withAttrs(wantResource, map[string]any{"service.name": "predictor", "host.arch": "amd64"})
	if diff := cmp.Diff(wantProgram, rss.At(1).Resource().Attributes().AsRaw()); diff != "" {
		t.Errorf("program resource (-want +got):\n%s", diff)
	}
	ss := rss.At(0).ScopeSpans()
	if ss.Len() != 1 || ss.At(0).Scope().Name() != "graphsignal" {
		t.Fatalf("run scopes: %d, first %q", ss.Len(), ss.At(0).Scope().Name())
	}
	run, sdk := ss.At(0).Spans().At(0), ss.At(0).Spans().At(1)
	ps := rss.At(1).ScopeSpans()
	if ps.Len() != 1 || ps.At(0).Scope().Name() != "net/http" || ps.At(0).Scope().Version() != "1.2.3" {
		t.Fatalf("program scope = %v", ps.At(0).Scope())
	}
	prog := ps.At(0).Spans().At(0)

	// Run span.
	checkSpan(t, run, telemetry.SpanID(testRunSpan), telemetry.SpanID{}, "python train.py", ptrace.SpanKindInternal)
	if run.Status().Code() != ptrace.StatusCodeError || run.Status().Message() != "exit code 1" {
		t.Errorf("run status = %v %q", run.Status().Code(), run.Status().Message())
	}
	if got, want := run.EndTimestamp().AsTime(), testStart.Add(3e9); !got.Equal(want) {
		t.Errorf("run end = %v, want %v", got, want)
	}
	wantRunAttrs := map[string]any{
		"graphsignal.span.kind":      "run",
		"process.executable.name":    "python",
		"process.command_args":       []any{"python", "train.py"},
		"process.pid":                int64(4242),
		"process.exit.code":          int64(1),
		"host.name":                  "builder-7",
		"process.memory.peak_rss":    int64(1 << 30),
		"cicd.pipeline.run.id":       "99",
		"vcs.ref.head.revision":      "abc123",
		"graphsignal.tag.deployment": "train",
		"graphsignal.tag.team":       "ml",
	}
	if diff := cmp.Diff(wantRunAttrs, run.Attributes().AsRaw()); diff != "" {
		t.Errorf("run attributes (-want +got):\n%s", diff)
	}
	if run.Events().Len() != 1 {
		t.Fatalf("run events = %d, want 1", run.Events().Len())
	}
	checkEvent(t, run.Events().At(0), "exception", map[string]any{
		"exception.type": "exit_code", "exception.message": "exited with code 1", "exception.stacktrace": "Traceback...",
	})

	// The program's span: parent, kind, attributes without the intake's
	// structural ones.
	checkSpan(t, prog, telemetry.SpanID(testOTel), telemetry.SpanID(testRunSpan), "GET /predict", ptrace.SpanKindServer)
	if prog.Status().Code() != ptrace.StatusCodeOk {
		t.Errorf("program status = %v", prog.Status().Code())
	}
	wantProg := map[string]any{
		"graphsignal.intake": "otlp", "http.route": "/predict", "http.status_code": int64(200),
		"retry": false, "ratio": 0.5,
		"graphsignal.tag.deployment": "train", "graphsignal.tag.team": "ml",
		"graphsignal.tag.user_id": "u-9", "user.id": "u-9",
	}
	if diff := cmp.Diff(wantProg, prog.Attributes().AsRaw()); diff != "" {
		t.Errorf("program span attributes (-want +got):\n%s", diff)
	}
	if prog.Events().Len() != 1 {
		t.Fatalf("program events = %d", prog.Events().Len())
	}
	checkEvent(t, prog.Events().At(0), "cache.miss", map[string]any{"key": "k1"})

	// The Graphsignal SDK's span: usage, payloads, exception and score.
	checkSpan(t, sdk, telemetry.SpanID(testSDK), telemetry.SpanID(testOTel), "openai.chat", ptrace.SpanKindUnspecified)
	wantSDK := map[string]any{
		"graphsignal.intake": "graphsignal_sdk", "model": "gpt-4o",
		"graphsignal.tag.deployment": "train", "graphsignal.tag.team": "ml",
		"gen_ai.usage.input_tokens":              int64(15),
		"gen_ai.usage.output_tokens":             int64(30),
		"graphsignal.usage.cost":                 0.25,
		"graphsignal.usage.output.chars":         99.0,
		"graphsignal.payload.input":              `{"q":"hi"}`,
		"graphsignal.payload.input.content_type": "application/json",
		"graphsignal.payload.blob":               "//4=",
		"graphsignal.payload.blob.encoding":      "base64",
	}
	if diff := cmp.Diff(wantSDK, sdk.Attributes().AsRaw()); diff != "" {
		t.Errorf("SDK span attributes (-want +got):\n%s", diff)
	}
	if sdk.Events().Len() != 2 {
		t.Fatalf("SDK span events = %d, want 2", sdk.Events().Len())
	}
	checkEvent(t, sdk.Events().At(0), "exception", map[string]any{"exception.type": "ValueError", "exception.message": "bad"})
	checkEvent(t, sdk.Events().At(1), "graphsignal.score", map[string]any{
		"graphsignal.score.name": "relevance", "graphsignal.score.value": 0.9, "graphsignal.score.unit": "ratio",
		"graphsignal.score.comment": "good", "graphsignal.score.severity": int64(2),
	})
}

func checkSpan(t *testing.T, sp ptrace.Span, id, parent telemetry.SpanID, name string, kind ptrace.SpanKind) {
	t.Helper()
	if telemetry.TraceID(sp.TraceID()) != testTrace {
		t.Errorf("%s: trace id %v", name, sp.TraceID())
	}
	if telemetry.SpanID(sp.SpanID()) != id || telemetry.SpanID(sp.ParentSpanID()) != parent {
		t.Errorf("%s: span %v parent %v, want %v %v", name, sp.SpanID(), sp.ParentSpanID(), id, parent)
	}
	if sp.Name() != name || sp.Kind() != kind {
		t.Errorf("span %q kind %v, want %q %v", sp.Name(), sp.Kind(), name, kind)
	}
	if sp.StartTimestamp() == 0 || sp.EndTimestamp() < sp.StartTimestamp() {
		t.Errorf("%s: times %v..%v", name, sp.StartTimestamp(), sp.EndTimestamp())
	}
}

func checkEvent(t *testing.T, ev ptrace.SpanEvent, name string, attrs map[string]any) {
	t.Helper()
	if ev.Name() != name || ev.Timestamp() == 0 {
		t.Errorf("event %q at %v, want %q", ev.Name(), ev.Timestamp(), name)
	}
	if diff := cmp.Diff(attrs, ev.Attributes().AsRaw()); diff != "" {
		t.Errorf("event %s attributes (-want +got):\n%s", name, diff)
	}
}

func checkMetrics(t *testing.T, md pmetric.Metrics) {
	t.Helper()
	rms := md.ResourceMetrics()
	if rms.Len() != 2 {
		t.Fatalf("%d metric resources, want 2", rms.Len())
	}
	if diff := cmp.Diff(wantResource, rms.At(0).Resource().Attributes().AsRaw()); diff != "" {
		t.Errorf("metrics resource (-want +got):\n%s", diff)
	}
	if got := rms.At(1).Resource().Attributes().AsRaw()["service.name"]; got != "predictor" {
		t.Errorf("program metric service.name = %v", got)
	}
	ms := rms.At(0).ScopeMetrics().At(0).Metrics()
	if ms.Len() != 2 {
		t.Fatalf("%d metrics, want 2", ms.Len())
	}
	start := pcommon.NewTimestampFromTime(testStart)
	g := ms.At(0)
	if g.Name() != "process.cpu.utilization" || g.Unit() != "1" || g.Type() != pmetric.MetricTypeGauge {
		t.Fatalf("gauge = %s %s %v", g.Name(), g.Unit(), g.Type())
	}
	dps := g.Gauge().DataPoints()
	if dps.Len() != 2 || dps.At(0).DoubleValue() != 0.75 || dps.At(1).DoubleValue() != 0.5 {
		t.Errorf("gauge points = %d", dps.Len())
	}
	if diff := cmp.Diff(map[string]any{"deployment": "train", "team": "ml"}, dps.At(0).Attributes().AsRaw()); diff != "" {
		t.Errorf("gauge point attributes (-want +got):\n%s", diff)
	}
	h := ms.At(1)
	if h.Name() != "latency" || h.Unit() != "s" || h.Type() != pmetric.MetricTypeHistogram ||
		h.Histogram().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
		t.Fatalf("histogram = %s %s %v", h.Name(), h.Unit(), h.Type())
	}
	hp := h.Histogram().DataPoints().At(0)
	if hp.Count() != 3 || hp.Sum() != 1.4 || hp.StartTimestamp() != start ||
		!cmp.Equal(hp.ExplicitBounds().AsRaw(), []float64{0.1, 1}) || !cmp.Equal(hp.BucketCounts().AsRaw(), []uint64{1, 2, 0}) {
		t.Errorf("histogram point = count %d sum %v start %v bounds %v counts %v",
			hp.Count(), hp.Sum(), hp.StartTimestamp(), hp.ExplicitBounds().AsRaw(), hp.BucketCounts().AsRaw())
	}
	c := rms.At(1).ScopeMetrics().At(0).Metrics().At(0)
	if c.Name() != "requests" || c.Unit() != "{request}" || c.Type() != pmetric.MetricTypeSum ||
		!c.Sum().IsMonotonic() || c.Sum().AggregationTemporality() != pmetric.AggregationTemporalityCumulative {
		t.Fatalf("counter = %s %s %v", c.Name(), c.Unit(), c.Type())
	}
	cp := c.Sum().DataPoints().At(0)
	if cp.DoubleValue() != 7 || cp.StartTimestamp() != start || cp.Timestamp() != pcommon.NewTimestampFromTime(testStart.Add(2e9)) {
		t.Errorf("counter point = %v start %v at %v", cp.DoubleValue(), cp.StartTimestamp(), cp.Timestamp())
	}
	if diff := cmp.Diff(map[string]any{"deployment": "train", "team": "ml", "route": "/p"}, cp.Attributes().AsRaw()); diff != "" {
		t.Errorf("counter point attributes (-want +got):\n%s", diff)
	}
}

func checkLogs(t *testing.T, ld plog.Logs) {
	t.Helper()
	if ld.ResourceLogs().Len() != 1 {
		t.Fatalf("%d log resources, want 1", ld.ResourceLogs().Len())
	}
	rl := ld.ResourceLogs().At(0)
	if diff := cmp.Diff(wantResource, rl.Resource().Attributes().AsRaw()); diff != "" {
		t.Errorf("logs resource (-want +got):\n%s", diff)
	}
	lrs := rl.ScopeLogs().At(0).LogRecords()
	if lrs.Len() != 2 {
		t.Fatalf("%d log records, want 2", lrs.Len())
	}
	l := lrs.At(0)
	if l.SeverityNumber() != plog.SeverityNumberError || l.SeverityText() != "error" || l.Body().Str() != "oom in worker" ||
		telemetry.TraceID(l.TraceID()) != testTrace || telemetry.SpanID(l.SpanID()) != testSDK ||
		l.Timestamp() != pcommon.NewTimestampFromTime(testStart.Add(2500e6)) {
		t.Errorf("log = %v %q %q trace %v span %v at %v", l.SeverityNumber(), l.SeverityText(), l.Body().Str(), l.TraceID(), l.SpanID(), l.Timestamp())
	}
	if diff := cmp.Diff(map[string]any{
		"exception.message": "MemoryError: out of memory", "exception.stacktrace": "  at worker.py:3",
		"graphsignal.tag.deployment": "train", "graphsignal.tag.team": "ml",
	}, l.Attributes().AsRaw()); diff != "" {
		t.Errorf("log attributes (-want +got):\n%s", diff)
	}
	s := lrs.At(1)
	if s.EventName() != "graphsignal.score" || telemetry.TraceID(s.TraceID()) != testTrace || !s.SpanID().IsEmpty() ||
		s.Timestamp() != pcommon.NewTimestampFromTime(testStart.Add(4e9)) {
		t.Errorf("score record = %q trace %v span %v at %v", s.EventName(), s.TraceID(), s.SpanID(), s.Timestamp())
	}
	if diff := cmp.Diff(map[string]any{
		"graphsignal.score.name": "thumbs_up", "graphsignal.score.value": 1.0,
		"graphsignal.tag.deployment": "train", "graphsignal.tag.team": "ml",
		"graphsignal.tag.user_id": "u-9", "user.id": "u-9",
	}, s.Attributes().AsRaw()); diff != "" {
		t.Errorf("score attributes (-want +got):\n%s", diff)
	}
}

// TestUntaggedPointsTakeTheRunsSession: process metric points carry no
// tags of their own; their resource gets the session and run ids of the
// run span of their trace, whether it came in the same batch or an earlier
// one, so that every record reaching a backend has session.id.
func TestUntaggedPointsTakeTheRunsSession(t *testing.T) {
	for _, sameBatch := range []bool{true, false} {
		r := newReceiver(t)
		s := newSender(t, r.config(ProtocolHTTPProtobuf))
		run := testRun()
		point := telemetry.Metric{TraceID: run.TraceID, Name: "process.memory.usage", Kind: telemetry.Gauge,
			Unit: telemetry.UnitBytes, Time: testStart.Add(1e9), Value: 42}
		batches := []telemetry.Batch{{Spans: []telemetry.Span{run}, Metrics: []telemetry.Metric{point}}}
		if !sameBatch {
			batches = []telemetry.Batch{{Spans: []telemetry.Span{run}}, {Metrics: []telemetry.Metric{point}}}
		}
		for _, b := range batches {
			if _, err := s.Send(context.Background(), b); err != nil {
				t.Fatalf("Send: %v", err)
			}
		}
		var md pmetric.Metrics
		for _, q := range r.requests() {
			if q.path == "/v1/metrics" {
				md = q.metrics
			}
		}
		if md.ResourceMetrics().Len() != 1 {
			t.Fatalf("same batch %v: %d metric resources, want 1", sameBatch, md.ResourceMetrics().Len())
		}
		attrs := md.ResourceMetrics().At(0).Resource().Attributes().AsRaw()
		if attrs["session.id"] != run.Tags[telemetry.TagSessionID] || attrs["graphsignal.run.id"] != run.Tags[telemetry.TagRunID] {
			t.Errorf("same batch %v: resource = %v, want the run's session.id %q and run id %q",
				sameBatch, attrs, run.Tags[telemetry.TagSessionID], run.Tags[telemetry.TagRunID])
		}
	}
}

// TestResourceIsTheRecordsRun: a nested run shares its enclosing run's
// trace; its run span does not lend its resource to the enclosing run's
// process metric points (they belong to the trace's earliest run, arriving
// before or after the nested run span), and a program's span in a trace of
// its own gets its run's full resource, the same one as the run's records.
func TestResourceIsTheRecordsRun(t *testing.T) {
	outer := testRun()
	inner := testRun()
	inner.SpanID = telemetry.SpanID{0xd1, 2, 3, 4, 5, 6, 7, 8}
	inner.ParentSpanID = outer.SpanID
	inner.Start = outer.Start.Add(time.Second)
	inner.Tags = inner.Tags.Merge(telemetry.Tags{telemetry.TagRunID: "run-inner", telemetry.TagDeployment: "inner"})
	inner.Attributes = map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun, telemetry.AttrExecutableName: "python3", telemetry.AttrPID: int64(77)}
	point := telemetry.Metric{TraceID: outer.TraceID, Name: "process.count", Kind: telemetry.Gauge,
		Unit: telemetry.UnitCount, Time: testStart.Add(5 * time.Second), Value: 2}
	own := telemetry.Span{TraceID: telemetry.TraceID{9, 9}, SpanID: telemetry.SpanID{9}, Name: "other-trace-root",
		Start: testStart.Add(time.Second), End: testStart.Add(2 * time.Second), Tags: testTags.Clone()}
	for _, order := range [][]telemetry.Span{{outer, inner}, {inner, outer}} {
		r := newReceiver(t)
		s := newSender(t, r.config(ProtocolHTTPProtobuf))
		if _, err := s.Send(context.Background(), telemetry.Batch{Spans: order}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Send(context.Background(), telemetry.Batch{Spans: []telemetry.Span{own}, Metrics: []telemetry.Metric{point}}); err != nil {
			t.Fatal(err)
		}
		var md pmetric.Metrics
		var td ptrace.Traces
		for _, q := range r.requests() {
			switch q.path {
			case "/v1/metrics":
				md = q.metrics
			case "/v1/traces":
				td = q.traces
			}
		}
		if md.ResourceMetrics().Len() != 1 {
			t.Fatalf("%d metric resources, want 1", md.ResourceMetrics().Len())
		}
		got := md.ResourceMetrics().At(0).Resource().Attributes().AsRaw()
		if got["graphsignal.run.id"] != "run-1" || got["service.name"] != "train" || got[telemetry.AttrExecutableName] != "python" {
			t.Errorf("run span order %s, %s: the outer run's point has resource %v, want the outer run's", order[0].Tags[telemetry.TagRunID], order[1].Tags[telemetry.TagRunID], got)
		}
		res := td.ResourceSpans().At(0).Resource().Attributes().AsRaw()
		if td.ResourceSpans().Len() != 1 || res[telemetry.AttrHostName] != "builder-7" || res["graphsignal.run.id"] != "run-1" {
			t.Errorf("span in a trace of its own: %d resources, first %v; want the run's", td.ResourceSpans().Len(), res)
		}
	}
}

// TestProgramResourceCannotRenameTheSession: a program's OTLP resource
// naming another session or run does not override the record's own, which
// the local store files it under; its other attributes pass through.
func TestProgramResourceCannotRenameTheSession(t *testing.T) {
	r := newReceiver(t)
	s := newSender(t, r.config(ProtocolHTTPProtobuf))
	sp := telemetry.Span{TraceID: testTrace, SpanID: testOTel, Name: "handle", Start: testStart, End: testStart.Add(time.Second),
		Tags: testTags.Clone(),
		Attributes: map[string]any{"resource.service.name": "ressvc", "resource.session.id": "res-sess",
			"resource.graphsignal.run.id": "fake-run", "resource.graphsignal.tag.session_id": "x", "resource.user.id": "res-user"}}
	if _, err := s.Send(context.Background(), telemetry.Batch{Spans: []telemetry.Span{sp}}); err != nil {
		t.Fatal(err)
	}
	var td ptrace.Traces
	for _, q := range r.requests() {
		if q.path == "/v1/traces" {
			td = q.traces
		}
	}
	got := td.ResourceSpans().At(0).Resource().Attributes().AsRaw()
	for k, want := range map[string]any{"session.id": "sess-1", "graphsignal.tag.session_id": "sess-1", "graphsignal.run.id": "run-1",
		"service.name": "ressvc", "user.id": "res-user"} {
		if got[k] != want {
			t.Errorf("resource %s = %v, want %v (resource %v)", k, got[k], want, got)
		}
	}
}
