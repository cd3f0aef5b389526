package env

import "strings"

// The per-signal OTLP variables that the child's routing reads and, where
// the user set them, replaces (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
// VarOTLPTracesEndpoint).
const (
	VarOTLPMetricsEndpoint = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
	VarOTLPLogsEndpoint    = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"
	VarOTLPTracesProtocol  = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	VarOTLPMetricsProtocol = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"
	VarOTLPLogsProtocol    = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"
)

// OTLPChildEndpoints returns the OTLP endpoint variables that send the
// child's OpenTelemetry data to the run's intake, whatever endpoints the
// user set: the run records everything and forwards it to the user's
// endpoints itself (docs/intake.md, "The child's OTLP endpoint").
// httpBase is the intake's OTLP/HTTP base URL (with its capability path),
// grpcBase its OTLP/gRPC URL, "http://127.0.0.1:PORT".
//
// OTEL_EXPORTER_OTLP_ENDPOINT is always set: to grpcBase when
// OTEL_EXPORTER_OTLP_PROTOCOL is grpc, else to httpBase (exporters append
// /v1/<signal>; gRPC exporters that are used without the protocol variable
// ignore the path). A per-signal endpoint is set where the user set one or
// set a per-signal protocol: to grpcBase when that signal's protocol is
// grpc, else to httpBase + "/v1/<signal>" (per-signal URLs are used as
// they are). The protocol variables are never changed: the child keeps
// speaking what it speaks.
func OTLPChildEndpoints(environ []string, httpBase, grpcBase string) map[string]string {
	general := otlpProtocol(Get(environ, VarOTLPProtocol))
	base := func(protocol string) string {
		if protocol == "grpc" {
			return grpcBase
		}
		return httpBase
	}
	out := map[string]string{VarOTLPEndpoint: base(general)}
	// Each signal's endpoint and protocol variables, and the path OTLP/HTTP
	// exporters append to the general endpoint.
	signals := [...]struct{ endpoint, protocol, path string }{
		{VarOTLPTracesEndpoint, VarOTLPTracesProtocol, "/v1/traces"},
		{VarOTLPMetricsEndpoint, VarOTLPMetricsProtocol, "/v1/metrics"},
		{VarOTLPLogsEndpoint, VarOTLPLogsProtocol, "/v1/logs"},
	}
	for _, s := range signals {
		ep := strings.TrimSpace(Get(environ, s.endpoint))
		proto := otlpProtocol(Get(environ, s.protocol))
		if ep == "" && proto == "" {
			continue
		}
		if proto == "" {
			proto = general
		}
		out[s.endpoint] = base(proto)
		if proto != "grpc" {
			out[s.endpoint] += s.path
		}
	}
	return out
}

// otlpProtocol normalises an OTEL_EXPORTER_OTLP_*PROTOCOL value as the SDKs
// read it: trimmed, lower case.
func otlpProtocol(v string) string {
	return strings.ToLower(strings.TrimSpace(v))
}
