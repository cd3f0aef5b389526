package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/anomaly"
	"github.com/graphsignal/graphsignal/internal/launcher"
	"github.com/graphsignal/graphsignal/internal/notify"
	"github.com/graphsignal/graphsignal/internal/pricing"
	"github.com/graphsignal/graphsignal/internal/recorder"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestStartNotify: a real loopback webhook gets a failed run, and a run
// that succeeded with anomalies, each with a text that says them; a run
// that succeeded without any gets nothing.
func TestStartNotify(t *testing.T) {
	var (
		mu  sync.Mutex
		got []notify.Message
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m notify.Message
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook body %q: %v", b, err)
		}
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer srv.Close()

	start := time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC)
	slow := anomaly.Anomaly{Kind: anomaly.SlowSpan, Subject: "llm sk-SECRET-1", Took: 4 * time.Second, Typical: time.Second}
	burst := anomaly.Anomaly{Kind: anomaly.ErrorBurst, Value: ptr(6.0), First: start, Last: start.Add(3 * time.Second)}
	run := func(kind string, as ...anomaly.Anomaly) runSummary {
		span := telemetry.Span{Name: "train.py", Start: start, End: start.Add(90 * time.Second),
			Tags:       telemetry.Tags{telemetry.TagSessionID: "s-1", telemetry.TagRunID: "r-1"},
			Attributes: map[string]any{telemetry.AttrHostName: "gpu-7"}}
		exit := &launcher.Exit{}
		if kind != "" {
			span.StatusMessage, exit.Code = "exited with code 2", 2
		}
		return runSummary{cfg: &Config{Notify: srv.URL + "/hook/SECRET"}, outcome: recorder.Outcome{Kind: kind, Span: span},
			exit: exit, findings: runFindings{anomalies: as, cost: pricing.Row{Tokens: pricing.Tokens{Input: 10}, Cost: 0.25}},
			redact: func(s string) string { return strings.ReplaceAll(s, "sk-SECRET-1", "REDACTED") }}
	}
	tests := []struct {
		name     string
		s        runSummary
		wantText []string // lines; none: nothing posted
		status   string
	}{
		{"failed", run(telemetry.ErrorKindExitCode), []string{
			"❌ `train.py` failed on gpu-7: exited with code 2 after 1m30s · session s-1 · cost $0.25"}, "error"},
		{"failed with an anomaly", run(telemetry.ErrorKindExitCode, slow), []string{
			"❌ `train.py` failed on gpu-7: exited with code 2 after 1m30s · session s-1 · cost $0.25",
			"anomalies: slow span: llm REDACTED 4s (4.0× its median 1s)"}, "error"},
		{"anomalies alone", run("", slow, burst), []string{
			"⚠️ `train.py` finished with 2 anomalies on gpu-7 after 1m30s · session s-1 · cost $0.25",
			"anomalies: slow span: llm REDACTED 4s (4.0× its median 1s) · error burst: 6 errors within 3s, 2026-12-05T13:00:00Z to 2026-12-05T13:00:03Z"}, "ok"},
		{"neither", run(""), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var stderr strings.Builder
			startNotify(ctx, &tt.s, nil, &warnings{w: &stderr})()
			if stderr.Len() > 0 {
				t.Errorf("warnings: %s", stderr.String())
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.wantText == nil {
				if len(got) != 0 {
					t.Errorf("posted %+v, want nothing", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("posted %d messages, want 1", len(got))
			}
			m := got[0]
			if want := strings.Join(tt.wantText, "\n"); m.Text != want {
				t.Errorf("text =\n%s\nwant\n%s", m.Text, want)
			}
			if m.Status != tt.status || m.RunID != "r-1" || m.CostUSD == nil || *m.CostUSD != 0.25 {
				t.Errorf("message %+v: want status %q, run r-1, cost 0.25", m, tt.status)
			}
			if strings.Contains(m.Text+strings.Join(m.Anomalies, ""), "SECRET") {
				t.Errorf("a secret in the message: %+v", m)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
