// Package notify posts a run's failure or anomalies to a webhook (docs/ci.md,
// "Notifications"): one JSON document whose "text" field a Slack (or
// Mattermost, Rocket.Chat, Teams workflow) incoming webhook shows as it is,
// with the essentials as fields of their own for any other receiver.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/graphsignal/graphsignal/internal/redact"
)

// Message is what is posted. Status is "error" for a failed run, "ok" for
// one posted for its anomalies alone.
type Message struct {
	Text            string   `json:"text"`
	SessionID       string   `json:"session_id"`
	RunID           string   `json:"run_id"`
	Program         string   `json:"program"`
	Deployment      string   `json:"deployment,omitempty"`
	Host            string   `json:"host,omitempty"`
	Status          string   `json:"status"`
	ErrorKind       string   `json:"error_kind,omitempty"`
	Error           string   `json:"error,omitempty"`
	ExitCode        *int64   `json:"exit_code,omitempty"`
	DurationSeconds float64  `json:"duration_seconds"`
	Errors          []string `json:"errors,omitempty"`
	// Anomalies say the run's anomalies, "kind: reason" each.
	Anomalies []string `json:"anomalies,omitempty"`
	// CostUSD is the run's token cost, when some of its tokens have a
	// price.
	CostUSD  *float64 `json:"cost_usd,omitempty"`
	CIRunURL string   `json:"ci_run_url,omitempty"`
}

// maxAnswer bounds what is read of the receiver's answer.
const maxAnswer = 4 << 10

// CheckURL reports whether raw can be posted to: an absolute http(s) URL
// with a host. The error never holds the URL's credentials or query (a
// webhook's secret is usually its path or query: the URL is shown as its
// scheme and host only).
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("notify URL %q: want an http or https URL", redact.Origin(raw))
	}
	return nil
}

// Post sends m to the webhook at rawURL within ctx. It follows no redirect
// (a webhook that moved is an error to fix, and the secret URL must not be
// sent on). Errors name the webhook by scheme and host only.
func Post(ctx context.Context, client *http.Client, rawURL string, m Message) error {
	where := redact.Origin(rawURL)
	if err := CheckURL(rawURL); err != nil {
		return err
	}
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("notify %s: %w", where, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify %s: bad URL", where)
	}
	req.Header.Set("Content-Type", "application/json")
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message holds the whole URL
		}
		return fmt.Errorf("notify %s: %w", where, err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode/100 != 2 {
		a := strings.TrimSpace(string(answer))
		if len(a) > 200 {
			a = a[:200] + "…"
		}
		if a != "" {
			a = ": " + a
		}
		return fmt.Errorf("notify %s: %s%s", where, resp.Status, a)
	}
	return nil
}
