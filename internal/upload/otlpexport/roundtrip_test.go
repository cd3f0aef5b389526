package otlpexport

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/graphsignal/graphsignal/internal/httpintake"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// programTraces is what a program's OpenTelemetry SDK exports: a server
// span (a root) with a client child, every attribute type, an event, an
// exception and an error status.
func programTraces() ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "app")
	rs.Resource().Attributes().PutStr("telemetry.sdk.language", "go")
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("app/instr")
	ss.Scope().SetVersion("0.1.0")
	t0 := pcommon.NewTimestampFromTime(testStart.Add(time.Second))

	root := ss.Spans().AppendEmpty()
	root.SetTraceID(pcommon.TraceID(testTrace))
	root.SetSpanID(pcommon.SpanID{1, 1, 1, 1, 1, 1, 1, 1})
	root.SetName("POST /chat")
	root.SetKind(ptrace.SpanKindServer)
	root.SetStartTimestamp(t0)
	root.SetEndTimestamp(t0 + 5e8)
	root.Attributes().PutStr("http.route", "/chat")
	root.Attributes().PutInt("http.response.status_code", 500)
	root.Attributes().PutDouble("gen_ai.request.temperature", 0.2)
	root.Attributes().PutBool("cache.hit", false)
	arr := root.Attributes().PutEmptySlice("gen_ai.response.finish_reasons")
	arr.AppendEmpty().SetStr("stop")
	arr.AppendEmpty().SetStr("length")
	root.Status().SetCode(ptrace.StatusCodeError)
	root.Status().SetMessage("upstream failed")
	ev := root.Events().AppendEmpty()
	ev.SetName("retry")
	ev.SetTimestamp(t0 + 1e8)
	ev.Attributes().PutStr("attempt", "2")
	ex := root.Events().AppendEmpty()
	ex.SetName("exception")
	ex.SetTimestamp(t0 + 4e8)
	ex.Attributes().PutStr("exception.type", "TimeoutError")
	ex.Attributes().PutStr("exception.message", "took too long")
	ex.Attributes().PutStr("exception.stacktrace", "at chat()")

	child := ss.Spans().AppendEmpty()
	child.SetTraceID(pcommon.TraceID(testTrace))
	child.SetSpanID(pcommon.SpanID{2, 2, 2, 2, 2, 2, 2, 2})
	child.SetParentSpanID(root.SpanID())
	child.SetName("chat gpt-4o")
	child.SetKind(ptrace.SpanKindClient)
	child.SetStartTimestamp(t0 + 1e7)
	child.SetEndTimestamp(t0 + 3e8)
	child.Attributes().PutStr("gen_ai.operation.name", "chat")
	child.Attributes().PutInt("gen_ai.usage.input_tokens", 12)
	child.Status().SetCode(ptrace.StatusCodeOk)
	return td
}

// TestRoundTripThroughIntake sends a program's spans through graphsignal's
// intake and then this exporter, and checks that a backend receives them as
// the program sent them: ids, parents (a root becomes a child of the run
// span), kind, status, times, attributes with their types, events,
// exceptions, scope and resource, plus the run's session.
func TestRoundTripThroughIntake(t *testing.T) {
	var mu sync.Mutex
	var got telemetry.Batch
	in, err := httpintake.Bind(context.Background(), httpintake.Config{
		TraceID: testTrace, RunSpanID: testRunSpan, Tags: testTags, APIKey: "local-token-0123456789",
		RecordPayloads: true,
		Consumer: httpintake.ConsumerFunc(func(b telemetry.Batch) {
			mu.Lock()
			got.Spans = append(got.Spans, b.Spans...)
			mu.Unlock()
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	in.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := in.Close(ctx); err != nil {
			t.Errorf("intake Close: %v", err)
		}
	})

	sent := programTraces()
	body, err := ptraceotlp.NewExportRequestFromTraces(sent).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Post(in.Endpoint()+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("intake answered %d", resp.StatusCode)
	}
	mu.Lock()
	batch := got
	mu.Unlock()
	if len(batch.Spans) != 2 {
		t.Fatalf("intake recorded %d spans, want 2", len(batch.Spans))
	}
	batch.Spans = append([]telemetry.Span{testRun()}, batch.Spans...)

	r := newReceiver(t)
	if _, err := newSender(t, r.config(ProtocolHTTPProtobuf)).Send(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	out := r.requests()[0].traces
	var prs ptrace.ResourceSpans
	for i := range out.ResourceSpans().Len() {
		rs := out.ResourceSpans().At(i)
		if v, _ := rs.Resource().Attributes().Get("service.name"); v.Str() == "app" {
			prs = rs
		}
	}
	if prs == (ptrace.ResourceSpans{}) {
		t.Fatal("no resource with the program's service.name")
	}
	res := prs.Resource().Attributes().AsRaw()
	for k, v := range sent.ResourceSpans().At(0).Resource().Attributes().AsRaw() {
		if res[k] != v {
			t.Errorf("resource %s = %v, want %v", k, res[k], v)
		}
	}
	if res["session.id"] != "sess-1" || res["host.name"] != "builder-7" {
		t.Errorf("resource lacks the run's session or host: %v", res)
	}
	if prs.ScopeSpans().Len() != 1 {
		t.Fatalf("%d scopes, want 1", prs.ScopeSpans().Len())
	}
	gotSS := prs.ScopeSpans().At(0)
	wantSS := sent.ResourceSpans().At(0).ScopeSpans().At(0)
	if gotSS.Scope().Name() != wantSS.Scope().Name() || gotSS.Scope().Version() != wantSS.Scope().Version() {
		t.Errorf("scope = %q %q", gotSS.Scope().Name(), gotSS.Scope().Version())
	}
	for i := range wantSS.Spans().Len() {
		want := wantSS.Spans().At(i)
		sp := gotSS.Spans().At(i)
		wantParent := want.ParentSpanID()
		if wantParent.IsEmpty() {
			wantParent = pcommon.SpanID(testRunSpan)
		}
		if sp.TraceID() != want.TraceID() || sp.SpanID() != want.SpanID() || sp.ParentSpanID() != wantParent {
			t.Errorf("%s: ids %v/%v/%v, want %v/%v/%v", want.Name(), sp.TraceID(), sp.SpanID(), sp.ParentSpanID(), want.TraceID(), want.SpanID(), wantParent)
		}
		if sp.Name() != want.Name() || sp.Kind() != want.Kind() || sp.StartTimestamp() != want.StartTimestamp() ||
			sp.EndTimestamp() != want.EndTimestamp() || sp.Status().Code() != want.Status().Code() ||
			sp.Status().Message() != want.Status().Message() {
			t.Errorf("span %q %v %v..%v %v %q, want %q %v %v..%v %v %q", sp.Name(), sp.Kind(), sp.StartTimestamp(), sp.EndTimestamp(),
				sp.Status().Code(), sp.Status().Message(), want.Name(), want.Kind(), want.StartTimestamp(), want.EndTimestamp(),
				want.Status().Code(), want.Status().Message())
		}
		wantAttrs := want.Attributes().AsRaw()
		wantAttrs["graphsignal.intake"] = "otlp"
		wantAttrs["graphsignal.tag.deployment"] = "train"
		wantAttrs["graphsignal.tag.team"] = "ml"
		if diff := cmp.Diff(wantAttrs, sp.Attributes().AsRaw()); diff != "" {
			t.Errorf("%s attributes (-want +got):\n%s", want.Name(), diff)
		}
		if sp.Events().Len() != want.Events().Len() {
			t.Fatalf("%s: %d events, want %d", want.Name(), sp.Events().Len(), want.Events().Len())
		}
		for j := range want.Events().Len() {
			we, ge := want.Events().At(j), sp.Events().At(j)
			if ge.Name() != we.Name() || ge.Timestamp() != we.Timestamp() || !cmp.Equal(ge.Attributes().AsRaw(), we.Attributes().AsRaw()) {
				t.Errorf("%s event %d = %q %v %v, want %q %v %v", want.Name(), j, ge.Name(), ge.Timestamp(), ge.Attributes().AsRaw(),
					we.Name(), we.Timestamp(), we.Attributes().AsRaw())
			}
		}
	}
}
