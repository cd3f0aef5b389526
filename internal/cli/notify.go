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

// startNotify posts the run's failure to the configured webhook (docs/ci.md,
// "Notifications") in the background, within ctx (the flush timeout), and
// returns the wait for it; a run that did not fail, or no webhook, posts
// nothing. A webhook that fails is one warning; the exit status stays the
// program's.
func startNotify(ctx context.Context, s *runSummary, environ []string, warn *warnings) func() {
	if s.cfg.Notify == "" || s.outcome.Kind == "" {
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

// notifyMessage is what a failed run's notification says, with the
// program's text redacted of the run's secrets.
func notifyMessage(s *runSummary, environ []string) notify.Message {
	span := s.outcome.Span
	program := s.redact(span.Name)
	m := notify.Message{
		SessionID: span.Tags[telemetry.TagSessionID], RunID: span.Tags[telemetry.TagRunID], Program: program,
		Deployment: span.Tags[telemetry.TagDeployment], Status: "error", ErrorKind: s.outcome.Kind,
		Error: s.redact(span.StatusMessage), DurationSeconds: span.Duration().Seconds(),
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
	ci := env.DetectCI(environ)
	m.CIRunURL = ci.RunURL
	var b strings.Builder
	fmt.Fprintf(&b, "❌ `%s` failed", mdCode(program))
	if m.Host != "" {
		fmt.Fprintf(&b, " on %s", m.Host)
	}
	fmt.Fprintf(&b, ": %s after %s · session %s", m.Error, report.Duration(span.Duration().Round(time.Millisecond)), m.SessionID)
	if len(m.Errors) > 0 {
		fmt.Fprintf(&b, "\nerrors: %s", strings.Join(m.Errors, " · "))
	}
	if m.CIRunURL != "" {
		fmt.Fprintf(&b, "\n%s", m.CIRunURL)
	}
	m.Text = b.String()
	return m
}
