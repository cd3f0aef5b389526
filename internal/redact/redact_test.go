package redact

import (
	"slices"
	"strings"
	"testing"
)

func TestIsSecretName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"api-key", true},
		{"API_KEY", true},
		{"apikey", true},
		{"GRAPHSIGNAL_API_KEY", true},
		{"token", true},
		{"HF_TOKEN", true},
		{"access_token", true},
		{"x-auth-token", true},
		{"secret", true},
		{"AWS_SECRET_ACCESS_KEY", true},
		{"client-secret", true},
		{"password", true},
		{"PGPASSWORD", true},
		{"passwd", true},
		{"ssh-passphrase", true},
		{"auth", true},
		{"oauth", true},
		{"Authorization", true},
		{"proxy-authorisation", true},
		{"credentials", true},
		{"GOOGLE_APPLICATION_CREDENTIALS", true},
		{"private-key", true},
		{"private_key", true},
		{"aws-access-key-id", true},
		{"cookie", true},
		{"pass", true},
		{"PASSIN", true},
		// not secret
		{"", false},
		{"author", false},
		{"git-author-name", false},
		{"authority", false},
		{"tokenizer", false},
		{"tokenizer_name", false},
		{"max_tokens", false},
		{"max-new-tokens", false},
		{"key", false},
		{"port", false},
		{"p", false},
		{"user", false},
		{"PATH", false},
		{"PWD", false},
		{"keyboard", false},
		{"passage", false},
		{"bypass", false},
		// an exception does not hide a real match later in the name
		{"author-token", true},
		{"tokens-secret", true},
		{"max-tokens-auth", true},
		{"\xff\xfetoken", true},
	}
	for _, tt := range tests {
		if got := IsSecretName(tt.name); got != tt.want {
			t.Errorf("IsSecretName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestHeader(t *testing.T) {
	tests := []struct {
		name, value, want string
	}{
		{"Authorization", "Bearer abc.def", "Bearer REDACTED"},
		{"authorization", "Basic dXNlcjpwYXNz", "Basic REDACTED"},
		{"Authorization", "abcdef", "REDACTED"},
		{"Authorization", "  Bearer  abc", "  Bearer REDACTED"},
		{"Proxy-Authorization", "Basic x", "Basic REDACTED"},
		{"Authorization", "", ""},
		{"X-API-Key", "k1", "REDACTED"},
		{"x-api-key", "k1", "REDACTED"},
		{"X-Goog-Api-Key", "k1", "REDACTED"},
		{"X-Amz-Security-Token", "t", "REDACTED"},
		{"X-Auth-Token", "t", "REDACTED"},
		{"Cookie", "sid=1", "REDACTED"},
		{"Set-Cookie", "sid=1; Path=/", "REDACTED"},
		{"Idempotency-Key", "abc", "REDACTED"},
		{"X-Client-Secret", "s", "REDACTED"},
		{" Authorization ", "Bearer x", "Bearer REDACTED"},
		{"Content-Type", "application/json", "application/json"},
		{"User-Agent", "curl/8", "curl/8"},
		{"Accept", "Bearer x", "Bearer x"},
		{"Author", "Jane", "Jane"},
	}
	for _, tt := range tests {
		if got := Header(tt.name, tt.value); got != tt.want {
			t.Errorf("Header(%q, %q) = %q, want %q", tt.name, tt.value, got, tt.want)
		}
	}
}

func TestHeaderLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Authorization: Bearer abc", "Authorization: Bearer REDACTED"},
		{"Authorization:Bearer abc", "Authorization:Bearer REDACTED"},
		{"X-Api-Key:   k", "X-Api-Key:   REDACTED"},
		{"X-Api-Key:", "X-Api-Key:"},
		{"X-Api-Key:   ", "X-Api-Key:   "},
		{"Content-Type: text/plain", "Content-Type: text/plain"},
		{"not a header: token", "not a header: token"},
		{": value", ": value"},
		{"no colon", "no colon"},
		{"https://example.com", "https://example.com"},
	}
	for _, tt := range tests {
		if got := HeaderLine(tt.in); got != tt.want {
			t.Errorf("HeaderLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHeaderList(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"x-api-key=abc", "x-api-key=REDACTED"},
		{"authorization=Bearer abc,x-tenant=t1", "authorization=REDACTED,x-tenant=REDACTED"},
		{"a=,b", "a=,b"},
		{"a=1=2", "a=REDACTED"},
	}
	for _, tt := range tests {
		if got := HeaderList(tt.in); got != tt.want {
			t.Errorf("HeaderList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEnvVar(t *testing.T) {
	tests := []struct{ name, value, want string }{
		{"GRAPHSIGNAL_API_KEY", "sk-123", "REDACTED"},
		{"GRAPHSIGNAL_API_KEY", "", ""},
		{"OTEL_EXPORTER_OTLP_HEADERS", "api-key=abc,team=x", "api-key=REDACTED,team=REDACTED"},
		{"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "a=b", "a=REDACTED"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://u:p@collector:4318", "https://u:REDACTED@collector:4318"},
		{"DATABASE_URL", "postgres://app:hunter2@db/app?sslmode=require", "postgres://app:REDACTED@db/app?sslmode=require"},
		{"HOME", "/home/me", "/home/me"},
		{"GRAPHSIGNAL_TAGS", "session_id=1,user_id=u", "session_id=1,user_id=u"},
	}
	for _, tt := range tests {
		if got := EnvVar(tt.name, tt.value); got != tt.want {
			t.Errorf("EnvVar(%q, %q) = %q, want %q", tt.name, tt.value, got, tt.want)
		}
	}
}

func TestEnviron(t *testing.T) {
	in := []string{"A=1", "API_TOKEN=x", "weird", "EMPTY=", "U=https://t@h/"}
	want := []string{"A=1", "API_TOKEN=REDACTED", "weird", "EMPTY=", "U=https://REDACTED@h/"}
	got := Environ(in)
	if !slices.Equal(got, want) {
		t.Errorf("Environ(%q) = %q, want %q", in, got, want)
	}
	if in[1] != "API_TOKEN=x" {
		t.Errorf("Environ modified its input: %q", in)
	}
}

func TestStringReplacesKnownSecrets(t *testing.T) {
	tests := []struct {
		s       string
		secrets []string
		want    string
	}{
		{"invalid key sk-123", []string{"sk-123"}, "invalid key REDACTED"},
		{"sk-123 and sk-123", []string{"sk-123"}, "REDACTED and REDACTED"},
		{"nothing here", []string{"sk-123"}, "nothing here"},
		{"nothing here", []string{""}, "nothing here"},
		{"no secrets given", nil, "no secrets given"},
		{"abc abcdef", []string{"abc", "abcdef"}, "REDACTED REDACTED"},
		{"abcdef", []string{"abc", "abcdef"}, "REDACTED"},
		{"dup", []string{"dup", "dup"}, "REDACTED"},
		{"GET /x?k=a%2Fb%3D", []string{"a/b="}, "GET /x?k=REDACTED"},
		{"GET /v/a%2Fb", []string{"a/b"}, "GET /v/REDACTED"},
		{"GET /v/a+b or a%20b", []string{"a b"}, "GET /v/REDACTED or REDACTED"},
		{`Post "https://u:pw@h/v1?token=t": EOF`, nil, `Post "https://u:REDACTED@h/v1?token=REDACTED": EOF`},
		{"header Authorization: Bearer abc.def.ghi", nil, "header Authorization: Bearer REDACTED"},
		{"\xff sk-1 \xfe", []string{"sk-1"}, "\xff REDACTED \xfe"},
	}
	for _, tt := range tests {
		if got := String(tt.s, tt.secrets...); got != tt.want {
			t.Errorf("String(%q, %q) = %q, want %q", tt.s, tt.secrets, got, tt.want)
		}
	}
}

func TestStringNeverLeaks(t *testing.T) {
	secrets := []string{"s3cr3t", "s3cr3t/with+specials=", "ünïcode-key"}
	for _, sec := range secrets {
		for _, s := range []string{
			"key=" + sec,
			"POST https://api.example.com/x?api_key=" + strings.ReplaceAll(sec, "/", "%2F") + " failed",
			sec + sec + sec,
			"(" + sec + ")",
		} {
			if got := String(s, secrets...); strings.Contains(got, sec) {
				t.Errorf("String(%q) = %q still contains %q", s, got, sec)
			}
		}
	}
}

func TestOutput(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain line\n  indented  stays\n", "plain line\n  indented  stays\n"},
		{"AWS_SECRET_ACCESS_KEY=abc123 rest", "AWS_SECRET_ACCESS_KEY=REDACTED rest"},
		{"login --password hunter2 ok", "login --password REDACTED ok"},
		{"key sk-known-1234 here", "key REDACTED here"},
		{"see https://user:pw@example.com/x", "see https://user:REDACTED@example.com/x"},
	}
	for _, tt := range tests {
		if got := Output(tt.in, "sk-known-1234"); got != tt.want {
			t.Errorf("Output(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
