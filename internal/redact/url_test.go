package redact

import "testing"

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"https://example.com/a/b?x=1#top", "https://example.com/a/b?x=1#top"},
		{"https://user:pass@example.com/x", "https://user:REDACTED@example.com/x"},
		{"https://user:@example.com/x", "https://user:@example.com/x"},
		{"https://user:p%40ss@example.com", "https://user:REDACTED@example.com"},
		{"https://u:p:q@example.com", "https://u:REDACTED@example.com"},
		{"https://ghp_abcdef@github.com/o/r.git", "https://REDACTED@github.com/o/r.git"},
		{"HTTPS://tok@github.com", "HTTPS://REDACTED@github.com"},
		{"ssh://git@github.com/o/r.git", "ssh://git@github.com/o/r.git"},
		{"postgres://app@db:5432/app", "postgres://app@db:5432/app"},
		{"postgres://app:pw@db:5432/app?sslmode=disable", "postgres://app:REDACTED@db:5432/app?sslmode=disable"},
		{"redis://:pw@cache:6379/0", "redis://:REDACTED@cache:6379/0"},
		{"https://h/p?token=abc", "https://h/p?token=REDACTED"},
		{"https://h/p?a=1&access_token=abc&b=2", "https://h/p?a=1&access_token=REDACTED&b=2"},
		{"https://h/p?key=AIza&q=x", "https://h/p?key=REDACTED&q=x"},
		{"https://h/p?sig=abc%2F%3D&sv=2020", "https://h/p?sig=REDACTED&sv=2020"},
		{"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F20240101&X-Amz-Signature=ff00",
			"https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED"},
		{"https://h/p?api%5Fkey=x", "https://h/p?api%5Fkey=REDACTED"},
		{"https://h/p?password=", "https://h/p?password="},
		{"https://h/p?token", "https://h/p?token"},
		{"https://h/p?tokenizer=gpt2&max_tokens=10", "https://h/p?tokenizer=gpt2&max_tokens=10"},
		{"https://h/cb#access_token=abc&state=x", "https://h/cb#access_token=REDACTED&state=x"},
		{"https://h/doc#section-2", "https://h/doc#section-2"},
		{"https://h/p%20q?x=%zz", "https://h/p%20q?x=%zz"},
		{"https://h/p?%zz=1&token=t", "https://h/p?%zz=1&token=REDACTED"},
		{"https://u:p@h?token=t#sig=s", "https://u:REDACTED@h?token=REDACTED#sig=REDACTED"},
		{"https://h/path/with@sign", "https://h/path/with@sign"},
		{"example.com/?token=x", "example.com/?token=x"},
		{"://u:p@h", "://u:p@h"},
		{"1http://u:p@h", "1http://u:p@h"},
		{"https://u:p@h/\xff?token=\xfe", "https://u:REDACTED@h/\xff?token=REDACTED"},
	}
	for _, tt := range tests {
		if got := URL(tt.in); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"plain text", "plain text"},
		{`Get "https://u:p@h/x": dial tcp: refused`, `Get "https://u:REDACTED@h/x": dial tcp: refused`},
		{"see https://h/?token=a and http://x:y@z/", "see https://h/?token=REDACTED and http://x:REDACTED@z/"},
		{"<https://h/?key=k>", "<https://h/?key=REDACTED>"},
		{"url=https://h/?sig=s\nnext", "url=https://h/?sig=REDACTED\nnext"},
		{"Authorization: Bearer eyJhbGciOi.x.y rest", "Authorization: Bearer REDACTED rest"},
		{"BEARER abc123def", "BEARER REDACTED"},
		{"bearer abc", "bearer abc"},
		{"the bearer of bad news", "the bearer of bad news"},
		{"a bearer instrument", "a bearer instrument"},
		{"bearer ", "bearer "},
		{"Bearer REDACTED", "Bearer REDACTED"},
		{"Bearer a.b.c-d_e Bearer x1234567", "Bearer REDACTED Bearer REDACTED"},
		{"a :// b", "a :// b"},
		{"://", "://"},
		{"x://", "x://"},
		{"\xff https://u:p@h \xfe", "\xff https://u:REDACTED@h \xfe"},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
