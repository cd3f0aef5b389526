package httpintake

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestOTelGoSDK exports spans with the real OpenTelemetry Go SDK, configured
// the way the child is: OTEL_EXPORTER_OTLP_ENDPOINT (or the equivalent URL
// option) and a TRACEPARENT naming the run span.
func TestOTelGoSDK(t *testing.T) {
	tests := []struct {
		name        string
		viaEnv      bool
		opts        []otlptracehttp.Option
		traceparent bool
	}{
		{name: "env endpoint protobuf", viaEnv: true, traceparent: true},
		{name: "endpoint URL gzip", opts: []otlptracehttp.Option{otlptracehttp.WithCompression(otlptracehttp.GzipCompression)}, traceparent: true},
		{name: "json", viaEnv: true, opts: []otlptracehttp.Option{otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON)}, traceparent: true},
		{name: "no traceparent", viaEnv: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, col := startIntake(t, nil)
			c := newClient(t)
			opts := append([]otlptracehttp.Option{otlptracehttp.WithHTTPClient(c)}, tt.opts...)
			if tt.viaEnv {
				t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", s.Endpoint())
			} else {
				opts = append(opts, otlptracehttp.WithEndpointURL(s.Endpoint()+"/v1/traces"))
			}
			ctx := context.Background()
			exp, err := otlptracehttp.New(ctx, opts...)
			if err != nil {
				t.Fatalf("otlptracehttp.New: %v", err)
			}
			tp := sdktrace.NewTracerProvider(
				sdktrace.WithBatcher(exp),
				sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "go-child"))),
			)
			defer func() {
				if err := tp.Shutdown(ctx); err != nil {
					t.Errorf("Shutdown: %v", err)
				}
			}()
			parent := ctx
			if tt.traceparent {
				tp := "00-" + testTrace.String() + "-" + testRunSpan.String() + "-01"
				parent = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": tp})
			}
			tracer := tp.Tracer("intake-test")
			rctx, root := tracer.Start(parent, "work", trace.WithAttributes(attribute.String("step", "all")))
			_, child := tracer.Start(rctx, "generate", trace.WithAttributes(
				attribute.Int("tokens", 12), attribute.StringSlice("tools", []string{"a", "b"})))
			child.RecordError(errors.New("model timeout"))
			child.SetStatus(codes.Error, "failed")
			child.End()
			root.End()
			if err := tp.ForceFlush(ctx); err != nil {
				t.Fatalf("ForceFlush: %v", err)
			}

			spans := map[string]telemetry.Span{}
			for _, sp := range col.all().Spans {
				spans[sp.Name] = sp
			}
			r, g := spans["work"], spans["generate"]
			rsc, csc := root.SpanContext(), child.SpanContext()
			if r.SpanID != telemetry.SpanID(rsc.SpanID()) || g.SpanID != telemetry.SpanID(csc.SpanID()) ||
				r.TraceID != telemetry.TraceID(rsc.TraceID()) || g.TraceID != r.TraceID {
				t.Fatalf("ids: got root %s/%s child %s/%s, want %s/%s %s/%s", r.TraceID, r.SpanID, g.TraceID, g.SpanID,
					rsc.TraceID(), rsc.SpanID(), csc.TraceID(), csc.SpanID())
			}
			wantRootParent := telemetry.SpanID{}
			if tt.traceparent {
				wantRootParent = testRunSpan
				if r.TraceID != testTrace {
					t.Errorf("root trace %s, want the run's %s", r.TraceID, testTrace)
				}
			}
			if r.ParentSpanID != wantRootParent || g.ParentSpanID != r.SpanID {
				t.Errorf("parents: root %q child %q, want %q and %q", r.ParentSpanID, g.ParentSpanID, wantRootParent, r.SpanID)
			}
			if g.Status != telemetry.StatusError || g.StatusMessage != "failed" || len(g.Exceptions) != 1 ||
				g.Exceptions[0].Message != "model timeout" || g.Exceptions[0].Type == "" {
				t.Errorf("child status %v %q exceptions %+v, want error with one exception", g.Status, g.StatusMessage, g.Exceptions)
			}
			if g.Attributes["tokens"] != int64(12) || g.Attributes["resource.service.name"] != "go-child" ||
				len(g.Attributes["tools"].([]string)) != 2 || r.Attributes["step"] != "all" {
				t.Errorf("attributes root %v child %v", r.Attributes, g.Attributes)
			}
			if r.Tags["session_id"] != "s-1" || g.End.Before(g.Start) || g.Start.Before(r.Start) {
				t.Errorf("tags %v or times %v..%v within %v..%v", r.Tags, g.Start, g.End, r.Start, r.End)
			}
		})
	}
}
