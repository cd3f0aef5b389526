package redact

import (
	"slices"
	"strings"
	"testing"
)

// TestOutputPatterns: secrets a program's stderr shows by name or by shape
// are redacted from the stored tail; prose and ordinary values are kept.
func TestOutputPatterns(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"x-api-key header", "> X-API-Key: abc123def\n", "> X-API-Key: REDACTED\n"},
		{"x-api-key header lower", "sent x-api-key:abcdef", "sent x-api-key:REDACTED"},
		{"authorization basic", "Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic REDACTED"},
		{"authorization bearer short", "Authorization: Bearer abc", "Authorization: Bearer REDACTED"},
		{"json api_key", `{"api_key": "sk-abc", "model": "gpt"}`, `{"api_key": "REDACTED", "model": "gpt"}`},
		{"json compact", `{"apiKey":"k-123","n":1}`, `{"apiKey":"REDACTED","n":1}`},
		{"json password escaped quote", `{"password":"a\"b"}`, `{"password":"REDACTED"}`},
		{"json authorization keeps scheme", `{"Authorization": "Bearer abc"}`, `{"Authorization": "Bearer REDACTED"}`},
		{"yaml", "api_key: 'xyz-123'", "api_key: 'REDACTED'"},
		{"github classic", "token ghp_0123456789abcdefghijABCDEFGHIJ0123 ok", "token REDACTED ok"},
		{"github fine-grained", "x=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "x=REDACTED"},
		{"aws access key id", "key id AKIAIOSFODNN7EXAMPLE used", "key id REDACTED used"},
		{"aws sts key id", "(ASIAIOSFODNN7EXAMPLE)", "(REDACTED)"},
		{"aws secret ini", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = REDACTED"},
		{"aws secret env", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "AWS_SECRET_ACCESS_KEY=REDACTED"},
		{"slack", "xoxb-1234567890-abcdefghij", "REDACTED"},
		{"gitlab", "glpat-abcdefghij0123456789", "REDACTED"},
		{"hugging face", "hf_abcdefghijklmnopqrstuvwxyzABCDEF", "REDACTED"},
		{"sk key", "OpenAI key sk-proj-abcdefghij0123456789XYZ", "OpenAI key REDACTED"},
		{"colon credential after plain word", "token: eyJhbGciOiJIUzI1NiJ9.x", "token: REDACTED"},
		// kept
		{"prose after colon", "error: invalid token: expired", "error: invalid token: expired"},
		{"token count", `{"max_tokens": 100, "token_count": 42}`, `{"max_tokens": 100, "token_count": 42}`},
		{"boolean", `{"use_auth": true}`, `{"use_auth": true}`},
		{"author", "author: Jane", "author: Jane"},
		{"short prefix", "ghp_short AKIA1234", "ghp_short AKIA1234"},
		{"inside a word", "xAKIAIOSFODNN7EXAMPLE", "xAKIAIOSFODNN7EXAMPLE"},
		{"task- is not sk-", "task-abcdefghij0123456789XYZ", "task-abcdefghij0123456789XYZ"},
		{"time", "at 12:30:00 key press", "at 12:30:00 key press"},
		{"url kept", "https://x-access-token:ghs_1@github.com/o/r", "https://x-access-token:REDACTED@github.com/o/r"},
		{"plain", "hello world", "hello world"},
	}
	for _, tt := range tests {
		if got := Output(tt.in); got != tt.want {
			t.Errorf("%s: Output(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// TestRedactorByValue: a known secret value is redacted wherever it
// appears, including inside a shell script argument where no pattern can
// see it, in its URL-encoded forms, and in attributes.
func TestRedactorByValue(t *testing.T) {
	const key = "gsk-9f8e7d6c5b4a"
	r := New(key, "", "p@ss word!")
	tests := []struct {
		name string
		got  func() string
		want string
	}{
		{"script arg", func() string {
			return strings.Join(r.Args([]string{"sh", "-c", "curl -s -o x http://h/ --data '{\"k\":\"" + key + "\"}'"}), " ")
		}, `sh -c curl -s -o x http://h/ --data '{"k":"REDACTED"}'`},
		{"script header", func() string {
			return r.Args([]string{"sh", "-c", "curl -H 'X-Other: " + key + "' http://h/"})[2]
		}, "curl -H 'X-Other: REDACTED' http://h/"},
		{"positional", func() string { return r.Args([]string{"tool", key})[1] }, "REDACTED"},
		{"query escaped", func() string { return r.String("GET /x?k=p%40ss+word%21") }, "GET /x?k=REDACTED"},
		{"path escaped", func() string { return r.String("/a/p@ss%20word%21/b") }, "/a/REDACTED/b"},
		{"output", func() string { return r.Output("using " + key + "\nnext") }, "using REDACTED\nnext"},
		{"nil redactor patterns only", func() string { return (*Redactor)(nil).String("x api_key=abcdef " + key) }, "x api_key=REDACTED " + key},
	}
	for _, tt := range tests {
		if got := tt.got(); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	attrs := r.Attributes(map[string]any{"a": "x " + key, "b": []string{key}, "c": int64(1)})
	if attrs["a"] != "x REDACTED" || !slices.Equal(attrs["b"].([]string), []string{"REDACTED"}) || attrs["c"] != int64(1) {
		t.Errorf("Attributes = %v", attrs)
	}
	if got := r.Values(); !slices.Equal(got, []string{key, "p@ss word!"}) {
		t.Errorf("Values() = %q", got)
	}
}

func TestEnvironValues(t *testing.T) {
	environ := []string{
		"GRAPHSIGNAL_API_KEY=gs-key-123456",
		"HF_TOKEN=hf_abc123",
		"STRIPE_KEY=rk_live_99",
		"PGPASSWORD=hunter2!",
		"DB_CREDENTIALS=u:p-long",
		"MY_SECRET=correcthorsebatterystaple",
		"OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20tok%2Fen-1,x-b=ab",
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS=api-key=traces-456",
		// not returned
		"SHORT_TOKEN=abc",
		"AUTH_MODE=enabled",
		"PATH=/usr/bin:/bin",
		"HOME=/home/u",
		"MAX_TOKENS=1000000",
		"NOEQUALS",
	}
	got := EnvironValues(environ)
	want := []string{"gs-key-123456", "hf_abc123", "rk_live_99", "hunter2!", "u:p-long", "correcthorsebatterystaple",
		"Bearer%20tok%2Fen-1", "Bearer tok/en-1", "tok/en-1", "traces-456"}
	if !slices.Equal(got, want) {
		t.Errorf("EnvironValues() = %q,\nwant %q", got, want)
	}
	// The encoded credential alone is caught through New's encodings.
	if s := New(got...).String("sent tok%2Fen-1"); s != "sent REDACTED" {
		t.Errorf("encoded bearer token: %q", s)
	}
}

// TestTokenFirstBytes keeps tokenFirstBytes in step with tokenShapes.
func TestTokenFirstBytes(t *testing.T) {
	for _, s := range tokenShapes {
		if !strings.Contains(tokenFirstBytes, s.prefix[:1]) {
			t.Errorf("tokenFirstBytes %q lacks the first byte of %q", tokenFirstBytes, s.prefix)
		}
	}
}
