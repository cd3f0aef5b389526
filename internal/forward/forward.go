// Package forward sends a nested run's records to the enclosing run through
// its local socket (GRAPHSIGNAL_SOCKET, docs/protocol.md), so that a
// `graphsignal run` inside another run's child becomes a span of the same
// trace, recorded once, by the outer run.
//
// Ended spans (with everything they carry: payloads, usage, events,
// exceptions, scores), scores, logs and metrics are forwarded, except: an
// unended span, which would be taken as ending when it arrives, and the
// process and host samples, which the outer run already takes over a
// process tree that contains the nested one. A span over the protocol's
// line limit is sent without its payloads.
package forward

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/graphsignal/graphsignal/internal/sockmsg"
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

// Export sends the batch's ended spans, scores, metrics and logs, one line
// each, encoded by sockmsg (the protocol's one encoder); SDK uploads are
// not forwarded.
func (f *Forwarder) Export(ctx context.Context, b telemetry.Batch) error {
	var buf []byte
	for i := range b.Spans {
		if !b.Spans[i].End.IsZero() {
			buf = appendSpan(buf, &b.Spans[i])
		}
	}
	for i := range b.Scores {
		buf = sockmsg.AppendScore(buf, &b.Scores[i])
	}
	for i := range b.Metrics {
		if !sampledByOuter(b.Metrics[i].Name) {
			buf = sockmsg.AppendMetric(buf, &b.Metrics[i])
		}
	}
	for i := range b.Logs {
		buf = sockmsg.AppendLog(buf, &b.Logs[i])
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

// appendSpan appends s, without its payloads when the line would be over
// the limit.
func appendSpan(buf []byte, s *telemetry.Span) []byte {
	start := len(buf)
	buf = sockmsg.AppendSpan(buf, s)
	if len(buf)-start-1 <= sockmsg.MaxLineBytes || len(s.Payloads) == 0 {
		return buf
	}
	lean := *s
	lean.Payloads = nil
	return sockmsg.AppendSpan(buf[:start], &lean)
}

// Close closes the connection.
func (f *Forwarder) Close() error { return f.conn.Close() }

// sampledByOuter reports whether the enclosing run samples this series
// itself.
func sampledByOuter(name string) bool {
	return strings.HasPrefix(name, "process.") || strings.HasPrefix(name, "host.")
}
