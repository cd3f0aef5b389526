package graphsignal

import (
	"context"
	"os"
	"sync"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Score sends a score not carried by a span: user feedback, an eval, a
// verdict. It may come long after what it scores; say what with
// WithSpanID or WithScoreTags (run_id, session_id, user_id).
func (c *Client) Score(name string, value float64, opts ...ScoreOption) {
	if !c.Enabled() {
		return
	}
	m := &scoreMsg{sc: telemetry.Score{Name: name, Value: value, TraceID: c.traceID}}
	for _, o := range opts {
		o(m)
	}
	if m.sc.Time.IsZero() {
		m.sc.Time = c.now()
	}
	c.send(m)
}

// SetContextTag sets a tag on everything reported after it in the run, by
// this process or any other (the intake applies it run-wide, as the
// Graphsignal SDK's set_context_tag).
func (c *Client) SetContextTag(key, value string) {
	if c.Enabled() {
		c.send(&tagMsg{key: key, value: value})
	}
}

// RemoveContextTag removes a tag set by SetContextTag.
func (c *Client) RemoveContextTag(key string) {
	if c.Enabled() {
		c.send(&tagMsg{key: key, remove: true})
	}
}

// std is the lazily created default client of the package-level functions.
var std struct {
	once sync.Once
	c    *Client
}

// Default returns the client the package-level functions use, created on
// first use from GRAPHSIGNAL_SOCKET, GRAPHSIGNAL_TRACE_ID and
// GRAPHSIGNAL_PARENT_SPAN_ID; a no-op client when GRAPHSIGNAL_SOCKET is
// absent. It lives until Close.
func Default() *Client {
	std.once.Do(func() { std.c = clientFromEnv(os.Getenv) })
	return std.c
}

func clientFromEnv(getenv func(string) string) *Client {
	return NewClient(getenv(EnvSocket),
		WithTraceID(getenv(EnvTraceID)), WithParentSpanID(getenv(EnvParentSpanID)))
}

// Trace starts a span with the default client; see Client.Trace.
func Trace(ctx context.Context, name string, tags map[string]string) *Span {
	return Default().Trace(ctx, name, tags)
}

// Func traces fn with the default client; see Client.Func.
func Func(ctx context.Context, name string, fn func(ctx context.Context) error) error {
	return Default().Func(ctx, name, fn)
}

// Score sends a score with the default client; see Client.Score.
func Score(name string, value float64, opts ...ScoreOption) {
	Default().Score(name, value, opts...)
}

// SetContextTag sets a run-wide context tag with the default client.
func SetContextTag(key, value string) { Default().SetContextTag(key, value) }

// RemoveContextTag removes a run-wide context tag with the default client.
func RemoveContextTag(key string) { Default().RemoveContextTag(key) }

// Dropped returns the default client's drop count.
func Dropped() uint64 { return Default().Dropped() }

// Flush flushes the default client; see Client.Flush.
func Flush(ctx context.Context) error { return Default().Flush(ctx) }

// Close closes the default client; see Client.Close. Call it before the
// program exits.
func Close(ctx context.Context) error { return Default().Close(ctx) }
