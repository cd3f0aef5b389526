package redact

import (
	"strings"
	"testing"
)

// FuzzOutput feeds arbitrary program output (untrusted bytes) to Output
// with a known secret embedded: it must not panic, and the secret must not
// survive. The secret is made of lower-case letters and digits, with a
// digit, so that it cannot be a piece of "REDACTED" itself. Seeds:
// testdata/fuzz/FuzzOutput.
func FuzzOutput(f *testing.F) {
	f.Add("X-API-Key: ", "abc123def", "\n")
	f.Add(`{"api_key": "`, "k9secret", `"}`)
	f.Add("curl -H 'Authorization: Bearer ", "tok3nvalue", "' https://h/")
	f.Add("https://u:", "pw12345678", "@host/?token=x")
	f.Fuzz(func(t *testing.T, prefix, secret, suffix string) {
		if len(secret) < 6 || !isLowerAlnumWithDigit(secret) {
			return
		}
		r := New(secret)
		for _, s := range []string{prefix + secret + suffix, secret + prefix + secret, suffix + prefix} {
			out := r.Output(s)
			if strings.Contains(out, secret) {
				t.Fatalf("Output(%q) = %q keeps the secret %q", s, out, secret)
			}
			_ = Text(s)
			_ = Args(strings.Fields(s))
		}
	})
}

func isLowerAlnumWithDigit(s string) bool {
	digit := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			digit = true
		case 'a' <= c && c <= 'z':
		default:
			return false
		}
	}
	return digit
}
