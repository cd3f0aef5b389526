package gsapi

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/graphsignal/graphsignal/internal/upload"
)

// FuzzRetryAfter feeds Retry-After values from a server: the wait is never
// negative nor beyond a day.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "120", "-1", "Wed, 21 Oct 2015 07:28:00 GMT", "99999999999999999999", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d := upload.ParseRetryAfter(v, fixedNow)
		if d < 0 || d > upload.MaxRetryAfter {
			t.Errorf("ParseRetryAfter(%q) = %v", v, d)
		}
	})
}

// FuzzSanitize feeds response bodies: the excerpt in an error is one line of
// printable UTF-8 without the key.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "bad request", "key=" + testKey, "\x00\xff\n\r\t" + testKey[:5], strings.Repeat("é", 150)} {
		f.Add([]byte(s))
	}
	s := &Sender{key: testKey}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > maxExcerpt {
			body = body[:maxExcerpt]
		}
		got := s.sanitize(body)
		if !utf8.ValidString(got) || strings.Contains(got, testKey) {
			t.Errorf("sanitize(%q) = %q", body, got)
		}
		for _, r := range got {
			if !unicode.IsPrint(r) {
				t.Errorf("sanitize(%q) = %q: %U is not printable", body, got, r)
			}
		}
	})
}
