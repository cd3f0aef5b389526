// Package redact removes secrets from strings that graphsignal prints, logs,
// stores or returns in errors: command lines, URLs, HTTP headers, environment
// variables and free text.
//
// Every function is pure and safe for concurrent use. A redacted value is
// replaced by the literal Redacted; everything else is returned byte for byte
// as it was given, including bytes that are not valid UTF-8. An empty secret
// value stays empty: there is nothing to hide, and "REDACTED" would suggest
// a value that was never there. Endpoint and Origin are the exceptions: they
// show a URL reduced to the parts that name a destination, for errors about
// a configured URL or a redirect.
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

import (
	"slices"
	"strings"
)

// Redacted replaces every secret value.
const Redacted = "REDACTED"

// secretWords are the fragments that make a name secret (matched
// case-insensitively anywhere in the name, "-" and "_" treated alike).
// "auth" is not among them: it makes a name secret only as a word of its
// own (authWords).
var secretWords = [...]string{
	"apikey", "api-key",
	"token",
	"secret",
	"password", "passwd", "passphrase",
	"authoriz", "authoris",
	"credential",
	"privatekey", "private-key",
	"accesskey", "access-key",
	"cookie",
}

// authWords are the words (see nameWords) that make a name secret:
// AUTH_TOKEN, HTTP_AUTH, --auth, basicAuth, OAUTH; but not NEXTAUTH_URL's
// "nextauth" or "author".
var authWords = [...]string{"auth", "oauth", "oauth2"}

// nonSecretLast are the last words (see nameWords) of names that hold a
// setting about a secret rather than the secret itself: AUTH_URL,
// TOKEN_FILE, SECRET_NAME, PASSWORD_PATH, AUTH_MODE, auth_retries.
var nonSecretLast = [...]string{
	"url", "uri", "host", "hostname", "port", "path", "dir", "file", "name",
	"user", "username", "email", "id", "region", "endpoint", "mode", "level",
	"type", "kind", "enabled", "disabled", "timeout", "ttl", "retries",
	"count", "size", "limit", "version", "provider", "method", "scheme",
	"domain", "issuer", "audience", "scope", "scopes", "expiry", "expires",
	"length", "algorithm", "format",
}

// IsSecretName reports whether a flag, variable, header or parameter named
// name holds a secret. It matches, case-insensitively and with "_" and "-"
// treated alike, names containing api-key, token, secret, password, passwd,
// passphrase, authorization (or authorisation), credential, private-key,
// access-key or cookie; names with the word auth, oauth or oauth2 (words are
// separated by "-", "_", "." or a lower-case to upper-case step: AUTH_TOKEN,
// --auth, HTTP_AUTH, basicAuth; not NEXTAUTH); and the names pass, passin
// and passout (redis-cli, openssl).
//
// Three families of common non-secret names are deliberately excluded:
// "author"/"authority"; the token counts and tokenizers of ML programs
// ("max_tokens", "--tokenizer"); and names whose last word says the value
// is a setting about a secret, not the secret (AUTH_URL, TOKEN_FILE,
// SECRET_NAME, PASSWORD_PATH, AUTH_MODE, auth_retries: the words of
// nonSecretLast, such as url, uri, host, port, path, dir, file, name, user,
// id, region, endpoint, mode, level, type, timeout, retries), except a
// key's id (AWS_ACCESS_KEY_ID). Such a value is still shown with URL
// credentials redacted (Text).
func IsSecretName(name string) bool {
	n := normalizeName(name)
	switch n {
	case "pass", "passin", "passout":
		return true
	}
	found := false
	for _, w := range secretWords {
		for i := 0; !found; {
			j := strings.Index(n[i:], w)
			if j < 0 {
				break
			}
			at := i + j
			found = !excluded(w, n[at+len(w):])
			i = at + 1
		}
	}
	if !found && !strings.Contains(n, "auth") {
		return false
	}
	words := nameWords(name)
	if settingName(words) {
		return false
	}
	if found {
		return true
	}
	for _, w := range words {
		if slices.Contains(authWords[:], w) {
			return true
		}
	}
	return false
}

// settingName reports whether a name's words end in one of nonSecretLast,
// other than "key id".
func settingName(words []string) bool {
	if len(words) < 2 {
		return false
	}
	last := words[len(words)-1]
	if last == "id" && words[len(words)-2] == "key" {
		return false
	}
	return slices.Contains(nonSecretLast[:], last)
}

// nameWords splits a name into lower-case words at "-", "_", "." and "/",
// and where a lower-case letter or digit is followed by an upper-case one
// (basicAuth, nextAuthUrl).
func nameWords(name string) []string {
	var words []string
	start := 0
	flush := func(end int) {
		if end > start {
			words = append(words, strings.ToLower(name[start:end]))
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.' || c == '/':
			flush(i)
			start = i + 1
		case 'A' <= c && c <= 'Z' && i > 0 && ('a' <= name[i-1] && name[i-1] <= 'z' || '0' <= name[i-1] && name[i-1] <= '9'):
			flush(i)
			start = i
		}
	}
	flush(len(name))
	return words
}

// excluded reports whether the word w, followed by rest, is one of the
// documented non-secret exceptions.
func excluded(w, rest string) bool {
	if w == "token" {
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
