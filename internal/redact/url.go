package redact

import (
	"net/url"
	"strings"
)

// URL returns s with the credentials of a URL redacted: the password of its
// userinfo, the whole userinfo of an http(s) or ws(s) URL that has no
// password (https://TOKEN@host is how tokens are passed to git and many
// APIs), and the values of secret query and fragment parameters (names that
// IsSecretName matches, and key, sig, pwd, pass and any *signature*, such
// as the X-Amz-Signature of a presigned URL). Usernames of other schemes
// (ssh://git@host, postgres://user@host) are kept.
//
// Only the redacted parts change; the rest, including its percent-encoding,
// is returned as given. A string without "scheme://" is returned unchanged.
func URL(s string) string {
	i := strings.Index(s, "://")
	if i <= 0 || !isScheme(s[:i]) {
		return s
	}
	var b strings.Builder
	start := i + 3
	end := len(s)
	if j := strings.IndexAny(s[start:], "/?#"); j >= 0 {
		end = start + j
	}
	b.WriteString(s[:start])
	b.WriteString(redactAuthority(strings.ToLower(s[:i]), s[start:end]))
	rest := s[end:]
	frag := ""
	if j := strings.IndexByte(rest, '#'); j >= 0 {
		rest, frag = rest[:j], rest[j:]
	}
	if j := strings.IndexByte(rest, '?'); j >= 0 {
		b.WriteString(rest[:j+1])
		b.WriteString(redactParams(rest[j+1:]))
	} else {
		b.WriteString(rest)
	}
	if frag != "" {
		b.WriteByte('#')
		b.WriteString(redactParams(frag[1:]))
	}
	return b.String()
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

func redactAuthority(scheme, authority string) string {
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return authority
	}
	userinfo, host := authority[:at], authority[at:]
	if user, pass, ok := strings.Cut(userinfo, ":"); ok {
		if pass == "" {
			return authority
		}
		return user + ":" + Redacted + host
	}
	switch scheme {
	case "http", "https", "ws", "wss", "git+https":
		if userinfo != "" {
			return Redacted + host
		}
	}
	return authority
}

// redactParams redacts the values of secret parameters in an
// "a=1&b=2" list; a list without "=" (a plain fragment) is unchanged.
func redactParams(q string) string {
	if !strings.Contains(q, "=") {
		return q
	}
	parts := strings.Split(q, "&")
	changed := false
	for i, p := range parts {
		name, v, ok := strings.Cut(p, "=")
		if !ok || v == "" {
			continue
		}
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if isSecretParam(name) {
			parts[i] = p[:len(p)-len(v)] + Redacted
			changed = true
		}
	}
	if !changed {
		return q
	}
	return strings.Join(parts, "&")
}

func isSecretParam(name string) bool {
	n := normalizeName(name)
	switch n {
	case "key", "sig", "pwd", "pass":
		return true
	}
	return strings.Contains(n, "signature") || IsSecretName(n)
}

// Text returns s with every URL found in it passed through URL, the
// credential after every "Bearer " (any case) replaced, and the secrets that
// free text shows by name or by shape, so that error messages, debug output
// and a program's stderr that quote a request
// (`Post "https://u:p@host/?token=x"`) can be shown. A URL or credential
// ends at white space, a quote, '<', '>' or '`'. So that prose ("the bearer
// of bad news") survives, a word after "Bearer " counts as a credential only
// when it has at least 8 bytes and one that is not a letter.
//
// By name: the value of "name: value" or "name=value" where the name is
// secret (IsSecretName, or ending in -key or _key), quoted or not, as in a
// header line (X-API-Key: …), JSON ("api_key": "…"), YAML or an INI file
// (aws_secret_access_key = …). An unquoted value after a plain word and ":"
// ("invalid token: expired") counts only when it looks like a credential,
// and unquoted numbers, true, false and null never do.
//
// By shape: GitHub tokens (ghp_…, github_pat_…), AWS access key ids
// (AKIA…, ASIA…), Slack (xoxb-…), GitLab (glpat-…), Hugging Face (hf_…)
// and "sk-" API keys of at least 20 characters.
func Text(s string) string {
	return patterns(urlsAndBearers(s))
}

// urlsAndBearers redacts the URLs and the Bearer credentials of Text.
func urlsAndBearers(s string) string {
	if !strings.Contains(s, "://") && !containsFold(s, "bearer ") {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		i := strings.Index(s, "://")
		bi := indexFold(s, "bearer ")
		if i < 0 && bi < 0 {
			break
		}
		if bi >= 0 && (i < 0 || bi < i) {
			tokStart := bi + len("bearer ")
			tokEnd := tokStart + urlEnd(s[tokStart:])
			b.WriteString(s[:tokStart])
			if tok := s[tokStart:tokEnd]; isCredential(tok) {
				b.WriteString(Redacted)
			} else {
				b.WriteString(tok)
			}
			s = s[tokEnd:]
			continue
		}
		start := i
		for start > 0 && isSchemeByte(s[start-1]) {
			start--
		}
		end := i + 3 + urlEnd(s[i+3:])
		b.WriteString(s[:start])
		b.WriteString(URL(s[start:end]))
		s = s[end:]
	}
	b.WriteString(s)
	return b.String()
}

// isCredential tells an opaque credential from a word: at least 8 bytes,
// one of them not an ASCII letter.
func isCredential(tok string) bool {
	if len(tok) < 8 || tok == Redacted {
		return false
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return true
		}
	}
	return false
}

func isSchemeByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

// urlEnd returns the length of the URL or token at the start of s.
func urlEnd(s string) int {
	if i := strings.IndexAny(s, " \t\r\n\"'<>`"); i >= 0 {
		return i
	}
	return len(s)
}

func containsFold(s, sub string) bool { return indexFold(s, sub) >= 0 }

// indexFold is strings.Index ignoring ASCII case of sub, which is lower case.
func indexFold(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		match := true
		for j := 0; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}
