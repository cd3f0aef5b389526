package httpintake

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

var (
	t0         = time.Unix(1_700_000_000, 123_000_000)
	rootID     = telemetry.SpanID{1, 2, 3, 4, 5, 6, 7, 8}
	childID    = telemetry.SpanID{9, 10, 11, 12, 13, 14, 15, 16}
	otherTrace = telemetry.TraceID{0xaa, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0xff}
	otherID    = telemetry.SpanID{0xbb, 1, 2, 3, 4, 5, 6, 0xcc}
)

func ts(d time.Duration) pcommon.Timestamp { return pcommon.NewTimestampFromTime(t0.Add(d)) }

// testTraces builds a root, a child with an exception and an event, and a
// span of another trace.
func testTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "svc")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("lib")
	ss.Scope().SetVersion("1.2")

	root := ss.Spans().AppendEmpty()
	root.SetTraceID(pcommon.TraceID(testTrace))
	root.SetSpanID(pcommon.SpanID(rootID))
	root.SetName("root")
	root.SetKind(ptrace.SpanKindServer)
	root.SetStartTimestamp(ts(0))
	root.SetEndTimestamp(ts(time.Second))
	root.Attributes().PutStr("k", "v")
	root.Attributes().PutInt("n", 3)
	root.Attributes().PutBool("b", true)
	root.Attributes().PutDouble("f", 0.5)
	list := root.Attributes().PutEmptySlice("list")
	list.AppendEmpty().SetStr("a")
	list.AppendEmpty().SetInt(2)
	root.Attributes().PutEmptyMap("m").PutStr("x", "y")
	root.Status().SetCode(ptrace.StatusCodeOk)

	child := ss.Spans().AppendEmpty()
	child.SetTraceID(pcommon.TraceID(testTrace))
	child.SetSpanID(pcommon.SpanID(childID))
	child.SetParentSpanID(pcommon.SpanID(rootID))
	child.SetName("child")
	child.SetStartTimestamp(ts(100 * time.Millisecond))
	child.SetEndTimestamp(ts(200 * time.Millisecond))
	child.Attributes().PutStr("gen_ai.prompt.0.content", "secret prompt")
	child.Status().SetCode(ptrace.StatusCodeError)
	child.Status().SetMessage("boom")
	ex := child.Events().AppendEmpty()
	ex.SetName("exception")
	ex.SetTimestamp(ts(150 * time.Millisecond))
	ex.Attributes().PutStr("exception.type", "ValueError")
	ex.Attributes().PutStr("exception.message", "bad input")
	ex.Attributes().PutStr("exception.stacktrace", "at x\nat y")
	ev := child.Events().AppendEmpty()
	ev.SetName("retry")
	ev.SetTimestamp(ts(160 * time.Millisecond))
	ev.Attributes().PutInt("attempt", 2)
	pe := child.Events().AppendEmpty()
	pe.SetName("gen_ai.content.prompt")
	pe.SetTimestamp(ts(170 * time.Millisecond))

	other := ss.Spans().AppendEmpty()
	other.SetTraceID(pcommon.TraceID(otherTrace))
	other.SetSpanID(pcommon.SpanID(otherID))
	other.SetName("other")
	other.SetStartTimestamp(ts(0))
	other.SetEndTimestamp(ts(time.Millisecond))
	return td
}

// wantSpans is what testTraces becomes, with or without payloads.
func wantSpans(payloads bool) []telemetry.Span {
	base := func() map[string]any {
		return map[string]any{
			"resource.service.name": "svc", attrIntake: "otlp",
			attrScopeName: "lib", attrScopeVersion: "1.2",
		}
	}
	rootAttrs := base()
	for k, v := range map[string]any{"k": "v", "n": int64(3), "b": true, "f": 0.5,
		"list": []string{"a", "2"}, "m": `{"x":"y"}`, attrSpanKind: "server"} {
		rootAttrs[k] = v
	}
	childAttrs := base()
	childEvents := []telemetry.Event{{Name: "retry", Time: t0.Add(160 * time.Millisecond), Attributes: map[string]any{"attempt": int64(2)}}}
	if payloads {
		childAttrs["gen_ai.prompt.0.content"] = "secret prompt"
		childEvents = append(childEvents, telemetry.Event{Name: "gen_ai.content.prompt", Time: t0.Add(170 * time.Millisecond)})
	}
	return []telemetry.Span{
		{TraceID: testTrace, SpanID: rootID, ParentSpanID: testRunSpan, Name: "root",
			Start: t0, End: t0.Add(time.Second), Tags: testTags, Attributes: rootAttrs, Status: telemetry.StatusOK},
		{TraceID: testTrace, SpanID: childID, ParentSpanID: rootID, Name: "child",
			Start: t0.Add(100 * time.Millisecond), End: t0.Add(200 * time.Millisecond), Tags: testTags,
			Attributes: childAttrs, Status: telemetry.StatusError, StatusMessage: "boom", Events: childEvents,
			Exceptions: []telemetry.Exception{{Type: "ValueError", Message: "bad input", StackTrace: "at x\nat y", Time: t0.Add(150 * time.Millisecond)}}},
		{TraceID: otherTrace, SpanID: otherID, Name: "other",
			Start: t0, End: t0.Add(time.Millisecond), Tags: testTags, Attributes: base()},
	}
}

var spanCmp = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func TestOTLPTraces(t *testing.T) {
	req := ptraceotlp.NewExportRequestFromTraces(testTraces())
	pb, err := req.MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	js, err := req.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		ct       string
		body     []byte
		gzip     bool
		payloads bool
	}{
		{"protobuf", ctProtobuf, pb, false, true},
		{"protobuf gzip", ctProtobuf, pb, true, true},
		{"json", ctJSON, js, false, true},
		{"json gzip charset", ctJSON + "; charset=utf-8", js, true, true},
		{"protobuf without payloads", ctProtobuf, pb, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, col := startIntake(t, func(c *Config) { c.RecordPayloads = tt.payloads })
			hdr := map[string]string{"Content-Type": tt.ct}
			body := tt.body
			if tt.gzip {
				hdr["Content-Encoding"] = "gzip"
				body = gz(t, body)
			}
			resp := do(t, newClient(t), "POST", s.Endpoint()+"/v1/traces", hdr, body)
			if resp.code != 200 {
				t.Fatalf("status %d, body %q", resp.code, resp.body)
			}
			er := ptraceotlp.NewExportResponse()
			if strings.HasPrefix(tt.ct, ctJSON) {
				err = er.UnmarshalJSON(resp.body)
			} else {
				err = er.UnmarshalProto(resp.body)
			}
			if err != nil || !strings.HasPrefix(tt.ct, resp.ct) {
				t.Errorf("response %q (%s): %v", resp.body, resp.ct, err)
			}
			if diff := cmp.Diff(wantSpans(tt.payloads), col.all().Spans, spanCmp); diff != "" {
				t.Errorf("spans (-want +got):\n%s", diff)
			}
			if st := s.Stats(); st.Spans != 3 || st.Requests[routeTraces] != 1 {
				t.Errorf("Stats() = %+v, want 3 spans in 1 traces request", st)
			}
		})
	}
}

// TestOTLPJSONHexIDs posts hand-written OTLP JSON: ids are hex strings, which
// protojson would mis-decode as base64.
func TestOTLPJSONHexIDs(t *testing.T) {
	s, col := startIntake(t, nil)
	body := `{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736",
		"spanId":"00f067aa0ba902b9","name":"hand","kind":3,"startTimeUnixNano":"1700000000123000000",
		"endTimeUnixNano":"1700000001123000000"}]}]}]}`
	resp := do(t, newClient(t), "POST", s.Endpoint()+"/v1/traces", map[string]string{"Content-Type": ctJSON}, []byte(body))
	if resp.code != 200 {
		t.Fatalf("status %d: %s", resp.code, resp.body)
	}
	spans := col.all().Spans
	if len(spans) != 1 {
		t.Fatalf("got %d spans, want 1", len(spans))
	}
	sp := spans[0]
	if sp.TraceID.String() != "4bf92f3577b34da6a3ce929d0e0e4736" || sp.SpanID.String() != "00f067aa0ba902b9" ||
		sp.ParentSpanID != testRunSpan || !sp.Start.Equal(t0) || sp.Attributes[attrSpanKind] != "client" {
		t.Errorf("span = %+v, want exact hex ids, run span as parent, start %v, kind client", sp, t0)
	}
}

func TestOTLPMetrics(t *testing.T) {
	build := func(deltaValue int64) []byte {
		md := pmetric.NewMetrics()
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", "svc")
		ms := rm.ScopeMetrics().AppendEmpty().Metrics()

		g := ms.AppendEmpty()
		g.SetName("queue.depth")
		g.SetUnit("{item}")
		dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
		dp.SetIntValue(7)
		dp.SetTimestamp(ts(0))
		dp.Attributes().PutStr("queue", "a")

		c := ms.AppendEmpty()
		c.SetName("requests")
		sum := c.SetEmptySum()
		sum.SetIsMonotonic(true)
		sum.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
		cdp := sum.DataPoints().AppendEmpty()
		cdp.SetIntValue(deltaValue)
		cdp.SetTimestamp(ts(time.Second))

		ud := ms.AppendEmpty()
		ud.SetName("inflight")
		usum := ud.SetEmptySum()
		usum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		usum.DataPoints().AppendEmpty().SetDoubleValue(-1.5)

		h := ms.AppendEmpty()
		h.SetName("latency")
		h.SetUnit("s")
		hh := h.SetEmptyHistogram()
		hh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
		hdp := hh.DataPoints().AppendEmpty()
		hdp.ExplicitBounds().FromRaw([]float64{0.1, 1})
		hdp.BucketCounts().FromRaw([]uint64{1, 2, 3})
		hdp.SetCount(6)
		hdp.SetSum(9.5)
		hdp.SetTimestamp(ts(time.Second))

		e := ms.AppendEmpty()
		e.SetName("exp")
		e.SetEmptyExponentialHistogram().DataPoints().AppendEmpty().SetCount(1)

		b, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	s, col := startIntake(t, nil)
	c := newClient(t)
	for _, v := range []int64{2, 3} {
		resp := do(t, c, "POST", s.Endpoint()+"/v1/metrics", map[string]string{"Content-Type": ctProtobuf}, build(v))
		if resp.code != 200 {
			t.Fatalf("status %d: %s", resp.code, resp.body)
		}
	}
	tags := func(extra map[string]string) telemetry.Tags {
		return testTags.Merge(telemetry.Tags{"service.name": "svc"}).Merge(extra)
	}
	var want []telemetry.Metric
	for _, total := range []float64{2, 5} {
		want = append(want,
			telemetry.Metric{TraceID: testTrace, Name: "queue.depth", Kind: telemetry.Gauge, Unit: "{item}", Tags: tags(map[string]string{"queue": "a"}), Time: t0, Value: 7},
			telemetry.Metric{TraceID: testTrace, Name: "requests", Kind: telemetry.Counter, Tags: tags(nil), Time: t0.Add(time.Second), Value: total},
			telemetry.Metric{TraceID: testTrace, Name: "inflight", Kind: telemetry.Gauge, Tags: tags(nil), Value: -1.5},
			telemetry.Metric{TraceID: testTrace, Name: "latency", Kind: telemetry.Histogram, Unit: "s", Tags: tags(nil), Time: t0.Add(time.Second),
				Buckets: []float64{0.1, 1}, Counts: []uint64{1, 2, 3}, Count: 6, Sum: 9.5},
		)
	}
	got := col.all().Metrics
	for i := range got {
		if got[i].Name == "inflight" {
			got[i].Time = time.Time{} // receipt time
		}
	}
	if diff := cmp.Diff(want, got, spanCmp); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	if st := s.Stats(); st.Metrics != 8 || st.Dropped != 2 {
		t.Errorf("Stats() = %+v, want 8 metrics, 2 dropped (exponential histogram)", st)
	}
}

func TestOTLPLogs(t *testing.T) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "svc")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	lr := lrs.AppendEmpty()
	lr.SetTimestamp(ts(0))
	lr.SetSeverityNumber(plog.SeverityNumberError2)
	lr.Body().SetStr("it broke")
	lr.SetTraceID(pcommon.TraceID(otherTrace))
	lr.SetSpanID(pcommon.SpanID(otherID))
	lr.Attributes().PutStr("exception.type", "IOError")
	lr.Attributes().PutStr("exception.message", "disk")
	lr2 := lrs.AppendEmpty()
	lr2.SetObservedTimestamp(ts(time.Second))
	lr2.SetSeverityText("NOTICE")
	lr2.Body().SetStr("plain")
	body, err := plogotlp.NewExportRequestFromLogs(ld).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	s, col := startIntake(t, nil)
	resp := do(t, newClient(t), "POST", s.Endpoint()+"/v1/logs", map[string]string{"Content-Type": ctJSON}, body)
	if resp.code != 200 {
		t.Fatalf("status %d: %s", resp.code, resp.body)
	}
	tags := testTags.Merge(telemetry.Tags{"service.name": "svc"})
	want := []telemetry.Log{
		{Time: t0, Level: "error", Message: "it broke", Exception: "IOError: disk", Tags: tags, TraceID: otherTrace, SpanID: otherID},
		{Time: t0.Add(time.Second), Level: "notice", Message: "plain", Tags: tags, TraceID: testTrace},
	}
	if diff := cmp.Diff(want, col.all().Logs, spanCmp); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
}

func TestOTLPErrors(t *testing.T) {
	s, col := startIntake(t, func(c *Config) { c.MaxBodyBytes = 4096 })
	pb, err := ptraceotlp.NewExportRequestFromTraces(testTraces()).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	ep := s.Endpoint()
	base := ep[:strings.LastIndex(ep, "/")]
	wrongPrefix := base + "/" + strings.Repeat("0", 32)
	protoHdr := map[string]string{"Content-Type": ctProtobuf}
	tests := []struct {
		name   string
		method string
		url    string
		hdr    map[string]string
		body   []byte
		code   int
	}{
		{"no prefix", "POST", base + "/v1/traces", protoHdr, pb, 404},
		{"wrong prefix", "POST", wrongPrefix + "/v1/traces", protoHdr, pb, 404},
		{"prefix without slash", "POST", ep + "v1/traces", protoHdr, pb, 404},
		{"root", "GET", base + "/", nil, nil, 404},
		{"unknown path", "POST", ep + "/v1/profiles", protoHdr, pb, 404},
		{"wrong method", "GET", ep + "/v1/traces", nil, nil, 405},
		{"text content type", "POST", ep + "/v1/traces", map[string]string{"Content-Type": "text/plain"}, pb, 415},
		{"no content type", "POST", ep + "/v1/traces", nil, pb, 415},
		{"brotli", "POST", ep + "/v1/traces", map[string]string{"Content-Type": ctProtobuf, "Content-Encoding": "br"}, pb, 415},
		{"garbage protobuf", "POST", ep + "/v1/traces", protoHdr, []byte("\xff\xff\xff\xff garbage"), 400},
		{"garbage json", "POST", ep + "/v1/metrics", map[string]string{"Content-Type": ctJSON}, []byte(`{"resourceMetrics":[{`), 400},
		{"bad gzip", "POST", ep + "/v1/logs", map[string]string{"Content-Type": ctProtobuf, "Content-Encoding": "gzip"}, []byte("not gzip"), 400},
		{"too large", "POST", ep + "/v1/traces", protoHdr, bytes.Repeat([]byte{0}, 5000), 413},
		{"gzip bomb", "POST", ep + "/v1/traces", map[string]string{"Content-Type": ctProtobuf, "Content-Encoding": "gzip"}, gz(t, bytes.Repeat([]byte{0}, 1<<20)), 413},
	}
	c := newClient(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(t, c, tt.method, tt.url, tt.hdr, tt.body)
			if resp.code != tt.code {
				t.Errorf("%s %s = %d (%q), want %d", tt.method, tt.url, resp.code, resp.body, tt.code)
			}
			if tt.code == 404 && strings.Contains(string(resp.body), "traces") {
				t.Errorf("404 body %q reveals routes", resp.body)
			}
		})
	}
	// A JSON error carries a google.rpc.Status.
	resp := do(t, c, "POST", ep+"/v1/traces", map[string]string{"Content-Type": ctJSON}, []byte("{"))
	var st struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(resp.body, &st); err != nil || st.Code != 3 || st.Message == "" {
		t.Errorf("JSON error body %q: %+v, %v; want code 3 with a message", resp.body, st, err)
	}
	if n := len(col.all().Spans); n != 0 {
		t.Errorf("%d spans consumed from bad requests, want 0", n)
	}
	got := s.Stats()
	if got.BadRequests != 4 || got.TooLarge != 2 || got.UnsupportedMedia != 3 || got.Requests[routeNotFound] != 5 {
		t.Errorf("Stats() = %+v, want 4 bad, 2 too large, 3 unsupported, 5 not found", got)
	}
}
