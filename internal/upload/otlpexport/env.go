package otlpexport

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout is the request timeout when OTEL_EXPORTER_OTLP_TIMEOUT is
// not set, as in the OpenTelemetry specification.
const DefaultTimeout = 10 * time.Second

const envPrefix = "OTEL_EXPORTER_OTLP_"

// FromEnv reads the OpenTelemetry exporter variables from environ (KEY=VALUE
// entries): OTEL_EXPORTER_OTLP_{ENDPOINT,HEADERS,PROTOCOL,TIMEOUT,
// COMPRESSION,CERTIFICATE,CLIENT_CERTIFICATE,CLIENT_KEY,INSECURE}, each of
// them also per signal (OTEL_EXPORTER_OTLP_TRACES_HEADERS, ...), where the
// per-signal variable wins; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
// An empty variable counts as unset. endpoint, when not empty (the
// --otlp-endpoint flag or the config file), replaces
// OTEL_EXPORTER_OTLP_ENDPOINT. Without OTEL_SERVICE_NAME or a service.name
// in OTEL_RESOURCE_ATTRIBUTES, ServiceName is empty: each run's records
// then get the run's own deployment.
//
// Without any endpoint the Config is not Enabled. A bad value is an error
// that names the variable and never quotes a header value.
func FromEnv(environ []string, endpoint string) (Config, error) {
	env := make(map[string]string, 16)
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && v != "" && (strings.HasPrefix(k, "OTEL_")) {
			env[k] = v
		}
	}
	if endpoint != "" {
		env[envPrefix+"ENDPOINT"] = endpoint
	}
	var cfg Config
	res, err := parsePairs(env["OTEL_RESOURCE_ATTRIBUTES"])
	if err != nil {
		return Config{}, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	if v, ok := res["service.name"]; ok {
		cfg.ServiceName = v
		delete(res, "service.name")
	}
	if v := env["OTEL_SERVICE_NAME"]; v != "" {
		cfg.ServiceName = v
	}
	if len(res) > 0 {
		cfg.Resource = res
	}
	tlsByFiles := make(map[[3]string]*tls.Config)
	for _, p := range []struct {
		dst  *Signal
		name string
		path string
	}{{&cfg.Traces, "TRACES", "v1/traces"}, {&cfg.Metrics, "METRICS", "v1/metrics"}, {&cfg.Logs, "LOGS", "v1/logs"}} {
		if *p.dst, err = signalFromEnv(env, p.name, p.path, tlsByFiles); err != nil {
			return Config{}, err
		}
	}
	return cfg, nil
}

// signalFromEnv reads one signal's settings. Signals whose TLS files are
// the same share one *tls.Config (tlsByFiles), so that New gives them one
// connection pool.
func signalFromEnv(env map[string]string, signal, path string, tlsByFiles map[[3]string]*tls.Config) (Signal, error) {
	// lookup returns the per-signal variable's name and value, or else the
	// general one's.
	lookup := func(key string) (string, string) {
		if name := envPrefix + signal + "_" + key; env[name] != "" {
			return name, env[name]
		}
		name := envPrefix + key
		return name, env[name]
	}
	var sig Signal
	name, proto := lookup("PROTOCOL")
	switch proto {
	case "":
		sig.Protocol = ProtocolHTTPProtobuf
	case ProtocolHTTPProtobuf, ProtocolHTTPJSON, ProtocolGRPC:
		sig.Protocol = proto
	default:
		return Signal{}, fmt.Errorf("%s: protocol %q: want http/protobuf, http/json or grpc", name, proto)
	}

	name, ins := lookup("INSECURE")
	if ins != "" {
		b, err := strconv.ParseBool(ins)
		if err != nil {
			return Signal{}, fmt.Errorf("%s: %q is not a boolean", name, ins)
		}
		sig.Insecure = b
	}

	perSignal := envPrefix + signal + "_ENDPOINT"
	raw, name, appendPath := env[perSignal], perSignal, false
	if raw == "" {
		raw, name, appendPath = env[envPrefix+"ENDPOINT"], envPrefix+"ENDPOINT", true
	}
	if raw == "" {
		return Signal{}, nil
	}
	u, err := endpointURL(raw, sig.Protocol, sig.Insecure, appendPath, path)
	if err != nil {
		return Signal{}, fmt.Errorf("%s: %w", name, err)
	}
	sig.URL = u

	name, hdrs := lookup("HEADERS")
	if hdrs != "" {
		h, err := parsePairs(hdrs)
		if err != nil {
			return Signal{}, fmt.Errorf("%s: %w", name, err)
		}
		for k := range h {
			if !validHeaderName(k) {
				return Signal{}, fmt.Errorf("%s: invalid header name", name)
			}
		}
		sig.Headers = h
	}

	sig.Timeout = DefaultTimeout
	if name, v := lookup("TIMEOUT"); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 || ms > int64(24*time.Hour/time.Millisecond) {
			return Signal{}, fmt.Errorf("%s: %q is not a timeout in milliseconds", name, v)
		}
		sig.Timeout = time.Duration(ms) * time.Millisecond
	}

	sig.Compression = CompressionGzip
	if name, v := lookup("COMPRESSION"); v != "" {
		switch v {
		case CompressionGzip, CompressionNone:
			sig.Compression = v
		default:
			return Signal{}, fmt.Errorf("%s: compression %q: want gzip or none", name, v)
		}
	}

	files := [3]string{}
	_, files[0] = lookup("CERTIFICATE")
	_, files[1] = lookup("CLIENT_CERTIFICATE")
	_, files[2] = lookup("CLIENT_KEY")
	if cached, ok := tlsByFiles[files]; ok {
		sig.TLS = cached
		return sig, nil
	}
	if sig.TLS, err = tlsFromEnv(lookup); err != nil {
		return Signal{}, err
	}
	tlsByFiles[files] = sig.TLS
	return sig, nil
}

// CheckEndpoint reports what is wrong with endpoint as the endpoint of
// every signal (the --otlp-endpoint flag or the config file, which replace
// OTEL_EXPORTER_OTLP_ENDPOINT), under the protocol and insecure setting of
// environ's OTEL_EXPORTER_OTLP_PROTOCOL and _INSECURE.
func CheckEndpoint(environ []string, endpoint string) error {
	var proto, insecure string
	for _, kv := range environ {
		switch k, v, _ := strings.Cut(kv, "="); k {
		case envPrefix + "PROTOCOL":
			proto = v
		case envPrefix + "INSECURE":
			insecure = v
		}
	}
	ins, _ := strconv.ParseBool(insecure) // a bad value is FromEnv's to report
	_, err := endpointURL(endpoint, proto, ins, true, "v1/traces")
	return err
}

// endpointURL checks an endpoint and returns the URL a Signal uses: for
// http, the base URL with path appended (OTEL_EXPORTER_OTLP_ENDPOINT) or
// the URL as is (the per-signal variables); for grpc, scheme://host:port,
// where an endpoint without scheme gets https, or http when insecure.
func endpointURL(raw, proto string, insecure, appendPath bool, path string) (string, error) {
	if proto == ProtocolGRPC && !strings.Contains(raw, "://") {
		scheme := "https://"
		if insecure {
			scheme = "http://"
		}
		raw = scheme + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("no host in URL")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("port %s: want 1 to 65535", p)
		}
	}
	if proto == ProtocolGRPC {
		return u.Scheme + "://" + u.Host, nil
	}
	if appendPath {
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		u.Path += path
		u.RawPath = ""
	}
	return u.String(), nil
}

// tlsFromEnv builds the TLS settings of CERTIFICATE, CLIENT_CERTIFICATE
// and CLIENT_KEY (PEM files), or nil when none is set.
func tlsFromEnv(lookup func(string) (string, string)) (*tls.Config, error) {
	caName, ca := lookup("CERTIFICATE")
	certName, cert := lookup("CLIENT_CERTIFICATE")
	keyName, key := lookup("CLIENT_KEY")
	if ca == "" && cert == "" && key == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", caName, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate in %s", caName, ca)
		}
		cfg.RootCAs = pool
	}
	switch {
	case cert != "" && key != "":
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("%s, %s: %w", certName, keyName, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case cert != "":
		return nil, fmt.Errorf("%s is set without %s", certName, keyName)
	case key != "":
		return nil, fmt.Errorf("%s is set without %s", keyName, certName)
	}
	return cfg, nil
}

// parsePairs parses the W3C-baggage-like lists of OTEL_EXPORTER_OTLP_HEADERS
// and OTEL_RESOURCE_ATTRIBUTES: "key1=value1,key2=value2", keys and values
// trimmed, values percent-decoded. Errors never quote a value.
func parsePairs(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := make(map[string]string)
	for i, item := range strings.Split(s, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("entry %d is not key=value", i+1)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("entry %d (%s): bad percent-encoding", i+1, k)
		}
		out[k] = dv
	}
	return out, nil
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
