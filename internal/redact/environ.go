package redact

import (
	"net/url"
	"slices"
	"strings"
)

// MinEnvValue is the shortest value of a secret environment variable that
// EnvironValues returns: shorter values ("1", "true", "dev") would redact
// ordinary words wherever they appear.
const MinEnvValue = 6

// minHeaderValue is the shortest OTLP header value (or credential inside
// one) that EnvironValues returns.
const minHeaderValue = 4

// EnvironValues returns the secret values found in environ ("NAME=value",
// the form of os.Environ), for New: the value of every variable whose name
// is secret (IsSecretName, or ending in _KEY or -KEY: GRAPHSIGNAL_API_KEY,
// HF_TOKEN, AWS_SECRET_ACCESS_KEY, PGPASSWORD, STRIPE_KEY) and every header
// value of the OTLP headers variables (OTEL_EXPORTER_OTLP_HEADERS and its
// per-signal forms), as written, percent-decoded, and the credential alone
// after an authentication scheme ("Bearer%20abc" gives "Bearer%20abc",
// "Bearer abc" and "abc").
//
// A value shorter than MinEnvValue is left out, and so is a single
// lower-case word under 12 letters ("enabled", "default"): they are more
// likely modes and names than secrets, and replacing them would mangle
// ordinary text. Such a value is still redacted where it appears by name
// (Text, Args).
func EnvironValues(environ []string) []string {
	var out []string
	for _, kv := range environ {
		name, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			continue
		}
		n := normalizeName(name)
		if strings.HasPrefix(n, "otel-exporter-otlp-") && strings.HasSuffix(n, "headers") {
			out = append(out, HeaderListValues(v)...)
			continue
		}
		if !isSecretKeyName(name) && n != "key" {
			continue
		}
		if len(v) < MinEnvValue || len(v) < 12 && isLowerWord(v) {
			continue
		}
		out = append(out, v)
	}
	return out
}

// HeaderListValues returns the values of a "k=v,k2=v2" header list (the
// format of OTEL_EXPORTER_OTLP_HEADERS, percent-encoded): each as written,
// percent-decoded, and the credential after an authentication scheme
// ("Bearer abc" gives "abc"), leaving out values shorter than 4 bytes.
func HeaderListValues(list string) []string {
	var out []string
	add := func(v string) {
		if v = strings.TrimSpace(v); len(v) >= minHeaderValue && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	for _, kv := range strings.Split(list, ",") {
		_, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		add(v)
		d, err := url.QueryUnescape(strings.ReplaceAll(v, "+", "%2B"))
		if err != nil {
			continue
		}
		add(d)
		if scheme, cred, ok := strings.Cut(d, " "); ok && isToken(scheme) {
			add(cred)
		}
	}
	return out
}

func isLowerWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}
