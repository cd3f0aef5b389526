package redact

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
)

// String returns s with every occurrence of each known secret value replaced
// by Redacted, and then passed through Text (URL credentials and bearer
// tokens). It is meant for error messages and debug output, where the API
// key or an OTLP header value may be quoted. Besides each value as given, its
// URL-encoded forms (query and path escaping) are replaced too, because a
// secret often appears inside a URL. Empty secrets are ignored; longer
// secrets are replaced first, so a secret that contains another is replaced
// whole.
func String(s string, secrets ...string) string {
	var olds []string
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		olds = append(olds, sec)
		if q := url.QueryEscape(sec); q != sec {
			olds = append(olds, q)
		}
		if p := url.PathEscape(sec); p != sec {
			olds = append(olds, p)
		}
	}
	if len(olds) > 0 {
		slices.SortFunc(olds, func(a, b string) int {
			return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
		})
		olds = slices.Compact(olds)
		pairs := make([]string, 0, 2*len(olds))
		for _, o := range olds {
			pairs = append(pairs, o, Redacted)
		}
		s = strings.NewReplacer(pairs...).Replace(s)
	}
	return Text(s)
}

// Output redacts a program's output (the stored tail of its stderr): the
// known secret values and URL credentials as String does, and, line by
// line, what Args would redact on a command line (`--password X`,
// `API_KEY=...`). A line is rebuilt with single spaces only when one of its
// words changed; other lines keep their exact bytes.
func Output(s string, secrets ...string) string {
	s = String(s, secrets...)
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		words := strings.Fields(line)
		if len(words) == 0 {
			continue
		}
		red := Args(append([]string{""}, words...))[1:]
		if !slices.Equal(red, words) {
			lines[i] = strings.Join(red, " ")
		}
	}
	return strings.Join(lines, "\n")
}
