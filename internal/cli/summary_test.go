package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/env"
	"github.com/graphsignal/graphsignal/internal/launcher"
	"github.com/graphsignal/graphsignal/internal/recorder"
	"github.com/graphsignal/graphsignal/internal/rundigest"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestMemorySummary checks the memory part of the summary's second line:
// the figures as recorded, and never "0 B" for a run whose process no
// sample saw alive (true can end before the first sample).
func TestMemorySummary(t *testing.T) {
	tests := []struct {
		name string
		res  recorder.Resources
		want string
	}{
		{"not sampled", recorder.Resources{}, "memory not sampled"},
		{"ended before the first sample", recorder.Resources{Sampled: true, PeakProcesses: 1},
			"memory not seen (the program ended before the first sample)"},
		{"one process", recorder.Resources{Sampled: true, PeakRSS: 900 << 10, LargestRSS: 900 << 10, PeakProcesses: 1},
			"peak memory 900 KiB (largest process 900 KiB) · 1 process"},
		{"a pool", recorder.Resources{Sampled: true, PeakRSS: 129 << 20, LargestRSS: 30 << 20, PeakProcesses: 5},
			"peak memory 129 MiB (largest process 30 MiB) · 5 processes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := memorySummary(tt.res)
			if got != tt.want {
				t.Errorf("memorySummary(%+v) = %q, want %q", tt.res, got, tt.want)
			}
			if strings.Contains(got, " 0 B") {
				t.Errorf("memorySummary(%+v) = %q, says 0 B", tt.res, got)
			}
		})
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{{0, "0 spans"}, {1, "1 span"}, {2, "2 spans"}}
	for _, tt := range tests {
		if got := plural(tt.n, "span", "spans"); got != tt.want {
			t.Errorf("plural(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

// TestSummaryOutputs: where the end-of-run summary goes, by --summary, the
// terminal and the CI provider.
func TestSummaryOutputs(t *testing.T) {
	gh := []string{"GITHUB_ACTIONS=true", "GITHUB_RUN_ID=7", "GITHUB_STEP_SUMMARY=/tmp/step.md"}
	gl := []string{"GITLAB_CI=true", "CI_PIPELINE_ID=9"}
	nested := append([]string{env.VarTraceID + "=5bf92f3577b34da6a3ce929d0e0e4736", env.VarSocket + "=/tmp/s"}, gl...)
	tests := []struct {
		name     string
		summary  string
		environ  []string
		terminal bool
		want     outputs
	}{
		{"terminal", "auto", nil, true, outputs{stderr: true}},
		{"log file outside CI", "auto", nil, false, outputs{}},
		{"GitLab log", "auto", gl, false, outputs{stderr: true}},
		{"GitHub: step summary instead", "auto", gh, false, outputs{stepSummary: "/tmp/step.md"}},
		{"GitHub without the file", "auto", gh[:2], false, outputs{stderr: true}},
		{"always on GitHub: both", "always", gh, false, outputs{stderr: true, stepSummary: "/tmp/step.md"}},
		{"never", "never", gh, true, outputs{}},
		{"nested run in CI", "auto", nested, false, outputs{}},
	}
	for _, tt := range tests {
		cfg := &Config{Summary: tt.summary}
		if got := summaryOutputs(cfg, tt.environ, tt.terminal); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestSummaryMarkdown: the step summary holds the outcome, resources, the
// slowest spans and the errors, with the program's text escaped and the
// run's secrets redacted.
func TestSummaryMarkdown(t *testing.T) {
	start := time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC)
	s := runSummary{
		cfg: &Config{DataDir: "/data"},
		outcome: recorder.Outcome{Kind: telemetry.ErrorKindExitCode, Span: telemetry.Span{Name: "pytest", Start: start, End: start.Add(2 * time.Second),
			StatusMessage: "exited with code 1", Tags: telemetry.Tags{telemetry.TagSessionID: "github-7"}},
			Resources: recorder.Resources{Sampled: true, PeakRSS: 64 << 20, PeakProcesses: 3, CPUUser: time.Second}},
		exit:       &launcher.Exit{Code: 1},
		childSpans: 3,
		digest: rundigest.Summary{Spans: 3, ErrorSpans: 1,
			Slowest: []rundigest.Span{{Name: "llm|call", Duration: 1500 * time.Millisecond, Error: true}},
			Errors:  []rundigest.Error{{Type: "AuthError", Message: "bad key sk-SECRET-123 <b>", Count: 2}},
			Tokens:  map[string]float64{telemetry.TokensInput: 1200}},
		redact: func(s string) string { return strings.ReplaceAll(s, "sk-SECRET-123", "REDACTED") },
	}
	md := s.markdown()
	for _, want := range []string{
		"### ❌ graphsignal: `pytest` exited with code 1 (exit\\_code) in 2s",
		"| Session | github-7 |",
		"| Spans | 3 from the program (1 failed) |",
		"| Tokens | 1200 input |",
		`| llm\|call (failed) | 1.5s |`,
		"| 2 | AuthError: bad key REDACTED &lt;b&gt; |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "sk-SECRET") {
		t.Errorf("secret in the markdown:\n%s", md)
	}
	path := filepath.Join(t.TempDir(), "step.md")
	for range 2 {
		if err := appendStepSummary(path, md); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != md+md {
		t.Errorf("step summary file is not the two appended summaries")
	}
}
