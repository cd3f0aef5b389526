package redact

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
)

// Redactor removes a fixed set of known secret values (the API key, OTLP
// header values, the values of secret environment variables), and
// everything Text recognises, from the strings graphsignal stores or
// prints. Build one per run with New and hand it to every place that
// stores or prints text; its methods are safe for concurrent use, and a nil
// *Redactor redacts by pattern only.
type Redactor struct {
	values []string
	repl   *strings.Replacer // nil when there are no values
}

// New returns a Redactor for the secret values given; empty values are
// ignored. Besides each value as given, its URL-encoded forms (query and
// path escaping) are replaced too, because a secret often appears inside a
// URL. Longer values are replaced first, so a secret that contains another
// is replaced whole. Callers choose which values are long enough to be
// worth replacing (see EnvironValues): a short one would redact ordinary
// words.
func New(values ...string) *Redactor {
	r := &Redactor{}
	var olds []string
	for _, v := range values {
		if v == "" || slices.Contains(r.values, v) {
			continue
		}
		r.values = append(r.values, v)
		olds = append(olds, v)
		if q := url.QueryEscape(v); q != v {
			olds = append(olds, q)
		}
		if p := url.PathEscape(v); p != v {
			olds = append(olds, p)
		}
	}
	if len(olds) == 0 {
		return r
	}
	slices.SortFunc(olds, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	olds = slices.Compact(olds)
	pairs := make([]string, 0, 2*len(olds))
	for _, o := range olds {
		pairs = append(pairs, o, Redacted)
	}
	r.repl = strings.NewReplacer(pairs...)
	return r
}

// Values returns the secret values r replaces, as given to New (empty and
// repeated ones left out), for packages that take them as a list.
func (r *Redactor) Values() []string {
	if r == nil {
		return nil
	}
	return slices.Clone(r.values)
}

// replace replaces the known values only.
func (r *Redactor) replace(s string) string {
	if r == nil || r.repl == nil {
		return s
	}
	return r.repl.Replace(s)
}

// String returns s with every known secret value replaced by Redacted and
// then passed through Text. It is meant for error messages, debug output
// and any other free text.
func (r *Redactor) String(s string) string {
	return Text(r.replace(s))
}

// Output redacts a program's output (the stored tail of its stderr): what
// String does, then free-text flags (`--password hunter2`, see flagValues),
// and, on shell trace lines ("+ cmd args", from set -x), what Args would
// redact on that command line (`mysql -pX`, `curl -u user:X`). Only the
// redacted values change: white space, indentation and every other byte are
// kept as they were.
func (r *Redactor) Output(s string) string {
	s = flagValues(r.String(s))
	if !strings.Contains(s, "+ ") {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		if isTraceLine(line) {
			lines[i] = traceLine(line)
		}
	}
	return strings.Join(lines, "\n")
}

// isTraceLine reports whether line is a shell's trace of a command: after
// optional blanks, one or more "+" and a space.
func isTraceLine(line string) bool {
	t := strings.TrimLeft(line, " \t")
	p := strings.TrimLeft(t, "+")
	return len(p) < len(t) && strings.HasPrefix(p, " ")
}

// traceLine applies Args to the words of a trace line (after its "+"
// prefix) and puts each changed word back in its place.
func traceLine(line string) string {
	type span struct{ start, end int }
	var spans []span
	var words []string
	for i := 0; i < len(line); {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
			i++
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' && line[j] != '\r' {
			j++
		}
		if j > i {
			spans = append(spans, span{i, j})
			words = append(words, line[i:j])
		}
		i = j
	}
	if len(words) < 2 {
		return line
	}
	// words[0] is the "+" prefix, which takes the place of the program
	// name that Args expects first.
	red := Args(words)
	var b strings.Builder
	last := 0
	for k := 1; k < len(words); k++ {
		if red[k] == words[k] {
			continue
		}
		b.WriteString(line[last:spans[k].start])
		b.WriteString(red[k])
		last = spans[k].end
	}
	if last == 0 {
		return line
	}
	b.WriteString(line[last:])
	return b.String()
}

// Args returns a copy of a command line with the known secret values
// replaced in every argument (a key inside `sh -c "curl -H 'X-API-Key: …'"`
// included) and then redacted as the package-level Args does.
func (r *Redactor) Args(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = r.replace(a)
	}
	return Args(out)
}

// Attributes returns a copy of attrs with every string value, and every
// string of a []string value, passed through String; other values are
// kept.
func (r *Redactor) Attributes(attrs map[string]any) map[string]any {
	out := make(map[string]any, len(attrs))
	for k, v := range attrs {
		switch v := v.(type) {
		case string:
			out[k] = r.String(v)
		case []string:
			s := make([]string, len(v))
			for i, e := range v {
				s[i] = r.String(e)
			}
			out[k] = s
		default:
			out[k] = v
		}
	}
	return out
}

// String returns s with every occurrence of each secret value replaced, as
// New(secrets...).String(s) does. Callers that redact more than once build
// a Redactor instead.
func String(s string, secrets ...string) string {
	return New(secrets...).String(s)
}

// Output redacts a program's output as New(secrets...).Output(s) does.
func Output(s string, secrets ...string) string {
	return New(secrets...).Output(s)
}
