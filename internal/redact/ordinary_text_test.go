package redact

import (
	"slices"
	"strings"
	"testing"
)

// TestIsSecretNameSettings: a name whose last word says it holds a setting
// about a secret (a URL, a file, a mode, a count) is not secret, and "auth"
// counts only as a word of its own; names that hold the secret still are.
func TestIsSecretNameSettings(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"NEXTAUTH_URL", false},
		{"NEXTAUTH", false},
		{"nextAuthUrl", false},
		{"AUTH_URL", false},
		{"OAUTH_REDIRECT_URI", false},
		{"REDIS_AUTH_HOST", false},
		{"AUTH_MODE", false},
		{"auth_retries", false},
		{"auth-timeout", false},
		{"API_KEY_FILE", false},
		{"HF_TOKEN_PATH", false},
		{"SECRET_NAME", false},
		{"PASSWORD_FILE", false},
		{"TOKEN_ENDPOINT", false},
		{"AWS_REGION", false},
		// secret
		{"AUTH_TOKEN", true},
		{"AUTH", true},
		{"HTTP_AUTH", true},
		{"PROXY_AUTH", true},
		{"use-auth", true},
		{"basicAuth", true},
		{"OAUTH2", true},
		{"AUTHORIZATION", true},
		{"HTTP_AUTHORIZATION", true},
		{"NEXTAUTH_SECRET", true},
		{"AWS_ACCESS_KEY_ID", true},
		{"aws-access-key-id", true},
		{"DATABASE_PASSWORD", true},
	}
	for _, tt := range tests {
		if got := IsSecretName(tt.name); got != tt.want {
			t.Errorf("IsSecretName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestEnvironValuesByShape: a secret variable's value is searched for
// everywhere only when it looks like a secret; identifiers (created_at)
// and settings (NEXTAUTH_URL) are not, but a URL's password is.
func TestEnvironValuesByShape(t *testing.T) {
	tests := []struct {
		kv   string
		want []string // nil: left out
	}{
		// identifiers under a *_KEY name
		{"SORT_KEY=created_at", nil},
		{"PARTITION_KEY=user.id", nil},
		{"CACHE_KEY=model-v2-us-east-1", []string{"model-v2-us-east-1"}}, // "v2": a word with a digit
		{"REGION_KEY=us-east-1", nil},
		{"ORDER_KEY=created_at_descending_order", nil},
		{"MODE_TOKEN=default", nil},
		// settings, whatever their value
		{"NEXTAUTH_URL=http://localhost:3000", nil},
		{"AUTH_HOST=auth.internal.example.com", nil},
		{"API_KEY_FILE=/run/secrets/api_key", nil},
		{"DATABASE_URL=postgres://postgres:postgres@localhost/db", nil}, // a word is no secret
		// a URL's password, alone
		{"NEXTAUTH_URL=http://admin:S3cretPass9@localhost:3000", []string{"S3cretPass9"}},
		{"DATABASE_URL=postgres://app:p%40ss-W0rd@db/app", []string{"p@ss-W0rd"}},
		// real secrets
		{"API_KEY=aB3dE5fG7hJ9kL1mN3pQ", []string{"aB3dE5fG7hJ9kL1mN3pQ"}},
		{"OPENAI_API_KEY=sk-proj-abc", []string{"sk-proj-abc"}},
		{"STRIPE_KEY=sk_live_abc", []string{"sk_live_abc"}},
		{"SECRET_KEY=dGhpcyBpcyBhIHNlY3JldA==", []string{"dGhpcyBpcyBhIHNlY3JldA=="}},
		{"SESSION_SECRET=abcdefghijklmnopqrst", []string{"abcdefghijklmnopqrst"}},
		{"DB_PASSWORD=hunter2", []string{"hunter2"}},
		{"PGPASSWORD=correct-horse-battery", []string{"correct-horse-battery"}},
		{"REDIS_PASSWORD=staple_battery", []string{"staple_battery"}},
		{"DEPLOY_TOKEN=1234567", []string{"1234567"}},
		{"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", []string{"AKIAIOSFODNN7EXAMPLE"}},
		{"HTTP_AUTH=user:pw-123", []string{"user:pw-123"}},
	}
	for _, tt := range tests {
		if got := EnvironValues([]string{tt.kv}); !slices.Equal(got, tt.want) {
			t.Errorf("EnvironValues(%q) = %q, want %q", tt.kv, got, tt.want)
		}
	}
}

// TestOrdinaryTextKept: what a run stores (its command line through Args,
// its stderr through Output) keeps ordinary text byte for byte when the
// environment holds identifier-like or setting values under secret-looking
// names, and free text keeps its layout and words.
func TestOrdinaryTextKept(t *testing.T) {
	environ := []string{
		"SORT_KEY=created_at",
		"NEXTAUTH_URL=http://localhost:3000",
		"AUTH_MODE=enabled",
	}
	r := New(EnvironValues(environ)...)
	args := []string{"node", "server.js", "--url", "http://localhost:3000", "--order", "created_at",
		"NEXTAUTH_URL=http://localhost:3000", "--auth-url=http://localhost:3000/api/auth"}
	if got := r.Args(args); !slices.Equal(got, args) {
		t.Errorf("Args(%q) = %q", args, got)
	}
	if got := Environ(environ); !slices.Equal(got, environ) {
		t.Errorf("Environ(%q) = %q", environ, got)
	}
	outputs := []struct{ name, in string }{
		{"identifier by value", "sorting by created_at\nSELECT id, created_at FROM t\n"},
		{"setting by value", "fetching http://localhost:3000/api/users\n"},
		{"flag then prose", "warning: --auth flag is deprecated\n"},
		{"flag then verb", "error: --password is required, see --token below.\n"},
		{"flag then capitalised word", "--api-key Required when uploading\n"},
		{"small number", "auth_retries=3\nretrying auth (auth_retries=3, token_ttl=30)\n"},
		{"quantity", "--auth-timeout 30s --token-count 12\n"},
		{"argparse help", "usage: train.py [-h] [--api-key API_KEY] [--token TOKEN]\n\n" +
			"options:\n" +
			"  -h, --help         show this help message and exit\n" +
			"  --api-key API_KEY  the API key (default: $GRAPHSIGNAL_API_KEY)\n" +
			"  --token TOKEN      a token, or ${hf_token}\n" +
			"  --auth {basic,token}\n" +
			"\t\t\tthe scheme  (two spaces kept)\n"},
		{"placeholders", "use --token=<TOKEN> or token=$HF_TOKEN or --password PASSWORD\n"},
		{"tabs and trailing blanks", "\tcol1\t\tcol2  \n   \n"},
		{"ellipsis", "--token ... and --secret ***\n"},
	}
	for _, tt := range outputs {
		if got := r.Output(tt.in); got != tt.in {
			t.Errorf("%s: Output(%q) = %q", tt.name, tt.in, got)
		}
	}
}

// TestOutputSecretsKeepLayout: secrets after a secret flag, by name or on a
// shell trace line are redacted, and only they change.
func TestOutputSecretsKeepLayout(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"flag value", "  --password hunter2   (from env)\n", "  --password REDACTED   (from env)\n"},
		{"flag api key", "login --api-key sk-live-abcdef123456 failed", "login --api-key REDACTED failed"},
		{"flag mixed case", "--auth Xy9_secret-Val.", "--auth REDACTED."},
		{"flag quoted", `run --token "aB3dE5fG7" now`, `run --token "REDACTED" now`},
		{"flag tab", "-token\tabc123def", "-token\tREDACTED"},
		{"flag path", "--credentials /home/u/creds.json", "--credentials REDACTED"},
		{"name=value", "token=abc123def456 rest", "token=REDACTED rest"},
		{"env assignment", "export AUTH_TOKEN=x9y8z7", "export AUTH_TOKEN=REDACTED"},
		{"trace mysql", "+ mysql -phunter2 db\n", "+ mysql -pREDACTED db\n"},
		{"trace curl keeps spacing", "  ++ curl  -u admin:pw9  http://h/\n", "  ++ curl  -u admin:REDACTED  http://h/\n"},
		{"trace flag word", "+ tool --auth flag\n", "+ tool --auth REDACTED\n"},
		{"url password in setting", "NEXTAUTH_URL=http://admin:S3cretPass9@localhost:3000",
			"NEXTAUTH_URL=http://admin:REDACTED@localhost:3000"},
	}
	for _, tt := range tests {
		if got := Output(tt.in); got != tt.want {
			t.Errorf("%s: Output(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
	// A URL's password from the environment is found alone, too.
	r := New(EnvironValues([]string{"NEXTAUTH_URL=http://admin:S3cretPass9@localhost:3000"})...)
	if got := r.Output("login S3cretPass9 rejected"); got != "login REDACTED rejected" {
		t.Errorf("URL password by value: %q", got)
	}
	if got := r.Args([]string{"app", "--url", "http://localhost:3000"}); got[2] != "http://localhost:3000" {
		t.Errorf("URL without credentials redacted: %q", got)
	}
	if s := strings.Join(r.Args([]string{"app", "http://admin:S3cretPass9@localhost:3000"}), " "); strings.Contains(s, "S3cretPass9") {
		t.Errorf("URL password kept: %q", s)
	}
}
