package otlpexport

import "testing"

func TestNameNamesEveryEndpoint(t *testing.T) {
	h := func(url string) Signal { return Signal{URL: url, Protocol: ProtocolHTTPProtobuf} }
	g := func(url string) Signal { return Signal{URL: url, Protocol: ProtocolGRPC} }
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"one endpoint", Config{Traces: h("https://c:4318/v1/traces"), Metrics: h("https://c:4318/v1/metrics"), Logs: h("https://c:4318/v1/logs")},
			"OTLP https://c:4318"},
		{"credentials, paths and queries left out", Config{Traces: h("https://u:secret@c:4318/x/v1/traces?token=t")},
			"OTLP https://c:4318"},
		{"traces only", Config{Traces: g("http://c:4317")}, "OTLP http://c:4317"},
		{"metrics elsewhere", Config{Traces: h("https://a:4318/v1/traces"), Metrics: h("https://b:4318/v1/metrics"), Logs: h("https://a:4318/v1/logs")},
			"OTLP https://a:4318 (traces, logs), https://b:4318 (metrics)"},
		{"each its own", Config{Traces: h("https://a/v1/traces"), Metrics: h("https://b/v1/metrics"), Logs: g("http://c:4317")},
			"OTLP https://a (traces), https://b (metrics), http://c:4317 (logs)"},
		{"no traces", Config{Metrics: h("https://b/v1/metrics"), Logs: h("https://c/v1/logs")},
			"OTLP https://b (metrics), https://c (logs)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Name(); got != tc.want {
				t.Errorf("Name() = %q, want %q", got, tc.want)
			}
		})
	}
}
