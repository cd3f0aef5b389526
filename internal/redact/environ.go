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
// the form of os.Environ), for New:
//
//   - the value of every variable whose name is secret (IsSecretName, or
//     ending in _KEY or -KEY: GRAPHSIGNAL_API_KEY, HF_TOKEN,
//     AWS_SECRET_ACCESS_KEY, PGPASSWORD, STRIPE_KEY) when the value looks
//     like a secret (secretValue);
//   - the password of a URL with credentials in any variable
//     (DATABASE_URL=postgres://app:Xy9…@db/app, NEXTAUTH_URL), when it looks
//     like a secret; the rest of the URL is not secret;
//   - every header value of the OTLP headers variables
//     (OTEL_EXPORTER_OTLP_HEADERS and its per-signal forms), as written,
//     percent-decoded, and the credential alone after an authentication
//     scheme ("Bearer%20abc" gives "Bearer%20abc", "Bearer abc" and "abc").
//
// Values left out are still redacted where they appear by name (Text,
// Args); they are only not searched for everywhere, where replacing them
// would mangle ordinary text.
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
		if (isSecretKeyName(name) || n == "key") && secretValue(name, v) {
			out = append(out, v)
			continue
		}
		if p, ok := urlPassword(v); ok && secretValue("password", p) {
			out = append(out, p)
		}
	}
	return out
}

// secretValue reports whether v, the value of the secret variable name, is
// worth redacting wherever it appears. Left out are values shorter than
// MinEnvValue, and values that read as names rather than secrets
// (plainIdentifier): lower-case words and numbers of at most two digits
// joined by "_", "-" or "." (created_at, user.id, us-east-1, prod-eu), or a
// single lower-case word under 12 letters (enabled, default). For a
// password (a name with password, passwd, passphrase or pass), which people
// choose and so is often made of words, only the single short word is left
// out: correct-horse-battery is a password. A value with a known token
// prefix (sk-, sk_, rk_, hf_, ghp_, AKIA, xoxb-, …) is always kept.
// Everything else, which has upper-case letters, a word with digits in it
// (hunter2, gsk9…), a longer number, or any other byte, is kept.
func secretValue(name, v string) bool {
	if len(v) < MinEnvValue {
		return false
	}
	if hasTokenPrefix(v) {
		return true
	}
	if isPasswordName(name) {
		return !(len(v) < 12 && isLowerWord(v))
	}
	return !plainIdentifier(v)
}

// plainIdentifier reports whether v is lower-case words and numbers of at
// most two digits joined by "_", "-" or ".", with at least one joint, or a
// single lower-case word under 12 letters.
func plainIdentifier(v string) bool {
	joints := 0
	for _, seg := range strings.FieldsFunc(v, func(r rune) bool {
		if r == '_' || r == '-' || r == '.' {
			joints++
			return true
		}
		return false
	}) {
		if !isLowerWord(seg) && !(len(seg) <= 2 && isDigits(seg)) {
			return false
		}
	}
	return joints > 0 || len(v) < 12
}

// isPasswordName reports whether a variable's name says it holds a
// password.
func isPasswordName(name string) bool {
	n := normalizeName(name)
	for _, w := range [...]string{"password", "passwd", "passphrase"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return slices.Contains(nameWords(name), "pass")
}

// secretPrefixes are the beginnings of API keys that EnvironValues always
// takes as secret, besides those of tokenShapes: Stripe's secret and
// restricted keys and webhook secrets.
var secretPrefixes = [...]string{"sk_", "rk_", "whsec_"}

func hasTokenPrefix(v string) bool {
	for _, t := range tokenShapes {
		if strings.HasPrefix(v, t.prefix) {
			return true
		}
	}
	for _, p := range secretPrefixes {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return false
}

// urlPassword returns the password, percent-decoded, of a value that is a
// URL with credentials (scheme://user:password@host…).
func urlPassword(v string) (string, bool) {
	if !strings.Contains(v, "://") || !strings.Contains(v, "@") {
		return "", false
	}
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return "", false
	}
	p, ok := u.User.Password()
	return p, ok && p != ""
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

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isLowerWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return s != ""
}
