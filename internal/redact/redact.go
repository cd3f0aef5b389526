// Package redact removes secrets from strings that graphsignal prints, logs,
// stores or returns in errors: command lines, URLs, HTTP headers, environment
// variables and free text.
//
// Every function is pure and safe for concurrent use. A redacted value is
// replaced by the literal Redacted; everything else is returned byte for byte
// as it was given, including bytes that are not valid UTF-8. An empty secret
// value stays empty: there is nothing to hide, and "REDACTED" would suggest a
// value that was never there.
//
// Redaction is by name (a flag, variable, header, JSON key or query parameter
// whose name looks secret, see IsSecretName and Text), by shape (credentials
// in a URL, GitHub and AWS key formats, see Text) and by value. Values that
// are secret but carry no tell-tale name or shape, such as a key expanded
// into a shell script string, are recognised only by value: a run builds one
// Redactor (New) from the values it knows (the API key, OTLP header values
// and the secret environment variables' values, EnvironValues) and passes
// it to everything that stores or prints text.
package redact

import "strings"

// Redacted replaces every secret value.
const Redacted = "REDACTED"

// secretWords are the fragments that make a name secret (matched
// case-insensitively anywhere in the name, "-" and "_" treated alike).
var secretWords = [...]string{
	"apikey", "api-key",
	"token",
	"secret",
	"password", "passwd", "passphrase",
	"auth",
	"credential",
	"privatekey", "private-key",
	"accesskey", "access-key",
	"cookie",
}

// IsSecretName reports whether a flag, variable, header or parameter named
// name holds a secret. It matches, case-insensitively and with "_" and "-"
// treated alike, names containing api-key, token, secret, password, passwd,
// passphrase, auth, credential, private-key, access-key or cookie, and the
// names pass, passin and passout (redis-cli, openssl).
//
// Two families of common non-secret names are deliberately excluded:
// "author"/"authority" (but not "authorization") and the token counts and
// tokenizers of ML programs ("max_tokens", "--tokenizer"): recording their
// values is worth more than the small risk.
func IsSecretName(name string) bool {
	n := normalizeName(name)
	switch n {
	case "pass", "passin", "passout":
		return true
	}
	for _, w := range secretWords {
		for i := 0; ; {
			j := strings.Index(n[i:], w)
			if j < 0 {
				break
			}
			at := i + j
			if !excluded(w, n[at+len(w):]) {
				return true
			}
			i = at + 1
		}
	}
	return false
}

// excluded reports whether the word w, followed by rest, is one of the
// documented non-secret exceptions.
func excluded(w, rest string) bool {
	switch w {
	case "auth":
		// author, authority, authored; but authorization, authorisation.
		return strings.HasPrefix(rest, "or") && !strings.HasPrefix(rest, "oriz") && !strings.HasPrefix(rest, "oris")
	case "token":
		// tokenizer, tokenise, tokens (counts such as max_tokens).
		return strings.HasPrefix(rest, "iz") || strings.HasPrefix(rest, "is") || strings.HasPrefix(rest, "s")
	}
	return false
}

// normalizeName lower-cases ASCII letters and maps "_" to "-". Non-ASCII
// bytes are kept, so the result is only used for matching.
func normalizeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'A' <= c && c <= 'Z':
			b[i] = c + ('a' - 'A')
		case c == '_':
			b[i] = '-'
		}
	}
	return string(b)
}

// Header returns the value of the HTTP header name as it may be shown:
// Redacted when the header carries credentials, value unchanged otherwise.
//
// Secret headers are Authorization, Proxy-Authorization, Cookie, Set-Cookie,
// and every header whose name contains key or is secret by IsSecretName
// (X-API-Key, X-Auth-Token, X-Amz-Security-Token, X-Goog-Api-Key).
// For Authorization and Proxy-Authorization the scheme is kept
// ("Bearer REDACTED") because it tells which kind of credential was sent.
func Header(name, value string) string {
	if value == "" || !isSecretHeader(name) {
		return value
	}
	n := normalizeName(strings.TrimSpace(name))
	if n == "authorization" || n == "proxy-authorization" {
		v := strings.TrimLeft(value, " \t")
		if i := strings.IndexAny(v, " \t"); i > 0 && isToken(v[:i]) {
			lead := len(value) - len(v)
			return value[:lead+i+1] + Redacted
		}
	}
	return Redacted
}

func isSecretHeader(name string) bool {
	n := normalizeName(strings.TrimSpace(name))
	return IsSecretName(n) || strings.Contains(n, "key")
}

// isToken reports whether s is an RFC 9110 token, the syntax of an HTTP
// header name or an authentication scheme.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// HeaderLine redacts one "Name: value" header line, the form curl's -H and
// most --header flags take. A string that is not a header line is returned
// unchanged.
func HeaderLine(s string) string {
	i := strings.IndexByte(s, ':')
	if i <= 0 || !isToken(s[:i]) {
		return s
	}
	v := s[i+1:]
	trimmed := strings.TrimLeft(v, " \t")
	if trimmed == "" {
		return s
	}
	r := Header(s[:i], trimmed)
	if r == trimmed {
		return s
	}
	return s[:i+1] + v[:len(v)-len(trimmed)] + r
}

// HeaderList redacts every value of a comma-separated "k=v,k2=v2" header
// list, the format of OTEL_EXPORTER_OTLP_HEADERS: all values are treated as
// secret, whatever the header's name, because that variable exists to carry
// credentials. Entries without "=" are kept as they are.
func HeaderList(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if ok && strings.TrimSpace(v) != "" {
			parts[i] = k + "=" + Redacted
		}
	}
	return strings.Join(parts, ",")
}

// EnvVar returns the value of the environment variable name as it may be
// shown: Redacted when the name is secret (IsSecretName), every value of an
// OTLP headers variable (HeaderList), and otherwise the value with URL
// credentials removed (URL), so DATABASE_URL=postgres://u:p@h/db is shown
// with its password redacted.
func EnvVar(name, value string) string {
	if value == "" {
		return value
	}
	n := normalizeName(name)
	if strings.HasPrefix(n, "otel-exporter-otlp-") && strings.HasSuffix(n, "headers") {
		return HeaderList(value)
	}
	if IsSecretName(name) {
		return Redacted
	}
	return Text(value)
}

// Environ returns a copy of environ ("NAME=value" entries, the form of
// os.Environ) with every value passed through EnvVar. Entries without "="
// are kept.
func Environ(environ []string) []string {
	out := make([]string, len(environ))
	for i, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			out[i] = kv
			continue
		}
		out[i] = k + "=" + EnvVar(k, v)
	}
	return out
}
