package redact

import (
	"strings"
	"testing"
)

// TestEndpoint covers the URLs that the API base check (gsapi, cli,
// sdkconfig) and the gRPC target check (grpcunary) show in their errors.
func TestEndpoint(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"https://api.graphsignal.com", "https://api.graphsignal.com"},
		{"http://api.example.com:8080/gs/", "http://api.example.com:8080/gs/"},
		{"ftp://api.graphsignal.com", "ftp://api.graphsignal.com"},
		{"https://api.graphsignal.com:99999", "https://api.graphsignal.com:99999"},
		{"https://", "https:"},
		{"api.graphsignal.com", "api.graphsignal.com"},
		{"https://h/a%2Fb", "https://h/a%2Fb"},
		{"https://h/path/with@sign", "https://h/path/with@sign"},
		// Query and fragment, secret or not.
		{"https://api.graphsignal.com/?key=gsk-1", "https://api.graphsignal.com/"},
		{"https://h/p?x=1#access_token=t", "https://h/p"},
		{"https://h?", "https://h"},
		{"http://u:p@h?x=@y", "http://redacted@h"},
		// User information, user name included.
		{"https://user:gsk-1@api.graphsignal.com", "https://redacted@api.graphsignal.com"},
		{"https://u:hunter2@example.com", "https://redacted@example.com"},
		{"https://ghp_abcdef@github.com/o/r", "https://redacted@github.com/o/r"},
		{"ftp://user:gsk-1@host", "ftp://redacted@host"},
		{"http://u:p@h:1/x?token=t", "http://redacted@h:1/x"},
		{"//u:p@h/x", "//redacted@h/x"},
		// Not parsed: cut at the last "@" after "//", query first.
		{"https://u:gsk-1@[::1", "https://redacted@[::1"},
		{"http://user:gsk-1@[::1", "http://redacted@[::1"},
		{"http://u:p@ss@[::1", "http://redacted@[::1"},
		{"https://u:p@h/\x7f?token=t", "https://redacted@h/\x7f"},
		{"https://h/\x7f?token=t#f", "https://h/\x7f"},
		{"1http://u:p@h", "1http://redacted@h"},
		// No host: scheme-less user information, opaque parts.
		{"user:pass@host", "redacted@host"},
		{"user:pass@host:8080/x?k=v", "redacted@host:8080/x"},
		{"token@host", "redacted@host"},
		{"u:p@h//x", "redacted@h//x"},
		{"u:p@h//a@b", "redacted@b"},
		{"mailto:joe@example.com", "redacted@example.com"},
		{"https:///x@y", "https://redacted@y"},
		{"apikey:sk-123", "apikey:"},
		{"localhost:8080", "localhost:"},
	}
	for _, tt := range tests {
		if got := Endpoint(tt.in); got != tt.want {
			t.Errorf("Endpoint(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestOrigin covers where a refused redirect is said to point
// (otlpexport).
func TestOrigin(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"http://u:p@elsewhere.invalid/x?k=v", "http://elsewhere.invalid"},
		{"https://h:8443/x#f", "https://h:8443"},
		{"https://tok@h", "https://h"},
		{"//h/x", "//h"},
		{"/relative/path", ""},
		{"%zz", ""},
		{"user:pass@host", ""},
		{"https://u:p@[::1", ""},
	}
	for _, tt := range tests {
		if got := Origin(tt.in); got != tt.want {
			t.Errorf("Origin(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzEndpoint puts a password into the user information of a URL with
// arbitrary surroundings: what Endpoint shows, parsed or not, must not
// depend on the password.
func FuzzEndpoint(f *testing.F) {
	f.Add("https", "gsk123456", "api.graphsignal.com/x?y=1")
	f.Add("http", "pw1234", "[::1")
	f.Add("", "s3cret", "h@other/p")
	f.Add("grpc", "abc987", "h:1\x7f#f")
	f.Add("", "abc987", "h//a@b")
	f.Fuzz(func(t *testing.T, scheme, secret, rest string) {
		if scheme != "" && !isScheme(scheme) || !isLowerAlnumWithDigit(secret) {
			return
		}
		other := strings.Repeat("x", len(secret))
		for _, form := range []string{scheme + "://u:%s@" + rest, "u:%s@" + rest} {
			s := strings.Replace(form, "%s", secret, 1)
			got, want := Endpoint(s), Endpoint(strings.Replace(form, "%s", other, 1))
			if got != want {
				t.Fatalf("Endpoint(%q) = %q, but %q with another password: it shows the password", s, got, want)
			}
		}
	})
}
