package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/graphsignal/graphsignal/internal/launcher"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// configCase is one call of resolveConfig: command-line flags, environment
// and the content of the file passed as --config ("" for no --config).
type configCase struct {
	args    []string
	environ []string
	file    string
}

// resolve runs resolveConfig in a fresh working directory without a
// ./graphsignal.yaml, so only the case's file can be read.
func (c configCase) resolve(t *testing.T) (*Config, map[string]configSource, error) {
	t.Helper()
	t.Chdir(t.TempDir())
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	addConfigFlags(fs)
	if err := fs.Parse(c.args); err != nil {
		t.Fatalf("Parse(%q) = %v", c.args, err)
	}
	configFlag := ""
	if c.file != "" {
		configFlag = writeFile(t, "config.yaml", c.file)
	}
	return resolveConfig(fs, c.environ, configFlag, false)
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestResolveConfigPrecedence(t *testing.T) {
	const file = "deployment: from-file\nsample_interval: 250ms\n"
	tests := []struct {
		name string
		configCase
		wantDeployment, wantDeploymentFrom string
		wantInterval                       time.Duration
		wantIntervalFrom                   string
	}{
		{
			name:           "defaults",
			wantDeployment: "", wantDeploymentFrom: "default",
			wantInterval: time.Second, wantIntervalFrom: "default",
		},
		{
			name:           "file over default",
			configCase:     configCase{file: file},
			wantDeployment: "from-file", wantDeploymentFrom: "config file",
			wantInterval: 250 * time.Millisecond, wantIntervalFrom: "config file",
		},
		{
			name: "environment over file",
			configCase: configCase{file: file, environ: []string{
				"GRAPHSIGNAL_DEPLOYMENT=from-env", "GRAPHSIGNAL_SAMPLE_INTERVAL=500ms",
			}},
			wantDeployment: "from-env", wantDeploymentFrom: "environment GRAPHSIGNAL_DEPLOYMENT",
			wantInterval: 500 * time.Millisecond, wantIntervalFrom: "environment GRAPHSIGNAL_SAMPLE_INTERVAL",
		},
		{
			name: "empty environment variable is unset",
			configCase: configCase{file: file, environ: []string{
				"GRAPHSIGNAL_DEPLOYMENT=", "GRAPHSIGNAL_SAMPLE_INTERVAL=",
			}},
			wantDeployment: "from-file", wantDeploymentFrom: "config file",
			wantInterval: 250 * time.Millisecond, wantIntervalFrom: "config file",
		},
		{
			name: "flag over environment and file",
			configCase: configCase{
				file:    file,
				environ: []string{"GRAPHSIGNAL_DEPLOYMENT=from-env", "GRAPHSIGNAL_SAMPLE_INTERVAL=500ms"},
				args:    []string{"--deployment=from-flag", "--sample-interval=2s"},
			},
			wantDeployment: "from-flag", wantDeploymentFrom: "flag --deployment",
			wantInterval: 2 * time.Second, wantIntervalFrom: "flag --sample-interval",
		},
		{
			name: "flag set to its default value still wins",
			configCase: configCase{
				file: file, environ: []string{"GRAPHSIGNAL_SAMPLE_INTERVAL=500ms"},
				args: []string{"--sample-interval=1s"},
			},
			wantDeployment: "from-file", wantDeploymentFrom: "config file",
			wantInterval: time.Second, wantIntervalFrom: "flag --sample-interval",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, sources, err := tt.resolve(t)
			if err != nil {
				t.Fatalf("resolveConfig = %v", err)
			}
			if cfg.Deployment != tt.wantDeployment || sources["deployment"].from != tt.wantDeploymentFrom {
				t.Errorf("deployment = %q from %q, want %q from %q", cfg.Deployment, sources["deployment"].from, tt.wantDeployment, tt.wantDeploymentFrom)
			}
			if cfg.SampleInterval != tt.wantInterval || sources["sample_interval"].from != tt.wantIntervalFrom {
				t.Errorf("sample_interval = %v from %q, want %v from %q", cfg.SampleInterval, sources["sample_interval"].from, tt.wantInterval, tt.wantIntervalFrom)
			}
			// Settings nobody set keep their defaults.
			if cfg.FlushTimeout != 2*time.Second || !cfg.RecordPayloads || cfg.PTY || cfg.Summary != "auto" {
				t.Errorf("defaults = %v %v %v %q, want 2s true false auto", cfg.FlushTimeout, cfg.RecordPayloads, cfg.PTY, cfg.Summary)
			}
		})
	}
}

func TestResolveConfigAPIBase(t *testing.T) {
	tests := []struct {
		name               string
		environ            []string
		args               []string
		wantBase, wantFrom string
	}{
		{name: "default", wantBase: "https://api.graphsignal.com", wantFrom: "default"},
		{
			name:     "GRAPHSIGNAL_API_URL alias",
			environ:  []string{"GRAPHSIGNAL_API_URL=http://url.example"},
			wantBase: "http://url.example", wantFrom: "environment GRAPHSIGNAL_API_URL",
		},
		{
			name:     "GRAPHSIGNAL_API_BASE over the alias",
			environ:  []string{"GRAPHSIGNAL_API_URL=http://url.example", "GRAPHSIGNAL_API_BASE=http://base.example"},
			wantBase: "http://base.example", wantFrom: "environment GRAPHSIGNAL_API_BASE",
		},
		{
			name:     "flag over both",
			environ:  []string{"GRAPHSIGNAL_API_URL=http://url.example", "GRAPHSIGNAL_API_BASE=http://base.example"},
			args:     []string{"--api-base", "http://flag.example"},
			wantBase: "http://flag.example", wantFrom: "flag --api-base",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, sources, err := configCase{args: tt.args, environ: tt.environ}.resolve(t)
			if err != nil {
				t.Fatalf("resolveConfig = %v", err)
			}
			if cfg.APIBase != tt.wantBase || sources["api_base"].from != tt.wantFrom {
				t.Errorf("api_base = %q from %q, want %q from %q", cfg.APIBase, sources["api_base"].from, tt.wantBase, tt.wantFrom)
			}
		})
	}
}

// TestResolveConfigAPIBaseRefused: an API base that apibase.Parse refuses
// is a usage error naming where it came from, which never shows the
// credentials, query or fragment it may hold.
func TestResolveConfigAPIBaseRefused(t *testing.T) {
	const secret = "hunter2-s3cret"
	tests := []struct {
		name string
		configCase
		want []string
	}{
		{
			name:       "not http",
			configCase: configCase{args: []string{"--api-base=ftp://example.com"}},
			want:       []string{`api_base from flag --api-base: "ftp://example.com": scheme must be http or https`},
		},
		{
			name:       "no host",
			configCase: configCase{args: []string{"--api-base=https://"}},
			want:       []string{`"https:": no host`},
		},
		{
			name:       "password",
			configCase: configCase{environ: []string{"GRAPHSIGNAL_API_BASE=https://u:" + secret + "@example.com"}},
			want:       []string{"environment GRAPHSIGNAL_API_BASE", `"https://redacted@example.com": credentials in the URL are not allowed`},
		},
		{
			name:       "token as the user name",
			configCase: configCase{environ: []string{"GRAPHSIGNAL_API_BASE=https://" + secret + "@example.com"}},
			want:       []string{`"https://redacted@example.com": credentials in the URL are not allowed`},
		},
		{
			name:       "user and password without a scheme",
			configCase: configCase{file: "api_base: user:" + secret + "@example.com\n"},
			want:       []string{"api_base from config file", `"redacted@example.com": scheme must be http or https`},
		},
		{
			name:       "not a URL",
			configCase: configCase{args: []string{"--api-base=https://u:" + secret + "@[::1"}},
			want:       []string{`"https://redacted@[::1": not a URL`},
		},
		{
			name:       "query",
			configCase: configCase{args: []string{"--api-base=https://example.com/?token=" + secret}},
			want:       []string{`"https://example.com/": a query or fragment is not allowed`},
		},
		{
			name:       "fragment",
			configCase: configCase{args: []string{"--api-base=https://example.com/#" + secret}},
			want:       []string{`"https://example.com/": a query or fragment is not allowed`},
		},
		{
			name:       "bad port",
			configCase: configCase{args: []string{"--api-base=https://example.com:99999"}},
			want:       []string{`"https://example.com:99999": bad port`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := tt.resolve(t)
			checkUsageError(t, cfg, err, tt.want)
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

func TestResolveConfigTags(t *testing.T) {
	const file = "tags:\n  a: file\n  b: file\n  c: file\n  d: file\n  Team: ml\n  replicas: 3\n"
	tests := []struct {
		name string
		configCase
		want telemetry.Tags
	}{
		{name: "none", want: telemetry.Tags{}},
		{
			name:       "file only, keys lower-cased, values as text",
			configCase: configCase{file: file},
			want:       telemetry.Tags{"a": "file", "b": "file", "c": "file", "d": "file", "team": "ml", "replicas": "3"},
		},
		{
			name: "file < GRAPHSIGNAL_TAGS < GRAPHSIGNAL_TAG_X < --tag",
			configCase: configCase{
				file:    file,
				environ: []string{"GRAPHSIGNAL_TAGS=b=env, c=env,d=env", "GRAPHSIGNAL_TAG_C=tagx", "GRAPHSIGNAL_TAG_D=tagx"},
				args:    []string{"--tag", "d=flag"},
			},
			want: telemetry.Tags{"a": "file", "b": "env", "c": "tagx", "d": "flag", "team": "ml", "replicas": "3"},
		},
		{
			name: "repeated --tag, the last wins",
			configCase: configCase{
				environ: []string{"GRAPHSIGNAL_TAG_USER_ID=u1"},
				args:    []string{"--tag=k=1", "--tag", "k=2", "--tag", "url=a=b"},
			},
			want: telemetry.Tags{"k": "2", "url": "a=b", "user_id": "u1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, sources, err := tt.resolve(t)
			if err != nil {
				t.Fatalf("resolveConfig = %v", err)
			}
			if diff := cmp.Diff(tt.want, cfg.Tags); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			if _, ok := sources["tags"]; !ok {
				t.Errorf("sources has no tags entry")
			}
		})
	}
}

func TestResolveConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		configCase
		want []string // substrings of the message
	}{
		{
			name:       "bad duration in the environment",
			configCase: configCase{environ: []string{"GRAPHSIGNAL_SAMPLE_INTERVAL=soon"}},
			want:       []string{`sample_interval "soon"`, "environment GRAPHSIGNAL_SAMPLE_INTERVAL"},
		},
		{
			name:       "bad duration in the file",
			configCase: configCase{file: "flush_timeout: forever\n"},
			want:       []string{`flush_timeout "forever"`, "config file"},
		},
		{
			name:       "duration below 10ms from a flag",
			configCase: configCase{args: []string{"--sample-interval=5ms"}},
			want:       []string{`sample_interval "5ms"`, "flag --sample-interval", "10ms"},
		},
		{
			name:       "zero duration in the environment",
			configCase: configCase{environ: []string{"GRAPHSIGNAL_FLUSH_TIMEOUT=0s"}},
			want:       []string{`flush_timeout "0s"`, "environment GRAPHSIGNAL_FLUSH_TIMEOUT"},
		},
		{
			name:       "api key with a space inside",
			configCase: configCase{environ: []string{"GRAPHSIGNAL_API_KEY=sk-one two"}},
			want:       []string{"api_key from environment GRAPHSIGNAL_API_KEY", "contains a space"},
		},
		{
			name:       "otlp endpoint with a bad port in the file",
			configCase: configCase{file: "otlp_endpoint: http://collector:70000\n"},
			want:       []string{`otlp_endpoint "http://collector:70000" from config file`, "port 70000"},
		},
		{
			name:       "unknown config key",
			configCase: configCase{file: "deployment: x\nsampel_interval: 1s\n"},
			want:       []string{`unknown setting "sampel_interval"`, "config.yaml"},
		},
		{
			name:       "tags not a map",
			configCase: configCase{file: "tags: [a, b]\n"},
			want:       []string{"tags: want a map"},
		},
		{
			name:       "tags a string",
			configCase: configCase{file: "tags: team=ml\n"},
			want:       []string{"tags: want a map"},
		},
		{
			name:       "nested tag value",
			configCase: configCase{file: "tags:\n  team:\n    name: ml\n"},
			want:       []string{`tag "team": want a single value`},
		},
		{
			name:       "malformed GRAPHSIGNAL_TAGS entry",
			configCase: configCase{environ: []string{"GRAPHSIGNAL_TAGS=ok=1,broken"}},
			want:       []string{"GRAPHSIGNAL_TAGS", `tag "broken": want key=value`},
		},
		{
			name:       "empty GRAPHSIGNAL_TAG_ key",
			configCase: configCase{environ: []string{"GRAPHSIGNAL_TAG_=x"}},
			want:       []string{"GRAPHSIGNAL_TAG_", "empty tag key"},
		},
		{
			name:       "malformed --tag",
			configCase: configCase{args: []string{"--tag", "novalue"}},
			want:       []string{"--tag", `tag "novalue": want key=value`},
		},
		{
			name:       "bad boolean",
			configCase: configCase{environ: []string{"GRAPHSIGNAL_RECORD_PAYLOADS=maybe"}},
			want:       []string{`record_payloads "maybe"`, "environment GRAPHSIGNAL_RECORD_PAYLOADS"},
		},
		{
			name:       "bad summary",
			configCase: configCase{args: []string{"--summary", "sometimes"}},
			want:       []string{`summary "sometimes"`},
		},
		{
			name:       "malformed yaml",
			configCase: configCase{file: "deployment: [unclosed\n"},
			want:       []string{"config file", "config.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := tt.resolve(t)
			checkUsageError(t, cfg, err, tt.want)
		})
	}
}

func checkUsageError(t *testing.T, cfg *Config, err error, want []string) {
	t.Helper()
	var usage *UsageError
	if !errors.As(err, &usage) {
		t.Fatalf("resolveConfig = %+v, %v; want a *UsageError", cfg, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func TestResolveConfigMissingConfigFile(t *testing.T) {
	t.Chdir(t.TempDir())
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	addConfigFlags(fs)
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	cfg, _, err := resolveConfig(fs, nil, missing, false)
	checkUsageError(t, cfg, err, []string{"config file", "missing.yaml"})
}

func TestResolveConfigFindsFile(t *testing.T) {
	xdg := t.TempDir()
	if err := os.MkdirAll(filepath.Join(xdg, "graphsignal"), 0o700); err != nil {
		t.Fatal(err)
	}
	xdgFile := filepath.Join(xdg, "graphsignal", "config.yaml")
	if err := os.WriteFile(xdgFile, []byte("deployment: from-xdg\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".config", "graphsignal"), 0o700); err != nil {
		t.Fatal(err)
	}
	homeFile := filepath.Join(home, ".config", "graphsignal", "config.yaml")
	if err := os.WriteFile(homeFile, []byte("deployment: from-home\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		local          bool // write ./graphsignal.yaml
		environ        []string
		wantFile       string // "local": ./graphsignal.yaml; "flag": pass --config
		wantDeployment string
	}{
		{name: "none", wantFile: ""},
		{name: "XDG_CONFIG_HOME", environ: []string{"XDG_CONFIG_HOME=" + xdg}, wantFile: xdgFile, wantDeployment: "from-xdg"},
		{name: "HOME/.config", environ: []string{"HOME=" + home}, wantFile: homeFile, wantDeployment: "from-home"},
		{name: "./graphsignal.yaml first", local: true, environ: []string{"XDG_CONFIG_HOME=" + xdg}, wantFile: "local", wantDeployment: "from-local"},
		{name: "--config over all", local: true, environ: []string{"XDG_CONFIG_HOME=" + xdg}, wantFile: "flag", wantDeployment: "from-flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if tt.local {
				if err := os.WriteFile("graphsignal.yaml", []byte("deployment: from-local\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			configFlag, wantFile := "", tt.wantFile
			switch tt.wantFile {
			case "local":
				wantFile = "graphsignal.yaml"
			case "flag":
				configFlag = writeFile(t, "flag.yaml", "deployment: from-flag\n")
				wantFile = configFlag
			}
			fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
			addConfigFlags(fs)
			cfg, _, err := resolveConfig(fs, tt.environ, configFlag, false)
			if err != nil {
				t.Fatalf("resolveConfig = %v", err)
			}
			if cfg.File != wantFile || cfg.Deployment != tt.wantDeployment {
				t.Errorf("File, Deployment = %q, %q; want %q, %q", cfg.File, cfg.Deployment, wantFile, tt.wantDeployment)
			}
		})
	}
}

func TestResolveConfigDataDir(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		args    []string
		want    string
	}{
		{name: "XDG_DATA_HOME", environ: []string{"XDG_DATA_HOME=/xdg/data", "HOME=/home/u"}, want: "/xdg/data/graphsignal"},
		{name: "HOME", environ: []string{"HOME=/home/u"}, want: "/home/u/.local/share/graphsignal"},
		{name: "GRAPHSIGNAL_DATA_DIR", environ: []string{"GRAPHSIGNAL_DATA_DIR=/d", "HOME=/home/u"}, want: "/d"},
		{name: "flag", environ: []string{"GRAPHSIGNAL_DATA_DIR=/d"}, args: []string{"--data-dir=/f"}, want: "/f"},
		{name: "nothing", want: filepath.Join(os.TempDir(), "graphsignal")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := configCase{args: tt.args, environ: tt.environ}.resolve(t)
			if err != nil {
				t.Fatalf("resolveConfig = %v", err)
			}
			if cfg.DataDir != tt.want {
				t.Errorf("DataDir = %q, want %q", cfg.DataDir, tt.want)
			}
		})
	}
}

func TestResolveConfigRedactsAPIKey(t *testing.T) {
	const secret = "sk-secret-value-123"
	tests := []struct {
		name string
		configCase
		wantFrom string
	}{
		{name: "flag", configCase: configCase{args: []string{"--api-key", secret}}, wantFrom: "flag --api-key"},
		{name: "environment", configCase: configCase{environ: []string{"GRAPHSIGNAL_API_KEY=" + secret}}, wantFrom: "environment GRAPHSIGNAL_API_KEY"},
		{name: "file", configCase: configCase{file: "api_key: " + secret + "\n"}, wantFrom: "config file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, sources, err := tt.resolve(t)
			if err != nil {
				t.Fatalf("resolveConfig = %v", err)
			}
			if cfg.APIKey != secret {
				t.Errorf("APIKey = %q, want the key", cfg.APIKey)
			}
			if got := sources["api_key"]; got.value != "REDACTED" || got.from != tt.wantFrom {
				t.Errorf("sources[api_key] = %+v, want REDACTED from %q", got, tt.wantFrom)
			}
			for k, s := range sources {
				if strings.Contains(s.value, secret) || strings.Contains(s.from, secret) {
					t.Errorf("sources[%s] = %+v holds the secret", k, s)
				}
			}
			var buf bytes.Buffer
			printConfig(&buf, sources)
			if strings.Contains(buf.String(), secret) {
				t.Errorf("printConfig output holds the secret:\n%s", buf.String())
			}
		})
	}
	t.Run("unset", func(t *testing.T) {
		_, sources, err := configCase{}.resolve(t)
		if err != nil {
			t.Fatalf("resolveConfig = %v", err)
		}
		if got := sources["api_key"]; got.value != "" || got.from != "default" {
			t.Errorf("sources[api_key] = %+v, want empty from default", got)
		}
	})
}

func TestExitStatus(t *testing.T) {
	signaled := &launcher.Exit{Code: 128 + 15, Signal: syscall.SIGTERM}
	tests := []struct {
		name      string
		err       error
		wantCode  int
		wantDie   *launcher.Exit
		wantPrint string
	}{
		{name: "success", err: nil, wantCode: 0},
		{
			name:      "program not found",
			err:       &launcher.ExecError{Program: "nope", Code: launcher.CodeNotFound, Reason: "not found in PATH"},
			wantCode:  127,
			wantPrint: "graphsignal: cannot run \"nope\": not found in PATH\n",
		},
		{
			name:      "program not executable, wrapped",
			err:       fmt.Errorf("run: %w", &launcher.ExecError{Program: "./x", Code: launcher.CodeNotExecutable, Reason: "permission denied"}),
			wantCode:  126,
			wantPrint: "graphsignal: run: cannot run \"./x\": permission denied\n",
		},
		{
			name:      "usage error",
			err:       usageErrorf("unknown flag %q", "--bogus"),
			wantCode:  CodeUsage,
			wantPrint: "graphsignal: unknown flag \"--bogus\"\n",
		},
		{
			name:      "wrapped usage error",
			err:       fmt.Errorf("config: %w", usageErrorf("bad")),
			wantCode:  125,
			wantPrint: "graphsignal: config: bad\n",
		},
		{name: "child exit code", err: &ChildExit{Exit: &launcher.Exit{Code: 3}}, wantCode: 3},
		{name: "child exit 0", err: &ChildExit{Exit: &launcher.Exit{Code: 0}}, wantCode: 0},
		{name: "child killed by a signal", err: &ChildExit{Exit: signaled}, wantCode: 143, wantDie: signaled},
		{name: "silent", err: &SilentError{Code: 4}, wantCode: 4},
		{name: "silent, wrapped", err: fmt.Errorf("upload: %w", &SilentError{Code: 2}), wantCode: 2},
		{name: "plain error", err: errors.New("open store: disk full"), wantCode: 1, wantPrint: "graphsignal: open store: disk full\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code, die := exitStatus(tt.err, &stderr)
			if code != tt.wantCode || die != tt.wantDie {
				t.Errorf("exitStatus(%v) = %d, %v; want %d, %v", tt.err, code, die, tt.wantCode, tt.wantDie)
			}
			if stderr.String() != tt.wantPrint {
				t.Errorf("exitStatus(%v) printed %q, want %q", tt.err, stderr.String(), tt.wantPrint)
			}
		})
	}
}

// TestResolveConfigTrimsAPIKey: a key read from a secret file often ends
// in a newline; it is used without the white space around it, and a child
// that inherited the untrimmed variable still counts as holding the key.
func TestResolveConfigTrimsAPIKey(t *testing.T) {
	environ := []string{"GRAPHSIGNAL_API_KEY=\tsk-key-42\n"}
	cfg, _, err := configCase{environ: environ}.resolve(t)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.APIKey != "sk-key-42" {
		t.Errorf("APIKey = %q, want it trimmed", cfg.APIKey)
	}
	if got := inheritedAPIKey(cfg, environ); got != "sk-key-42" {
		t.Errorf("inheritedAPIKey = %q, want the trimmed key", got)
	}
}
