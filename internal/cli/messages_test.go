package cli

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestTagFlagIsOneTag: a --tag value is one tag, commas included.
func TestTagFlagIsOneTag(t *testing.T) {
	tests := []struct {
		args []string
		want telemetry.Tags
	}{
		{[]string{"--tag", "note=a,b"}, telemetry.Tags{"note": "a,b"}},
		{[]string{"--tag", "a=b,c=d"}, telemetry.Tags{"a": "b,c=d"}},
		{[]string{"--tag", "k=1", "--tag", "k=x,y"}, telemetry.Tags{"k": "x,y"}},
	}
	for _, tt := range tests {
		cfg, _, err := configCase{args: tt.args}.resolve(t)
		if err != nil {
			t.Fatalf("resolveConfig(%q) = %v", tt.args, err)
		}
		if diff := cmp.Diff(tt.want, cfg.Tags); diff != "" {
			t.Errorf("resolveConfig(%q) tags (-want +got):\n%s", tt.args, diff)
		}
	}
}

// TestUnknownSetting: an unknown key is an error that suggests the nearest
// known one, returned with the configuration resolved all the same, which
// the read-only commands use after a warning.
func TestUnknownSetting(t *testing.T) {
	tests := []struct {
		file, key, suggestion string
	}{
		{"apikey: x\n", "apikey", "api_key"},
		{"api-key: x\n", "api-key", "api_key"},
		{"sample_intervall: 5s\n", "sample_intervall", "sample_interval"},
		{"deploymnet: x\n", "deploymnet", "deployment"},
		{"Summary_: never\n", "summary_", "summary"},
		{"colour: blue\n", "colour", ""},
		{"record_payloads: true\nzz_unknown: 1\n", "zz_unknown", ""},
	}
	for _, tt := range tests {
		cfg, _, err := configCase{file: tt.file + "deployment: kept\n"}.resolve(t)
		var unknown *UnknownSettingError
		var usage *UsageError
		if !errors.As(err, &unknown) || !errors.As(err, &usage) {
			t.Fatalf("resolveConfig(%q) = %v, want a UsageError wrapping *UnknownSettingError", tt.file, err)
		}
		if unknown.Key != tt.key || unknown.Suggestion != tt.suggestion {
			t.Errorf("resolveConfig(%q): key %q, suggestion %q; want %q, %q", tt.file, unknown.Key, unknown.Suggestion, tt.key, tt.suggestion)
		}
		if tt.suggestion != "" && !strings.HasSuffix(err.Error(), `(did you mean "`+tt.suggestion+`"?)`) {
			t.Errorf("message %q does not suggest %q", err, tt.suggestion)
		}
		if cfg == nil {
			t.Fatalf("resolveConfig(%q) returned no configuration", tt.file)
		}
		var stderr bytes.Buffer
		if err := warnUnknownSettings(err, &stderr); err != nil {
			t.Errorf("warnUnknownSettings = %v, want nil", err)
		}
		if !strings.HasPrefix(stderr.String(), "graphsignal: warning: config file ") || !strings.HasSuffix(stderr.String(), "; it is ignored\n") {
			t.Errorf("warning = %q", stderr.String())
		}
	}
	// Other errors are not softened.
	_, _, err := configCase{file: "flush_timeout: forever\n"}.resolve(t)
	if err := warnUnknownSettings(err, &bytes.Buffer{}); err == nil {
		t.Error("warnUnknownSettings(bad duration) = nil, want the error")
	}
}

// TestDebugShowsResolvedValues: --debug prints the data dir and the
// deployment the run uses, not "".
func TestDebugShowsResolvedValues(t *testing.T) {
	cfg, sources, err := configCase{environ: []string{"XDG_DATA_HOME=/xdg"}}.resolve(t)
	if err != nil {
		t.Fatal(err)
	}
	tags := runTags(cfg, nil, []string{"/usr/bin/train"}, runIdentity{spanID: telemetry.NewSpanID()})
	var out bytes.Buffer
	printConfig(&out, debugSources(cfg, sources, tags))
	for _, want := range []string{`data_dir         "/xdg/graphsignal" (default`, `deployment       "train" (default`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printConfig output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestCompletionUnsupportedShell: a shell cobra has no script for is a
// usage error, not help with status 0.
func TestCompletionUnsupportedShell(t *testing.T) {
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	streams := &IOStreams{In: devnull, Out: devnull, ErrOut: devnull}
	for _, args := range [][]string{{"completion", "tcsh"}, {"completion"}} {
		root := NewCmdRoot(streams, nil, nil)
		root.SetArgs(args)
		var stderr bytes.Buffer
		code, _ := exitStatus(root.Execute(), &stderr)
		if code != CodeUsage {
			t.Errorf("graphsignal %q: status %d (%q), want %d", args, code, stderr.String(), CodeUsage)
		}
	}
	root := NewCmdRoot(streams, nil, nil)
	root.SetArgs([]string{"completion", "bash"})
	if err := root.Execute(); err != nil {
		t.Errorf("completion bash = %v", err)
	}
}

// TestSecretsIncludeSecretEnvironment: the run's secrets are the API key,
// the local key and the values of secret environment variables.
func TestSecretsIncludeSecretEnvironment(t *testing.T) {
	environ := []string{"HF_TOKEN=hf_0123456789", "STRIPE_KEY=rk_live_42x", "PATH=/usr/bin", "DEBUG_TOKEN=1"}
	got := secrets(&Config{APIKey: "gsk-0001"}, environ, "gs-local-1")
	want := []string{"gsk-0001", "gs-local-1", "hf_0123456789", "rk_live_42x"}
	if !slices.Equal(got, want) {
		t.Errorf("secrets() = %q, want %q", got, want)
	}
}

// TestInheritedAPIKey: the child keeps the key only when it inherits the
// configured one; otherwise it gets a local key.
func TestInheritedAPIKey(t *testing.T) {
	tests := []struct {
		key     string
		environ []string
		want    string
	}{
		{"", nil, ""},
		{"k-flag", nil, ""},
		{"k-env", []string{"GRAPHSIGNAL_API_KEY=k-env"}, "k-env"},
		{"k-flag", []string{"GRAPHSIGNAL_API_KEY=k-env"}, ""},
	}
	for _, tt := range tests {
		if got := inheritedAPIKey(&Config{APIKey: tt.key}, tt.environ); got != tt.want {
			t.Errorf("inheritedAPIKey(%q, %q) = %q, want %q", tt.key, tt.environ, got, tt.want)
		}
	}
}

// TestExitMessageRedacted: graphsignal's own error message never shows a
// secret it quotes.
func TestExitMessageRedacted(t *testing.T) {
	var stderr bytes.Buffer
	exitStatus(usageErrorf("bad value %q", "https://u:hunter2@h/?token=abc api_key=xyz-123"), &stderr)
	for _, secret := range []string{"hunter2", "abc", "xyz-123"} {
		if strings.Contains(stderr.String(), secret) {
			t.Errorf("exit message %q shows %q", stderr.String(), secret)
		}
	}
}

// TestSettingForNamesTheVariables: journals pending for a destination that
// is not configured now are listed with the settings that would send them.
func TestSettingForNamesTheVariables(t *testing.T) {
	for _, tt := range []struct{ dest, want string }{
		{"Graphsignal API https://api.example", "set GRAPHSIGNAL_API_KEY (or --api-key) with api_base https://api.example (--api-base) to send them"},
		{"OTLP https://c:4318", "set OTEL_EXPORTER_OTLP_ENDPOINT (or --otlp-endpoint) to https://c:4318 to send them"},
		{"OTLP http://c:4317 (grpc)", "set OTEL_EXPORTER_OTLP_ENDPOINT (or --otlp-endpoint) to http://c:4317 and OTEL_EXPORTER_OTLP_PROTOCOL to grpc to send them"},
		{"OTLP traces https://a/t/v1/traces, metrics http://b:4317 (grpc)",
			"set OTEL_EXPORTER_OTLP_TRACES_ENDPOINT to https://a/t/v1/traces, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT to http://b:4317, OTEL_EXPORTER_OTLP_METRICS_PROTOCOL to grpc to send them"},
		{"something else", "configure that destination again to send them"},
	} {
		if got := settingFor(tt.dest); got != tt.want {
			t.Errorf("settingFor(%q) = %q, want %q", tt.dest, got, tt.want)
		}
	}
}
