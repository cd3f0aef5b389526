package otlpexport

import "testing"

// TestNameIsTheDestination: the name (the destination's identity in the
// spool) tells apart every endpoint a signal may go to, path and protocol
// included, and SettingFor reads back the settings that send there.
func TestNameIsTheDestination(t *testing.T) {
	h := func(url string) Signal { return Signal{URL: url, Protocol: ProtocolHTTPProtobuf} }
	j := func(url string) Signal { return Signal{URL: url, Protocol: ProtocolHTTPJSON} }
	g := func(url string) Signal { return Signal{URL: url, Protocol: ProtocolGRPC} }
	all := func(sig func(string) Signal, base string) Config {
		return Config{Traces: sig(base + "/v1/traces"), Metrics: sig(base + "/v1/metrics"), Logs: sig(base + "/v1/logs")}
	}
	for _, tc := range []struct {
		name        string
		cfg         Config
		want, setTo string
	}{
		{"one endpoint", all(h, "https://c:4318"), "OTLP https://c:4318",
			"set OTEL_EXPORTER_OTLP_ENDPOINT (or --otlp-endpoint) to https://c:4318"},
		{"a path is part of it", all(h, "https://gw/tenant-a"), "OTLP https://gw/tenant-a",
			"set OTEL_EXPORTER_OTLP_ENDPOINT (or --otlp-endpoint) to https://gw/tenant-a"},
		{"credentials and queries left out", all(h, "https://u:secret@c:4318"), "OTLP https://redacted@c:4318",
			"set OTEL_EXPORTER_OTLP_ENDPOINT (or --otlp-endpoint) to https://redacted@c:4318"},
		{"json", all(j, "http://c:4318"), "OTLP http://c:4318 (http/json)",
			"set OTEL_EXPORTER_OTLP_ENDPOINT (or --otlp-endpoint) to http://c:4318 and OTEL_EXPORTER_OTLP_PROTOCOL to http/json"},
		{"grpc", Config{Traces: g("http://c:4317"), Metrics: g("http://c:4317"), Logs: g("http://c:4317/ignored")}, "OTLP http://c:4317 (grpc)",
			"set OTEL_EXPORTER_OTLP_ENDPOINT (or --otlp-endpoint) to http://c:4317 and OTEL_EXPORTER_OTLP_PROTOCOL to grpc"},
		{"traces only", Config{Traces: h("http://c:4318/v1/traces?token=t")}, "OTLP traces http://c:4318/v1/traces",
			"set OTEL_EXPORTER_OTLP_TRACES_ENDPOINT to http://c:4318/v1/traces"},
		{"a path of its own", Config{Traces: h("http://c:4318/custom"), Metrics: h("http://c:4318/v1/metrics"), Logs: h("http://c:4318/v1/logs")},
			"OTLP traces http://c:4318/custom, metrics http://c:4318/v1/metrics, logs http://c:4318/v1/logs",
			"set OTEL_EXPORTER_OTLP_TRACES_ENDPOINT to http://c:4318/custom, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT to http://c:4318/v1/metrics, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT to http://c:4318/v1/logs"},
		{"mixed protocols", Config{Traces: h("https://a/v1/traces"), Metrics: g("http://b:4317")},
			"OTLP traces https://a/v1/traces, metrics http://b:4317 (grpc)",
			"set OTEL_EXPORTER_OTLP_TRACES_ENDPOINT to https://a/v1/traces, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT to http://b:4317, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL to grpc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Name(); got != tc.want {
				t.Errorf("Name() = %q, want %q", got, tc.want)
			}
			if got, ok := SettingFor(s.Name()); !ok || got != tc.setTo {
				t.Errorf("SettingFor(%q) = %q, %v, want %q", s.Name(), got, ok, tc.setTo)
			}
		})
	}
	for _, name := range []string{"Graphsignal API https://a", "OTLP ", "OTLP traces http://a/v1/traces, http://b"} {
		if got, ok := SettingFor(name); ok {
			t.Errorf("SettingFor(%q) = %q, true; want false", name, got)
		}
	}
}
