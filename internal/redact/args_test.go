package redact

import (
	"slices"
	"testing"
)

func TestArgs(t *testing.T) {
	tests := []struct {
		name     string
		in, want []string
	}{
		{"nil", nil, []string{}},
		{"plain", []string{"python", "-v", "train.py", "--epochs", "3"}, []string{"python", "-v", "train.py", "--epochs", "3"}},
		{"flag equals", []string{"app", "--api-key=sk-1"}, []string{"app", "--api-key=REDACTED"}},
		{"single dash equals", []string{"app", "-token=t"}, []string{"app", "-token=REDACTED"}},
		{"flag separate", []string{"app", "--api-key", "sk-1", "x"}, []string{"app", "--api-key", "REDACTED", "x"}},
		{"flag underscore", []string{"app", "--api_key", "sk-1"}, []string{"app", "--api_key", "REDACTED"}},
		{"upper case flag", []string{"app", "--API-KEY=sk"}, []string{"app", "--API-KEY=REDACTED"}},
		{"password", []string{"app", "--password", "hunter2"}, []string{"app", "--password", "REDACTED"}},
		{"db-password", []string{"app", "--db-password=hunter2"}, []string{"app", "--db-password=REDACTED"}},
		{"secret", []string{"app", "--client-secret", "s"}, []string{"app", "--client-secret", "REDACTED"}},
		{"token at end", []string{"app", "--token"}, []string{"app", "--token"}},
		{"empty value equals", []string{"app", "--token="}, []string{"app", "--token="}},
		{"empty value separate", []string{"app", "--token", ""}, []string{"app", "--token", ""}},
		{"equals in value", []string{"app", "--token=a=b=c"}, []string{"app", "--token=REDACTED"}},
		{"equals in separate value", []string{"app", "--token", "a=b"}, []string{"app", "--token", "REDACTED"}},
		{"next is long flag", []string{"app", "--use-auth", "--verbose"}, []string{"app", "--use-auth", "--verbose"}},
		{"next is short flag", []string{"app", "--token", "-abc"}, []string{"app", "--token", "REDACTED"}},
		{"no- prefix is boolean", []string{"app", "--no-auth", "file"}, []string{"app", "--no-auth", "file"}},
		{"two secret flags", []string{"app", "--token", "--secret", "s"}, []string{"app", "--token", "--secret", "REDACTED"}},
		{"not secret flags", []string{"app", "--author", "Jane", "--tokenizer", "gpt2", "--max_tokens", "100"},
			[]string{"app", "--author", "Jane", "--tokenizer", "gpt2", "--max_tokens", "100"}},
		{"short p untouched", []string{"docker", "run", "-p", "8080:80", "img"}, []string{"docker", "run", "-p", "8080:80", "img"}},
		{"double dash kept and scanning goes on", []string{"app", "--", "--token", "t"}, []string{"app", "--", "--token", "REDACTED"}},
		{"env assignment", []string{"env", "API_KEY=sk", "HOME=/h", "prog"}, []string{"env", "API_KEY=REDACTED", "HOME=/h", "prog"}},
		{"env assignment empty", []string{"env", "API_KEY=", "prog"}, []string{"env", "API_KEY=", "prog"}},
		{"docker -e", []string{"docker", "run", "-e", "HF_TOKEN=hf_x", "img"}, []string{"docker", "run", "-e", "HF_TOKEN=REDACTED", "img"}},
		{"docker --env=", []string{"docker", "run", "--env=HF_TOKEN=hf_x", "img"}, []string{"docker", "run", "--env=HF_TOKEN=REDACTED", "img"}},
		{"make var", []string{"make", "PASSWORD=x", "all"}, []string{"make", "PASSWORD=REDACTED", "all"}},
		{"var with url", []string{"env", "DB=postgres://u:p@h/d"}, []string{"env", "DB=postgres://u:REDACTED@h/d"}},
		{"secret name=value inside text", []string{"echo", "a token=x b"}, []string{"echo", "a token=REDACTED b"}},
		{"header separate", []string{"curl", "-H", "Authorization: Bearer abc", "https://h"},
			[]string{"curl", "-H", "Authorization: Bearer REDACTED", "https://h"}},
		{"header equals", []string{"app", "--header=X-Api-Key: k"}, []string{"app", "--header=X-Api-Key: REDACTED"}},
		{"harmless header", []string{"curl", "-H", "Content-Type: application/json"},
			[]string{"curl", "-H", "Content-Type: application/json"}},
		{"url positional", []string{"git", "clone", "https://x-access-token:ghs_1@github.com/o/r"},
			[]string{"git", "clone", "https://x-access-token:REDACTED@github.com/o/r"}},
		{"url in flag", []string{"app", "--endpoint=https://h/?sig=s"}, []string{"app", "--endpoint=https://h/?sig=REDACTED"}},
		{"url separate flag", []string{"app", "--endpoint", "https://u:p@h"}, []string{"app", "--endpoint", "https://u:REDACTED@h"}},
		{"url harmless", []string{"wget", "https://example.com/file?x=1"}, []string{"wget", "https://example.com/file?x=1"}},
		{"mysql -p attached", []string{"mysql", "-uroot", "-phunter2", "db"}, []string{"mysql", "-uroot", "-pREDACTED", "db"}},
		{"mysql -p prompts", []string{"mysql", "-p", "db"}, []string{"mysql", "-p", "db"}},
		{"mysql after sudo", []string{"sudo", "/usr/bin/mysqldump", "-pX"}, []string{"sudo", "/usr/bin/mysqldump", "-pREDACTED"}},
		{"mysql -P port", []string{"mysql", "-P3306"}, []string{"mysql", "-P3306"}},
		{"mysql --password", []string{"mysql", "--password=x"}, []string{"mysql", "--password=REDACTED"}},
		{"-p elsewhere", []string{"python", "-pX"}, []string{"python", "-pX"}},
		{"sshpass", []string{"sshpass", "-p", "pw", "ssh", "h"}, []string{"sshpass", "-p", "REDACTED", "ssh", "h"}},
		{"sshpass attached", []string{"sshpass", "-ppw", "ssh", "h"}, []string{"sshpass", "-pREDACTED", "ssh", "h"}},
		{"redis-cli -a", []string{"redis-cli", "-h", "h", "-a", "pw", "ping"}, []string{"redis-cli", "-h", "h", "-a", "REDACTED", "ping"}},
		{"openssl -passin", []string{"openssl", "rsa", "-passin", "pass:pw", "-in", "k"}, []string{"openssl", "rsa", "-passin", "REDACTED", "-in", "k"}},
		{"curl --cookie", []string{"curl", "--cookie", "sid=1", "https://h"}, []string{"curl", "--cookie", "REDACTED", "https://h"}},
		{"java system property", []string{"java", "-Ddb.password=pw", "-jar", "a.jar"}, []string{"java", "-Ddb.password=REDACTED", "-jar", "a.jar"}},
		{"curl -u", []string{"curl", "-u", "me:pw", "https://h"}, []string{"curl", "-u", "me:REDACTED", "https://h"}},
		{"curl -u prompt", []string{"curl", "-u", "me", "https://h"}, []string{"curl", "-u", "me", "https://h"}},
		{"curl -u attached", []string{"curl", "-ume:pw"}, []string{"curl", "-ume:REDACTED"}},
		{"curl --user=", []string{"curl", "--user=me:pw"}, []string{"curl", "--user=me:REDACTED"}},
		{"curl --proxy-user", []string{"curl", "--proxy-user", "me:pw"}, []string{"curl", "--proxy-user", "me:REDACTED"}},
		{"-u elsewhere", []string{"docker", "exec", "-u", "me:grp", "c"}, []string{"docker", "exec", "-u", "me:grp", "c"}},
		{"non-utf8 untouched", []string{"app", "\xff\xfe", "--x=\xff", "a\x00b"}, []string{"app", "\xff\xfe", "--x=\xff", "a\x00b"}},
		{"non-utf8 secret", []string{"app", "--token", "\xff\xfe"}, []string{"app", "--token", "REDACTED"}},
		{"dash alone", []string{"app", "-", "--"}, []string{"app", "-", "--"}},
		{"empty strings", []string{"", "", "="}, []string{"", "", "="}},
		{"spaces", []string{"echo", " a  b ", "x y=z"}, []string{"echo", " a  b ", "x y=z"}},
	}
	for _, tt := range tests {
		in := slices.Clone(tt.in)
		got := Args(tt.in)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: Args(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
		if !slices.Equal(in, tt.in) {
			t.Errorf("%s: Args modified its input: %q", tt.name, tt.in)
		}
	}
}

func FuzzArgs(f *testing.F) {
	f.Add("--token", "sk-1", "https://u:p@h/?token=t")
	f.Add("mysql", "-pX", "Authorization: Bearer a")
	f.Add("\xff", "=", "")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		in := []string{a, b, c}
		got := Args(in)
		if len(got) != len(in) {
			t.Fatalf("Args(%q) returned %d args", in, len(got))
		}
		for i := range got {
			if got[i] != in[i] && !containsRedacted(got[i]) {
				t.Errorf("Args(%q)[%d] = %q: changed without redacting", in, i, got[i])
			}
		}
		// Redacting twice changes nothing more.
		if again := Args(got); !slices.Equal(again, got) {
			t.Errorf("Args(Args(%q)) = %q, want %q", in, again, got)
		}
	})
}

func containsRedacted(s string) bool {
	for i := 0; i+len(Redacted) <= len(s); i++ {
		if s[i:i+len(Redacted)] == Redacted {
			return true
		}
	}
	return false
}
