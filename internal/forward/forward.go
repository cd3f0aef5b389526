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
//
// The official SDK's uploads (telemetry.SDKUpload) are forwarded whole, in
// sdk_upload messages, and the records decoded from them (InSDKUpload) are
// not: the enclosing run decodes them again from the upload, so that what
// the local model does not hold still reaches the Graphsignal API.
package forward

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/graphsignal/graphsignal/internal/sockmsg"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Forwarder writes records to an enclosing run's socket. It is safe for
// concurrent use; Close closes the connection.
type Forwarder struct {
	trace   telemetry.TraceID // the forwarding run's, for SDK uploads
	runSpan telemetry.SpanID

	mu      sync.Mutex
	conn    net.Conn
	uploads uint64 // SDK uploads sent: the next one's id
}

// Option configures a Forwarder.
type Option func(*Forwarder)

// WithRun names the forwarding run: its trace and run span, which the
// records the enclosing run decodes from a forwarded SDK upload take as
// defaults, as the forwarding run's own intake gave them. Without it they
// take the enclosing run's.
func WithRun(trace telemetry.TraceID, runSpan telemetry.SpanID) Option {
	return func(f *Forwarder) { f.trace, f.runSpan = trace, runSpan }
}

// Dial connects to the socket at path.
func Dial(ctx context.Context, path string, opts ...Option) (*Forwarder, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("connect to the enclosing run's socket: %w", err)
	}
	f := &Forwarder{conn: conn}
	for _, o := range opts {
		o(f)
	}
	return f, nil
}

// Export sends the batch's ended spans, scores, metrics and logs, one line
// each, and its SDK uploads whole, in pieces, all encoded by sockmsg (the
// protocol's one encoder); records decoded from an SDK upload go inside
// it, not on their own.
func (f *Forwarder) Export(ctx context.Context, b telemetry.Batch) error {
	var buf []byte
	for i := range b.Spans {
		if s := &b.Spans[i]; !s.End.IsZero() && !s.InSDKUpload {
			buf = appendSpan(buf, s)
		}
	}
	for i := range b.Scores {
		buf = sockmsg.AppendScore(buf, &b.Scores[i])
	}
	for i := range b.Metrics {
		if m := &b.Metrics[i]; !sampledByOuter(m.Name) && !m.InSDKUpload {
			buf = sockmsg.AppendMetric(buf, m)
		}
	}
	for i := range b.Logs {
		if l := &b.Logs[i]; !l.InSDKUpload {
			buf = sockmsg.AppendLog(buf, l)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range b.SDKUploads {
		f.uploads++
		buf = sockmsg.AppendSDKUpload(buf, strconv.FormatUint(f.uploads, 10), &b.SDKUploads[i], f.trace, f.runSpan)
	}
	if len(buf) == 0 {
		return nil
	}
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
