package cli

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/env"
	"github.com/graphsignal/graphsignal/internal/notify"
	"github.com/graphsignal/graphsignal/internal/report"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// notifyClient posts notifications: its own transport (proxies from the
// environment, TLS verified), bounded by the flush timeout's context.
var notifyClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

// startNotify posts the run's failure or anomalies to the configured
// webhook (docs/ci.md, "Notifications") in the background, within ctx (the
// flush timeout), and returns the wait for it; a run that did not fail and
// has no anomaly, or no webhook, posts nothing. A webhook that fails is one
// warning; the exit status stays the program's.
func startNotify(ctx context.Context, s *runSummary, environ []string, warn *warnings) func() {
	if s.cfg.Notify == "" || (s.outcome.Kind == "" && len(s.findings.anomalies) == 0) {
		return func() {}
	}
	m := notifyMessage(s, environ)
	done := make(chan struct{})
	go func() { // joined by the returned function
		defer close(done)
		if err := notify.Post(ctx, notifyClient, s.cfg.Notify, m); err != nil {
			warn.exporterError("notification", err)
		}
	}()
	return func() { <-done }
}

// notifyMessage is what a failed or anomalous run's notification says,
// with the program's text redacted of the run's secrets.
func notifyMessage(s *runSummary, environ []string) notify.Message {
	span := s.outcome.Span
	program := s.redact(span.Name)
	m := notify.Message{
		SessionID: span.Tags[telemetry.TagSessionID], RunID: span.Tags[telemetry.TagRunID], Program: program,
		Deployment: span.Tags[telemetry.TagDeployment], Status: "ok", DurationSeconds: span.Duration().Seconds(),
	}
	if s.outcome.Kind != "" {
		m.Status, m.ErrorKind, m.Error = "error", s.outcome.Kind, s.redact(span.StatusMessage)
	}
	if h, ok := span.Attributes[telemetry.AttrHostName].(string); ok {
		m.Host = h
	}
	if s.exit != nil {
		code := int64(s.exit.Code)
		m.ExitCode = &code
	}
	for i, e := range s.digest.Errors {
		if i == 5 {
			break
		}
		m.Errors = append(m.Errors, fmt.Sprintf("%d× %s", e.Count, s.redact(oneLine(errorText(e)))))
	}
	m.Anomalies = s.anomalies()
	if c := &s.findings.cost; c.Priced() {
		cost := c.Cost
		m.CostUSD = &cost
	}
	ci := env.DetectCI(environ)
	m.CIRunURL = ci.RunURL
	cost := ""
	if m.CostUSD != nil {
		cost = report.CostText(&s.findings.cost)
	}
	m.Text = notifyText(&m, span.Duration(), cost)
	return m
}

// notifyText is the message's text for people (Slack's mrkdwn): what
// happened, what it cost ("" for nothing priced), then the errors, the
// anomalies and the CI run's link.
func notifyText(m *notify.Message, took time.Duration, cost string) string {
	var b strings.Builder
	if m.Status == "error" {
		fmt.Fprintf(&b, "❌ `%s` failed", mdCode(m.Program))
	} else {
		fmt.Fprintf(&b, "⚠️ `%s` finished with %s", mdCode(m.Program), plural(len(m.Anomalies), "anomaly", "anomalies"))
	}
	if m.Host != "" {
		fmt.Fprintf(&b, " on %s", m.Host)
	}
	if m.Error != "" {
		fmt.Fprintf(&b, ": %s", m.Error)
	}
	fmt.Fprintf(&b, " after %s · session %s", report.Duration(took.Round(time.Millisecond)), m.SessionID)
	if cost != "" {
		fmt.Fprintf(&b, " · cost %s", cost)
	}
	if len(m.Errors) > 0 {
		fmt.Fprintf(&b, "\nerrors: %s", strings.Join(m.Errors, " · "))
	}
	if n := len(m.Anomalies); n > 0 {
		shown := m.Anomalies[:min(n, maxAnomalyLines)]
		fmt.Fprintf(&b, "\nanomalies: %s", strings.Join(shown, " · "))
		if n > len(shown) {
			fmt.Fprintf(&b, " · %d more", n-len(shown))
		}
	}
	if m.CIRunURL != "" {
		fmt.Fprintf(&b, "\n%s", m.CIRunURL)
	}
	return b.String()
}
