package httpintake

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/graphsignal/graphsignal/internal/signalspb/signalspbgen"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestProgramSessions: the session and user a program sets on a record,
// through the Graphsignal SDK's tags or OpenTelemetry's session.id and
// user.id attributes, are the record's; records without one get the run's.
func TestProgramSessions(t *testing.T) {
	s, col := startIntake(t, nil)
	c := newClient(t)
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithHTTPClient(c), otlptracehttp.WithEndpointURL(s.Endpoint()+"/v1/traces"))
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	tr := tp.Tracer("chat")
	_, sp := tr.Start(ctx, "otel-chat")
	sp.SetAttributes(attribute.String("session.id", "chat-42"), attribute.String("enduser.id", "alice"))
	sp.End()
	_, sp = tr.Start(ctx, "otel-plain")
	sp.End()
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	req := &signalspbgen.UploadRequest{Spans: []*signalspbgen.Span{{SpanId: "bb", Name: "sdk-chat",
		Tags: []*signalspbgen.Tag{{Key: "session_id", Value: "chat-43"}, {Key: "user_id", Value: "bob"}}}}}
	if r := do(t, c, "POST", s.Endpoint()+"/api/v1/signals/", sdkHeaders(testKey), gz(t, marshal(t, req))); r.code != 200 {
		t.Fatalf("status %d", r.code)
	}
	want := map[string][2]string{
		"otel-chat":  {"chat-42", "alice"},
		"otel-plain": {testTags[telemetry.TagSessionID], ""},
		"sdk-chat":   {"chat-43", "bob"},
	}
	got := col.all().Spans
	if len(got) != len(want) {
		t.Fatalf("got %d spans, want %d", len(got), len(want))
	}
	for _, sp := range got {
		w := want[sp.Name]
		if sp.Tags[telemetry.TagSessionID] != w[0] || sp.Tags[telemetry.TagUserID] != w[1] ||
			sp.Tags[telemetry.TagRunID] != testTags[telemetry.TagRunID] {
			t.Errorf("%s: tags %v, want session_id=%s user_id=%q and the run's run_id", sp.Name, sp.Tags, w[0], w[1])
		}
	}
}
