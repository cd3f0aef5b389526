// Package forward sends a nested run's records to the enclosing run through
// its local socket (GRAPHSIGNAL_SOCKET, docs/protocol.md), so that a
// `graphsignal run` inside another run's child becomes a span of the same
// trace, recorded once, by the outer run.
//
// Ended spans (with payloads and usage), scores, logs and metrics are
// forwarded, except: an unended span, which would be taken as ending when it
// arrives, and the process and host samples, which the outer run already
// takes over a process tree that contains the nested one.
package forward

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Forwarder writes records to an enclosing run's socket. It is safe for
// concurrent use; Close closes the connection.
type Forwarder struct {
	mu   sync.Mutex
	conn net.Conn
}

// Dial connects to the socket at path.
func Dial(ctx context.Context, path string) (*Forwarder, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("connect to the enclosing run's socket: %w", err)
	}
	return &Forwarder{conn: conn}, nil
}

// Export sends the batch's ended spans, scores and logs, one line each.
func (f *Forwarder) Export(ctx context.Context, b telemetry.Batch) error {
	var buf []byte
	for i := range b.Spans {
		if b.Spans[i].End.IsZero() {
			continue
		}
		line, err := json.Marshal(spanMessage(&b.Spans[i]))
		if err != nil {
			return fmt.Errorf("encode span: %w", err)
		}
		buf = append(append(buf, line...), '\n')
	}
	for i := range b.Scores {
		line, err := json.Marshal(scoreMessage(&b.Scores[i]))
		if err != nil {
			return fmt.Errorf("encode score: %w", err)
		}
		buf = append(append(buf, line...), '\n')
	}
	for i := range b.Metrics {
		if sampledByOuter(b.Metrics[i].Name) {
			continue
		}
		line, err := json.Marshal(metricMessage(&b.Metrics[i]))
		if err != nil {
			return fmt.Errorf("encode metric: %w", err)
		}
		buf = append(append(buf, line...), '\n')
	}
	for i := range b.Logs {
		line, err := json.Marshal(logMessage(&b.Logs[i]))
		if err != nil {
			return fmt.Errorf("encode log: %w", err)
		}
		buf = append(append(buf, line...), '\n')
	}
	if len(buf) == 0 {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if deadline, ok := ctx.Deadline(); ok {
		_ = f.conn.SetWriteDeadline(deadline)
	} else {
		_ = f.conn.SetWriteDeadline(time.Time{})
	}
	if _, err := f.conn.Write(buf); err != nil {
		return fmt.Errorf("send to the enclosing run: %w", err)
	}
	return nil
}

// Close closes the connection.
func (f *Forwarder) Close() error { return f.conn.Close() }

// sampledByOuter reports whether the enclosing run samples this series
// itself.
func sampledByOuter(name string) bool {
	return strings.HasPrefix(name, "process.") || strings.HasPrefix(name, "host.")
}

// finite replaces NaN and infinities, which JSON cannot carry, by nil.
func finite(v any) any {
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return nil
	}
	return v
}

func ns(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func spanMessage(s *telemetry.Span) map[string]any {
	m := map[string]any{
		"type": "span", "name": s.Name,
		"trace_id": s.TraceID.String(), "span_id": s.SpanID.String(),
		"start_ns": ns(s.Start), "end_ns": ns(s.End),
		"tags": s.Tags, "attributes": attributes(s.Attributes),
		"status": s.Status.String(), "status_message": s.StatusMessage,
	}
	if !s.ParentSpanID.IsZero() {
		m["parent_span_id"] = s.ParentSpanID.String()
	}
	if len(s.Exceptions) > 0 {
		var exc []map[string]any
		for _, e := range s.Exceptions {
			exc = append(exc, map[string]any{"type": e.Type, "message": e.Message, "stack_trace": e.StackTrace})
		}
		m["exceptions"] = exc
	}
	if len(s.Payloads) > 0 {
		var payloads []map[string]any
		for _, p := range s.Payloads {
			payload := map[string]any{"name": p.Name, "content_type": p.ContentType}
			if json.Valid(p.Data) && p.ContentType == "application/json" {
				payload["data"] = json.RawMessage(p.Data)
			} else {
				payload["data"] = string(p.Data)
			}
			payloads = append(payloads, payload)
		}
		m["payloads"] = payloads
	}
	if len(s.Usage) > 0 {
		var usage []map[string]any
		for _, u := range s.Usage {
			usage = append(usage, map[string]any{"payload_name": u.PayloadName, "name": u.Name, "value": u.Value})
		}
		m["usage"] = usage
	}
	return m
}

func attributes(a map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = finite(v)
	}
	return out
}

func metricMessage(m *telemetry.Metric) map[string]any {
	msg := map[string]any{
		"type": "metric", "name": m.Name, "kind": m.Kind.String(), "value": finite(m.Value),
		"unit": m.Unit, "tags": m.Tags, "ts_ns": ns(m.Time),
	}
	if m.Kind == telemetry.Histogram {
		msg["buckets"], msg["counts"], msg["count"], msg["sum"] = m.Buckets, m.Counts, m.Count, finite(m.Sum)
	}
	return msg
}

func scoreMessage(s *telemetry.Score) map[string]any {
	m := map[string]any{
		"type": "score", "name": s.Name, "score": finite(s.Value), "unit": s.Unit, "comment": s.Comment,
		"severity": s.Severity, "tags": s.Tags, "ts_ns": ns(s.Time),
	}
	if !s.SpanID.IsZero() {
		m["span_id"] = s.SpanID.String()
	}
	if !s.TraceID.IsZero() {
		m["trace_id"] = s.TraceID.String()
	}
	return m
}

func logMessage(l *telemetry.Log) map[string]any {
	return map[string]any{
		"type": "log", "level": l.Level, "message": l.Message, "exception": l.Exception,
		"tags": l.Tags, "ts_ns": ns(l.Time),
	}
}
