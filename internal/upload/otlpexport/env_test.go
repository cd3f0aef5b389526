package otlpexport

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestFromEnv(t *testing.T) {
	def := func(url string) Signal {
		return Signal{URL: url, Protocol: ProtocolHTTPProtobuf, Timeout: DefaultTimeout, Compression: CompressionGzip}
	}
	with := func(s Signal, f func(*Signal)) Signal { f(&s); return s }
	tests := []struct {
		name     string
		env      []string
		endpoint string
		want     Config
	}{
		{
			name: "nothing set",
			env:  []string{"PATH=/bin", "OTEL_EXPORTER_OTLP_HEADERS=a=b"},
			want: Config{},
		},
		{
			name: "base endpoint gets signal paths",
			env:  []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318"},
			want: Config{
				Traces:  def("http://collector:4318/v1/traces"),
				Metrics: def("http://collector:4318/v1/metrics"),
				Logs:    def("http://collector:4318/v1/logs"),
			},
		},
		{
			name: "base endpoint with a path and trailing slash",
			env:  []string{"OTEL_EXPORTER_OTLP_ENDPOINT=https://gw.example/otlp/"},
			want: Config{
				Traces:  def("https://gw.example/otlp/v1/traces"),
				Metrics: def("https://gw.example/otlp/v1/metrics"),
				Logs:    def("https://gw.example/otlp/v1/logs"),
			},
		},
		{
			name: "per-signal endpoint used as is and wins",
			env: []string{
				"OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318",
				"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://traces:9999/custom",
			},
			want: Config{
				Traces:  def("http://traces:9999/custom"),
				Metrics: def("http://collector:4318/v1/metrics"),
				Logs:    def("http://collector:4318/v1/logs"),
			},
		},
		{
			name: "only one signal",
			env:  []string{"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://logs:4318/v1/logs"},
			want: Config{Logs: def("http://logs:4318/v1/logs")},
		},
		{
			name:     "flag replaces the base endpoint, not the per-signal one",
			env:      []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://env:4318", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://m:1/x"},
			endpoint: "http://flag:4318",
			want: Config{
				Traces:  def("http://flag:4318/v1/traces"),
				Metrics: def("http://m:1/x"),
				Logs:    def("http://flag:4318/v1/logs"),
			},
		},
		{
			name: "empty variables count as unset",
			env:  []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=", "OTEL_EXPORTER_OTLP_PROTOCOL=", "OTEL_SERVICE_NAME="},
			want: Config{
				Traces:  def("http://c:4318/v1/traces"),
				Metrics: def("http://c:4318/v1/metrics"),
				Logs:    def("http://c:4318/v1/logs"),
			},
		},
		{
			name: "headers percent-decoded, per-signal headers replace",
			env: []string{
				"OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318",
				"OTEL_EXPORTER_OTLP_HEADERS= Authorization = Bearer%20tok%2Cen , x-tenant=acme,,",
				"OTEL_EXPORTER_OTLP_LOGS_HEADERS=x-logs=1%3D2",
			},
			want: Config{
				Traces: with(def("http://c:4318/v1/traces"), func(s *Signal) {
					s.Headers = map[string]string{"Authorization": "Bearer tok,en", "x-tenant": "acme"}
				}),
				Metrics: with(def("http://c:4318/v1/metrics"), func(s *Signal) {
					s.Headers = map[string]string{"Authorization": "Bearer tok,en", "x-tenant": "acme"}
				}),
				Logs: with(def("http://c:4318/v1/logs"), func(s *Signal) { s.Headers = map[string]string{"x-logs": "1=2"} }),
			},
		},
		{
			name: "protocol, timeout and compression, per signal",
			env: []string{
				"OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318",
				"OTEL_EXPORTER_OTLP_PROTOCOL=http/json",
				"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/protobuf",
				"OTEL_EXPORTER_OTLP_TIMEOUT=2500",
				"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT=0",
				"OTEL_EXPORTER_OTLP_COMPRESSION=none",
				"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION=gzip",
			},
			want: Config{
				Traces:  Signal{URL: "http://c:4318/v1/traces", Protocol: ProtocolHTTPJSON, Timeout: 2500 * time.Millisecond, Compression: CompressionGzip},
				Metrics: Signal{URL: "http://c:4318/v1/metrics", Protocol: ProtocolHTTPProtobuf, Timeout: 2500 * time.Millisecond, Compression: CompressionNone},
				Logs:    Signal{URL: "http://c:4318/v1/logs", Protocol: ProtocolHTTPJSON, Timeout: 0, Compression: CompressionNone},
			},
		},
		{
			name: "grpc: no path appended, scheme-less endpoint with insecure",
			env: []string{
				"OTEL_EXPORTER_OTLP_ENDPOINT=collector:4317",
				"OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
				"OTEL_EXPORTER_OTLP_INSECURE=true",
				"OTEL_EXPORTER_OTLP_METRICS_INSECURE=false",
				"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=https://logs:4317/ignored/path",
			},
			want: Config{
				Traces:  Signal{URL: "http://collector:4317", Protocol: ProtocolGRPC, Timeout: DefaultTimeout, Compression: CompressionGzip, Insecure: true},
				Metrics: Signal{URL: "https://collector:4317", Protocol: ProtocolGRPC, Timeout: DefaultTimeout, Compression: CompressionGzip},
				Logs:    Signal{URL: "https://logs:4317", Protocol: ProtocolGRPC, Timeout: DefaultTimeout, Compression: CompressionGzip, Insecure: true},
			},
		},
		{
			name: "service name and resource attributes",
			env:  []string{"OTEL_RESOURCE_ATTRIBUTES=service.name=from-attrs,deployment.environment.name=prod%20eu,team=ml"},
			want: Config{ServiceName: "from-attrs", Resource: map[string]string{"deployment.environment.name": "prod eu", "team": "ml"}},
		},
		{
			name: "OTEL_SERVICE_NAME wins over resource attributes",
			env:  []string{"OTEL_RESOURCE_ATTRIBUTES=service.name=from-attrs", "OTEL_SERVICE_NAME=svc"},
			want: Config{ServiceName: "svc"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromEnv(tt.env, tt.endpoint)
			if err != nil {
				t.Fatalf("FromEnv(%q) error: %v", tt.env, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Config{}, "Now")); diff != "" {
				t.Errorf("FromEnv(%q) mismatch (-want +got):\n%s", tt.env, diff)
			}
			if got.Enabled() != (tt.want.Traces.URL != "" || tt.want.Metrics.URL != "" || tt.want.Logs.URL != "") {
				t.Errorf("Enabled() = %v", got.Enabled())
			}
		})
	}
}

func TestFromEnvErrors(t *testing.T) {
	const secret = "s3cr3t-value"
	base := "OTEL_EXPORTER_OTLP_ENDPOINT=http://c:4318"
	tests := []struct {
		env     []string
		wantVar string
	}{
		{[]string{base, "OTEL_EXPORTER_OTLP_TIMEOUT=ten"}, "OTEL_EXPORTER_OTLP_TIMEOUT"},
		{[]string{base, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=-5"}, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"},
		{[]string{base, "OTEL_EXPORTER_OTLP_TIMEOUT=1.5"}, "OTEL_EXPORTER_OTLP_TIMEOUT"},
		{[]string{base, "OTEL_EXPORTER_OTLP_PROTOCOL=thrift"}, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{[]string{base, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http"}, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"},
		{[]string{base, "OTEL_EXPORTER_OTLP_COMPRESSION=zstd"}, "OTEL_EXPORTER_OTLP_COMPRESSION"},
		{[]string{base, "OTEL_EXPORTER_OTLP_INSECURE=maybe"}, "OTEL_EXPORTER_OTLP_INSECURE"},
		{[]string{"OTEL_EXPORTER_OTLP_ENDPOINT=collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{[]string{"OTEL_EXPORTER_OTLP_ENDPOINT=ftp://c"}, "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{[]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://"}, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"},
		{[]string{base, "OTEL_EXPORTER_OTLP_HEADERS=Authorization"}, "OTEL_EXPORTER_OTLP_HEADERS"},
		{[]string{base, "OTEL_EXPORTER_OTLP_HEADERS=Authorization=" + secret + "%zz"}, "OTEL_EXPORTER_OTLP_HEADERS"},
		{[]string{base, "OTEL_EXPORTER_OTLP_TRACES_HEADERS=bad header=" + secret}, "OTEL_EXPORTER_OTLP_TRACES_HEADERS"},
		{[]string{base, "OTEL_EXPORTER_OTLP_CERTIFICATE=/nonexistent/ca.pem"}, "OTEL_EXPORTER_OTLP_CERTIFICATE"},
		{[]string{base, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=/x.pem"}, "OTEL_EXPORTER_OTLP_CLIENT_KEY"},
		{[]string{base, "OTEL_EXPORTER_OTLP_CLIENT_KEY=/x.pem"}, "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"},
		{[]string{"OTEL_RESOURCE_ATTRIBUTES=a=%zz" + secret}, "OTEL_RESOURCE_ATTRIBUTES"},
	}
	for _, tt := range tests {
		_, err := FromEnv(tt.env, "")
		if err == nil {
			t.Errorf("FromEnv(%q) = nil error, want one naming %s", tt.env, tt.wantVar)
			continue
		}
		if !strings.Contains(err.Error(), tt.wantVar) {
			t.Errorf("FromEnv(%q) = %v, want it to name %s", tt.env, err, tt.wantVar)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("FromEnv(%q) = %v: quotes a header value", tt.env, err)
		}
	}
}

func TestFromEnvTLS(t *testing.T) {
	pki := newTestPKI(t)
	dir := t.TempDir()
	ca := writeFile(t, dir, "ca.pem", pki.caPEM)
	cert := writeFile(t, dir, "client.pem", pki.clientCertPEM)
	key := writeFile(t, dir, "client-key.pem", pki.clientKeyPEM)
	notPEM := writeFile(t, dir, "junk.pem", []byte("not a certificate"))

	cfg, err := FromEnv([]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=https://c:4318",
		"OTEL_EXPORTER_OTLP_CERTIFICATE=" + ca,
		"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE=" + cert,
		"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY=" + key,
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	tr := cfg.Traces.TLS
	if tr == nil || tr.RootCAs == nil || len(tr.Certificates) != 1 {
		t.Fatalf("traces TLS = %+v, want the CA and one client certificate", tr)
	}
	if m := cfg.Metrics.TLS; m == nil || m.RootCAs == nil || len(m.Certificates) != 0 {
		t.Errorf("metrics TLS = %+v, want the CA only", m)
	}
	if cfg.Metrics.TLS != cfg.Logs.TLS || cfg.Traces.TLS == cfg.Metrics.TLS {
		t.Errorf("TLS configs: metrics and logs (same files) should share one, traces (own client certificate) not")
	}
	if !tr.RootCAs.Equal(pki.pool) {
		t.Errorf("traces RootCAs differ from the test CA")
	}
	if tr.MinVersion < tls.VersionTLS12 {
		t.Errorf("MinVersion = %x", tr.MinVersion)
	}

	_, err = FromEnv([]string{"OTEL_EXPORTER_OTLP_ENDPOINT=https://c", "OTEL_EXPORTER_OTLP_CERTIFICATE=" + notPEM}, "")
	if err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_CERTIFICATE") {
		t.Errorf("junk CA: err = %v, want one naming OTEL_EXPORTER_OTLP_CERTIFICATE", err)
	}
	_, err = FromEnv([]string{"OTEL_EXPORTER_OTLP_ENDPOINT=https://c", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=" + cert, "OTEL_EXPORTER_OTLP_CLIENT_KEY=" + ca}, "")
	if err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_CLIENT_KEY") {
		t.Errorf("mismatched key: err = %v, want one naming OTEL_EXPORTER_OTLP_CLIENT_KEY", err)
	}
}

func TestSecrets(t *testing.T) {
	cfg := Config{
		Traces:  Signal{URL: "https://u:pw@c/v1/traces?api_key=qk", Headers: map[string]string{"Authorization": "Bearer abc"}},
		Metrics: Signal{URL: "https://c/v1/metrics", Headers: map[string]string{"X-Key": "k2", "Empty": ""}},
	}
	got := cfg.Secrets()
	want := []string{"Bearer abc", "pw", "qk", "k2"}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("Secrets() mismatch (-want +got):\n%s", diff)
	}
}

// TestDescribe: --debug says where each signal goes and how, with the
// header names and never their values.
func TestDescribe(t *testing.T) {
	cfg, err := FromEnv([]string{
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://t:4318/v1/traces",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=http://m:4318/v1/metrics",
		"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL=http/json",
		"OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20sekret123,x-team=ml",
		"OTEL_EXPORTER_OTLP_COMPRESSION=none",
		"OTEL_SERVICE_NAME=svc",
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"traces http://t:4318/v1/traces · http/protobuf · none · timeout 10s · headers: authorization, x-team",
		"metrics http://m:4318/v1/metrics · http/json · none · timeout 10s · headers: authorization, x-team",
		"service.name svc",
	}
	got := cfg.Describe()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Describe (-want +got):\n%s", diff)
	}
	if strings.Contains(strings.Join(got, "\n"), "sekret123") {
		t.Error("Describe shows a header value")
	}
}
