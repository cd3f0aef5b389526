// Test child for graphsignal's loopback OTLP intake. It uses the real
// OpenTelemetry JS SDK, unchanged, the way an application would:
//   - the exporter finds the intake through OTEL_EXPORTER_OTLP_ENDPOINT
//     (set by `graphsignal run`), appending /v1/traces itself;
//   - the first argument picks the OTLP exporter: "proto" (OTLP/HTTP
//     protobuf), "json" (OTLP/HTTP JSON) or "grpc" (OTLP/gRPC); without one,
//     "grpc" when OTEL_EXPORTER_OTLP_PROTOCOL=grpc, else "proto";
//   - TRACEPARENT (W3C, also set by `graphsignal run`) is extracted so the
//     spans join the run's trace.
// It creates a root span, a child with attributes and an exception event,
// flushes, and prints one JSON line describing the spans it made, so a test
// can check that exactly these ids arrived.
'use strict';

const { context, propagation, trace, SpanStatusCode } = require('@opentelemetry/api');
const { W3CTraceContextPropagator } = require('@opentelemetry/core');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { NodeTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-node');

const encoding = process.argv[2]
  || ((process.env.OTEL_EXPORTER_OTLP_PROTOCOL || '').trim() === 'grpc' ? 'grpc' : 'proto');
const { OTLPTraceExporter } = require({
  proto: '@opentelemetry/exporter-trace-otlp-proto',
  json: '@opentelemetry/exporter-trace-otlp-http',
  grpc: '@opentelemetry/exporter-trace-otlp-grpc',
}[encoding] || `unknown exporter ${encoding}`);

async function main() {
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    throw new Error('OTEL_EXPORTER_OTLP_ENDPOINT is not set');
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'node-otel-test' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  const tracer = provider.getTracer('graphsignal-node-test', '1.0.0');

  const carrier = process.env.TRACEPARENT ? { traceparent: process.env.TRACEPARENT } : {};
  const parentCtx = new W3CTraceContextPropagator().extract(context.active(), carrier, {
    get: (c, k) => c[k],
    keys: (c) => Object.keys(c),
  });

  const root = tracer.startSpan('node-root', { attributes: { 'test.encoding': encoding } }, parentCtx);
  const child = tracer.startSpan('node-child', {
    attributes: { 'llm.model': 'gpt-test', 'tokens': 42, 'ok': true, 'ratio': 0.5 },
  }, trace.setSpan(parentCtx, root));
  child.recordException(new TypeError('node boom'));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'node failed' });
  child.end();
  root.end();

  await provider.forceFlush();
  await provider.shutdown();

  const ids = (s) => ({ trace_id: s.spanContext().traceId, span_id: s.spanContext().spanId });
  process.stdout.write(JSON.stringify({ root: ids(root), child: ids(child) }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`export-spans: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
