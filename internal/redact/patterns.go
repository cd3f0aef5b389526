package redact

import "strings"

// Free text (a program's stderr, an error message) quotes secrets in forms
// that no single argument or URL shows: a header in a log line, a key in
// JSON or an INI file, a token whose shape alone gives it away. patterns
// finds them; Text applies it.

// tokenShape is a credential recognisable by its prefix alone.
type tokenShape struct {
	prefix string
	body   func(c byte) bool
	min    int // fewest body bytes after the prefix
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isUpperAlnum(c byte) bool { return 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }

func isAlnumDash(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }

// tokenShapes are the credentials whose form is public and distinctive:
// GitHub tokens (classic and fine-grained), AWS access key ids, Slack,
// GitLab, Hugging Face and OpenAI-style "sk-" keys.
var tokenShapes = [...]tokenShape{
	{"github_pat_", func(c byte) bool { return isAlnum(c) || c == '_' }, 22},
	{"ghp_", isAlnum, 30}, {"gho_", isAlnum, 30}, {"ghu_", isAlnum, 30},
	{"ghs_", isAlnum, 30}, {"ghr_", isAlnum, 30},
	{"AKIA", isUpperAlnum, 16}, {"ASIA", isUpperAlnum, 16},
	{"xoxb-", isAlnumDash, 10}, {"xoxp-", isAlnumDash, 10}, {"xoxa-", isAlnumDash, 10},
	{"xoxr-", isAlnumDash, 10}, {"xoxs-", isAlnumDash, 10},
	{"glpat-", isAlnumDash, 20},
	{"hf_", isAlnum, 30},
	{"sk-", isAlnumDash, 20},
}

// tokenFirstBytes are the first bytes of the tokenShapes' prefixes.
const tokenFirstBytes = "gAxhs"

// patterns returns s with credentials found by shape or by name replaced.
func patterns(s string) string {
	return nameValues(tokens(s))
}

// tokens replaces every token of tokenShapes that starts at a word
// boundary and is not followed by more word bytes.
func tokens(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(tokenFirstBytes, s[i]) < 0 || i > 0 && (isAlnum(s[i-1]) || s[i-1] == '_' || s[i-1] == '-') {
			continue
		}
		for _, t := range tokenShapes {
			if !strings.HasPrefix(s[i:], t.prefix) {
				continue
			}
			j := i + len(t.prefix)
			for j < len(s) && t.body(s[j]) {
				j++
			}
			if j-i-len(t.prefix) < t.min || j < len(s) && isAlnum(s[j]) {
				continue
			}
			b.WriteString(s[last:i])
			b.WriteString(Redacted)
			last = j
			i = j - 1
			break
		}
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// nameValues replaces the value of every "name: value" or "name=value" whose
// name is secret: IsSecretName, or ending in "key" after "-" or "_"
// (X-API-Key, STRIPE_KEY), compared as in IsSecretName. The name and the
// value may be quoted, as in JSON ("api_key": "…") or YAML, and the
// separator surrounded by blanks, as in INI files
// (aws_secret_access_key = …).
//
// So that prose survives ("invalid token: expired"), an unquoted value after
// ":" counts only when the name has a "-" or "_" (a header or variable name)
// or the value looks like a credential (isCredential); unquoted numbers,
// true, false, null and placeholders (isPlaceholder: API_KEY, <token>,
// $TOKEN) never count. For Authorization headers the scheme is kept
// ("Authorization: Basic REDACTED").
func nameValues(s string) string {
	if strings.IndexByte(s, ':') < 0 && strings.IndexByte(s, '=') < 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != ':' && s[i] != '=' {
			continue
		}
		name, quotedName := nameBefore(s, i)
		if name == "" || !isSecretKeyName(name) {
			continue
		}
		start, end, quoted := valueAfter(s, i+1)
		if start == end {
			continue
		}
		v := s[start:end]
		repl := Redacted
		switch n := normalizeName(name); {
		case strings.HasPrefix(v, Redacted), s[i] == ':' && strings.HasPrefix(s[i+1:], "//"):
			// Already redacted (a URL's password), or a URL's scheme.
			continue
		case (n == "authorization" || n == "proxy-authorization") && quoted:
			repl = Header(name, v)
		case (n == "authorization" || n == "proxy-authorization") && isToken(v) && end < len(s) && s[end] == ' ':
			// "Authorization: Basic abc": the credential is the next word.
			start = end + 1
			for start < len(s) && s[start] == ' ' {
				start++
			}
			end = start + urlEnd(s[start:])
			if start == end || s[start:end] == Redacted {
				continue
			}
		case !quoted && !secretUnquoted(name, v, s[i] == ':' && !quotedName):
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(repl)
		last = end
		i = end - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// isSecretKeyName reports whether a name in text marks its value as secret.
func isSecretKeyName(name string) bool {
	if IsSecretName(name) {
		return true
	}
	n := normalizeName(name)
	return strings.HasSuffix(n, "-key")
}

// secretUnquoted decides for an unquoted value; colon says it follows an
// unquoted "name:" (a header, YAML, or prose).
func secretUnquoted(name, v string, colon bool) bool {
	switch strings.ToLower(v) {
	case "true", "false", "null", "none", "nil":
		return false
	}
	digits := true
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			digits = false
			break
		}
	}
	if digits || isPlaceholder(v) {
		return false
	}
	if colon && !strings.ContainsAny(name, "-_") {
		return isCredential(v)
	}
	return true
}

// nameBefore returns the name that ends just before the separator at sep
// (blanks and one closing quote may come between), and whether it was
// quoted; "" when there is none.
func nameBefore(s string, sep int) (string, bool) {
	j := sep
	for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	var quote byte
	if j > 0 && (s[j-1] == '"' || s[j-1] == '\'') {
		quote = s[j-1]
		j--
	}
	k := j
	for k > 0 && (isAlnum(s[k-1]) || s[k-1] == '_' || s[k-1] == '-' || s[k-1] == '.') {
		k--
	}
	if k == j {
		return "", false
	}
	if quote != 0 && (k == 0 || s[k-1] != quote) {
		return "", false
	}
	return s[k:j], quote != 0
}

// valueAfter returns the bounds of the value that starts after blanks at
// from: up to the closing quote when quoted (backslash escapes skipped),
// else up to white space, a quote or one of ",;&<>`)]}".
func valueAfter(s string, from int) (start, end int, quoted bool) {
	i := from
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i < len(s) && (s[i] == '"' || s[i] == '\'') {
		q := s[i]
		for j := i + 1; j < len(s); j++ {
			switch s[j] {
			case '\\':
				j++
			case q:
				return i + 1, j, true
			case '\n':
				return i, i, false
			}
		}
		return i, i, false
	}
	j := i
	for j < len(s) && strings.IndexByte(" \t\r\n\"'<>`,;&)]}", s[j]) < 0 {
		j++
	}
	return i, j, false
}

// flagValues replaces, in free text, the value after a secret long flag
// and blanks (`--password hunter2`, `-token abc123`): a flag of one or two
// dashes at the start of a word, whose name is secret (IsSecretName, not
// starting with "no-"), followed on the same line by a value that looks
// like a credential (flagCredential). The flag's `=` form is nameValues'.
// Prose and help text keep every byte: `--auth flag is deprecated`,
// `--api-key API_KEY  the key`, `--token <TOKEN>`.
func flagValues(s string) string {
	if strings.IndexByte(s, '-') < 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '-' || i > 0 && strings.IndexByte(" \t\n\r([{\"'`", s[i-1]) < 0 {
			continue
		}
		j := i + 1
		if j < len(s) && s[j] == '-' {
			j++
		}
		k := j
		for k < len(s) && (isAlnum(s[k]) || s[k] == '_' || s[k] == '-') {
			k++
		}
		name := s[j:k]
		if len(name) < 2 || !isAlnum(name[0]) || k == len(s) || s[k] != ' ' && s[k] != '\t' {
			continue
		}
		if !IsSecretName(name) || strings.HasPrefix(normalizeName(name), "no-") {
			continue
		}
		start := k
		for start < len(s) && (s[start] == ' ' || s[start] == '\t') {
			start++
		}
		end := start
		for end < len(s) && strings.IndexByte(" \t\r\n", s[end]) < 0 {
			end++
		}
		if start < end && (s[start] == '"' || s[start] == '\'') {
			// A quoted value: inside the quotes, on this line.
			q := strings.IndexByte(s[start+1:end], s[start])
			if q < 0 {
				continue
			}
			start, end = start+1, start+1+q
		}
		end = start + len(strings.TrimRight(s[start:end], ".,;:)]}>'\""))
		if !flagCredential(s[start:end]) {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(Redacted)
		last = end
		i = end - 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// flagCredential reports whether v, the word after a secret flag in free
// text, may be a credential: not a word of prose (letters only, with
// apostrophes or inner hyphens: flag, is, Deprecated, re-used), not a
// number or a small quantity (3, 1.5, 30s, 10ms), not a placeholder
// (isPlaceholder), not another flag and not already redacted; anything
// with a digit among letters, another symbol or inner capitals counts
// (hunter2, sk-…, aB3…, /path).
func flagCredential(v string) bool {
	if v == "" || v[0] == '-' || strings.HasPrefix(v, Redacted) || isPlaceholder(v) || isProseWord(v) {
		return false
	}
	d := 0
	for d < len(v) && ('0' <= v[d] && v[d] <= '9' || v[d] == '.' || v[d] == ',') {
		d++
	}
	if d > 0 && len(v)-d <= 2 && isLowerWord(v[d:]) || d == len(v) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if isAlnum(v[i]) {
			return true
		}
	}
	return false // "...", "***"
}

// isProseWord reports whether v is a word of prose: ASCII letters, at most
// the first upper-case (or all of them), with inner "-" or "'" between
// letters.
func isProseWord(v string) bool {
	upper := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z':
		case 'A' <= c && c <= 'Z':
			upper++
			if i > 0 && upper != i+1 {
				return false
			}
		case (c == '-' || c == '\'') && i > 0 && i < len(v)-1 && v[i+1] != '-' && v[i+1] != '\'':
		default:
			return false
		}
	}
	return len(v) > 0 && (upper <= 1 || upper == len(v)-strings.Count(v, "-")-strings.Count(v, "'"))
}

// isPlaceholder reports whether v stands for a value rather than being
// one: a metavariable that is itself a secret name in capitals (API_KEY,
// TOKEN, HF_TOKEN, PASSWORD, KEY), a bracketed name (<token>, [KEY],
// {api_key}) or a shell variable ($TOKEN, ${api_key}; a bare $ only before
// capitals, digits and "_").
func isPlaceholder(v string) bool {
	if v == "" {
		return false
	}
	switch v[0] {
	case '<', '[', '{':
		return true
	case '$':
		if n, ok := strings.CutPrefix(v[1:], "{"); ok {
			return strings.HasSuffix(n, "}") && isVarName(strings.TrimSuffix(n, "}"))
		}
		for i := 1; i < len(v); i++ {
			if c := v[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
				return false
			}
		}
		return len(v) > 1
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !('A' <= c && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return isSecretKeyName(v) || v == "KEY"
}
