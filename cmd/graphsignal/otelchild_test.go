//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// otelChildMain is a program instrumented with the OpenTelemetry Go SDK and
// configured only through the standard environment (OTEL_EXPORTER_OTLP_ENDPOINT,
// TRACEPARENT), as an unmodified application would be. It prints the ids of
// the spans it created.
func otelChildMain() {
	ctx := context.Background()
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "otelchild:", err)
		os.Exit(1)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
	carrier := propagation.MapCarrier{"traceparent": os.Getenv("TRACEPARENT")}
	ctx = propagation.TraceContext{}.Extract(ctx, carrier)
	tracer := tp.Tracer("otelchild")
	ctx, root := tracer.Start(ctx, "handle-request", trace.WithAttributes(attribute.String("model", "gpt-x")))
	_, child := tracer.Start(ctx, "generate")
	time.Sleep(5 * time.Millisecond)
	child.RecordError(errors.New("rate limited"))
	child.SetStatus(codes.Error, "rate limited")
	child.End()
	root.End()
	if err := tp.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "otelchild: export:", err)
		os.Exit(1)
	}
	sc := root.SpanContext()
	fmt.Printf("trace %s\nroot %s\nchild %s\n", sc.TraceID(), sc.SpanID(), strings.TrimSpace(child.SpanContext().SpanID().String()))
}
