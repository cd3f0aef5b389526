package env

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOTLPChildEndpoints(t *testing.T) {
	const (
		h = "http://127.0.0.1:4000/cafe"
		g = "http://127.0.0.1:4000"
	)
	tests := []struct {
		name    string
		environ []string
		want    map[string]string
	}{
		{"nothing set", []string{"PATH=/bin"},
			map[string]string{VarOTLPEndpoint: h}},
		{"user endpoint, default protocol", []string{"OTEL_EXPORTER_OTLP_ENDPOINT=https://collector:4318"},
			map[string]string{VarOTLPEndpoint: h}},
		{"grpc", []string{"OTEL_EXPORTER_OTLP_ENDPOINT=https://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL= GRPC "},
			map[string]string{VarOTLPEndpoint: g}},
		{"http/json", []string{"OTEL_EXPORTER_OTLP_PROTOCOL=http/json"},
			map[string]string{VarOTLPEndpoint: h}},
		{"per-signal endpoints", []string{
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=https://t:4318/v1/traces",
			"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=https://l:4318/custom",
			"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=",
		}, map[string]string{VarOTLPEndpoint: h, VarOTLPTracesEndpoint: h + "/v1/traces", VarOTLPLogsEndpoint: h + "/v1/logs"}},
		{"per-signal endpoint with grpc", []string{
			"OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
			"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=https://m:4317",
		}, map[string]string{VarOTLPEndpoint: g, VarOTLPMetricsEndpoint: g}},
		{"per-signal protocol differs", []string{
			"OTEL_EXPORTER_OTLP_ENDPOINT=https://c:4318",
			"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc",
		}, map[string]string{VarOTLPEndpoint: h, VarOTLPTracesEndpoint: g}},
		{"per-signal http under grpc", []string{
			"OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
			"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http/protobuf",
		}, map[string]string{VarOTLPEndpoint: g, VarOTLPLogsEndpoint: h + "/v1/logs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := OTLPChildEndpoints(tt.environ, h, g)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("OTLPChildEndpoints(%q) mismatch (-want +got):\n%s", tt.environ, diff)
			}
		})
	}
}
