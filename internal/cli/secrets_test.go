package cli

import (
	"slices"
	"testing"
)

// TestSecretsCoverEveryOTLPHeader: the values of the general and the
// per-signal OTLP header variables, as written and percent-decoded, are
// redacted from everything graphsignal stores or prints.
func TestSecretsCoverEveryOTLPHeader(t *testing.T) {
	environ := []string{
		"OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20general-123",
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS=x-api-key=traces-456",
		"OTEL_EXPORTER_OTLP_METRICS_HEADERS=x-api-key=metrics-789",
		"OTEL_EXPORTER_OTLP_LOGS_HEADERS=a=b,x-token=logs-abc",
	}
	got := secrets(&Config{APIKey: "key-0000"}, environ, "gs-local-token")
	for _, want := range []string{"key-0000", "gs-local-token", "Bearer%20general-123", "Bearer general-123",
		"traces-456", "metrics-789", "logs-abc"} {
		if !slices.Contains(got, want) {
			t.Errorf("secrets() = %q, missing %q", got, want)
		}
	}
}
