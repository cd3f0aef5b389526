// Package graphsignal is the Go client of graphsignal's local socket
// (docs/protocol.md). A program started by `graphsignal run` finds the
// socket in GRAPHSIGNAL_SOCKET and reports spans, scores and context tags
// through it; they land in the run's trace and session. Outside a run the
// variable is absent and every call is a cheap no-op, so instrumented code
// needs no configuration.
//
// Sends never block: messages go to a bounded buffer drained by one
// background goroutine per Client, which owns the connection, writes
// newline-delimited JSON and reconnects after an error. When the buffer is
// full a message is dropped and counted (Dropped). Flush and Close wait for
// the buffer to be written, bounded by their context.
//
// The package-level functions use a default Client created on first use
// from the environment; call Close (or Flush) before the program exits so
// that buffered messages are written. Everything is safe for concurrent use.
//
// Messages are written by internal/sockmsg, the protocol's one encoder,
// shared with nested runs' forwarding and tested field by field against
// the intake's decoder.
package graphsignal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graphsignal/graphsignal/internal/sockmsg"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Environment variables read by the default client.
const (
	EnvSocket       = "GRAPHSIGNAL_SOCKET"
	EnvTraceID      = "GRAPHSIGNAL_TRACE_ID"
	EnvParentSpanID = "GRAPHSIGNAL_PARENT_SPAN_ID"
)

// DefaultBufferSize is the number of messages a Client buffers before it
// drops. With a span line of a few hundred bytes it is a few MiB at most
// (payloads add their own size).
const DefaultBufferSize = 8192

// MaxLineBytes is the intake's limit on one message. A span over it is
// sent without its payloads; any other message over it is dropped.
const MaxLineBytes = sockmsg.MaxLineBytes

// ErrClosed is returned by Flush and Close on a closed Client.
var ErrClosed = errors.New("graphsignal: client closed")

const (
	writeBatchBytes = 64 << 10
	minBackoff      = 50 * time.Millisecond
	maxBackoff      = 2 * time.Second
)

// Client sends to one socket. The zero value is not usable; a nil *Client
// and a Client made with an empty path are no-ops.
type Client struct {
	path         string
	traceID      telemetry.TraceID // zero: the run's
	parentSpanID telemetry.SpanID  // zero: the run span
	writeTimeout time.Duration
	now          func() time.Time

	queue   chan item
	dropped atomic.Uint64
	closed  atomic.Bool
	stop    chan struct{} // closed by Close: the writer exits
	exited  chan struct{} // closed by the writer on exit
	once    sync.Once
	err     error
}

// encoder is a message that can write itself as one JSON line.
type encoder interface {
	appendJSON(buf []byte, withPayloads bool) []byte
}

// item is a message or, when flush is set, a request to write everything
// before it and then close flush.
type item struct {
	msg   encoder
	flush chan struct{}
}

// Option configures a Client.
type Option func(*Client)

// WithBufferSize sets the number of buffered messages (DefaultBufferSize).
func WithBufferSize(n int) Option {
	return func(c *Client) {
		if n > 0 {
			c.queue = make(chan item, n)
		}
	}
}

// WithTraceID sets the trace of spans without a parent in their context
// (32 hex digits; anything else is ignored and the intake uses the run's).
func WithTraceID(id string) Option {
	return func(c *Client) {
		if t, err := telemetry.ParseTraceID(id); err == nil {
			c.traceID = t
		}
	}
}

// WithParentSpanID sets the parent of spans without a parent in their
// context (16 hex digits; anything else is ignored and the intake parents
// them to the run span).
func WithParentSpanID(id string) Option {
	return func(c *Client) {
		c.parentSpanID, _ = telemetry.ParseSpanID(id)
	}
}

// WithWriteTimeout bounds one write to the socket (default 5 s); a write
// that times out counts as an error: the connection is dropped and redialled.
func WithWriteTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.writeTimeout = d
		}
	}
}

// WithClock sets the clock used for span and score times (time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// NewClient returns a Client for the socket at socketPath and starts its
// writer goroutine, which connects on the first message. An empty path
// gives a no-op Client with no goroutine. Connection errors are not
// returned: messages that cannot be written are counted in Dropped.
func NewClient(socketPath string, opts ...Option) *Client {
	c := &Client{path: socketPath, writeTimeout: 5 * time.Second, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	if socketPath == "" {
		c.queue = nil
		return c
	}
	if c.queue == nil {
		c.queue = make(chan item, DefaultBufferSize)
	}
	c.stop = make(chan struct{})
	c.exited = make(chan struct{})
	go c.run()
	return c
}

// Enabled reports whether the client sends anywhere.
func (c *Client) Enabled() bool { return c != nil && c.queue != nil }

// Dropped returns the number of messages dropped so far: buffer full,
// socket unreachable, write error, or over MaxLineBytes. A message in a
// failed write is counted even if part of it arrived.
func (c *Client) Dropped() uint64 {
	if c == nil {
		return 0
	}
	return c.dropped.Load()
}

// send enqueues without blocking; after Close it does nothing.
func (c *Client) send(m encoder) {
	if !c.Enabled() || c.closed.Load() {
		return
	}
	select {
	case c.queue <- item{msg: m}:
	default:
		c.dropped.Add(1)
	}
}

// Flush waits until every message sent before it has been written to the
// socket or dropped, or until ctx is done (returning its error). It returns
// ErrClosed after Close and nil on a no-op Client.
func (c *Client) Flush(ctx context.Context) error {
	if !c.Enabled() {
		return nil
	}
	if c.closed.Load() {
		return ErrClosed
	}
	return c.flush(ctx)
}

func (c *Client) flush(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case c.queue <- item{flush: done}:
	case <-ctx.Done():
		return fmt.Errorf("graphsignal flush: %w", ctx.Err())
	case <-c.exited:
		return ErrClosed
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("graphsignal flush: %w", ctx.Err())
	case <-c.exited:
		return ErrClosed
	}
}

// Close flushes, then stops the writer goroutine and closes the
// connection. Later sends are ignored. It waits for the goroutine until
// ctx is done; a goroutine still writing then exits within the write
// timeout. Calling Close again returns the first result.
func (c *Client) Close(ctx context.Context) error {
	if !c.Enabled() {
		return nil
	}
	c.once.Do(func() {
		c.closed.Store(true)
		err := c.flush(ctx)
		close(c.stop)
		select {
		case <-c.exited:
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("graphsignal close: %w", ctx.Err())
			}
		}
		c.err = err
	})
	return c.err
}

// writer is the state of the goroutine that owns the connection.
type writer struct {
	c        *Client
	conn     net.Conn
	buf      []byte
	pending  uint64 // messages in buf
	retryAt  time.Time
	backoff  time.Duration
	flushers []chan struct{}
}

func (c *Client) run() {
	w := &writer{c: c, buf: make([]byte, 0, writeBatchBytes)}
	defer close(c.exited)
	defer func() {
		if w.conn != nil {
			_ = w.conn.Close()
		}
	}()
	for {
		select {
		case it := <-c.queue:
			w.add(it)
		case <-c.stop:
			return
		}
	drain:
		for len(w.buf) < writeBatchBytes {
			select {
			case it := <-c.queue:
				w.add(it)
			default:
				break drain
			}
		}
		w.write()
	}
}

func (w *writer) add(it item) {
	if it.flush != nil {
		w.flushers = append(w.flushers, it.flush)
		return
	}
	start := len(w.buf)
	w.buf = it.msg.appendJSON(w.buf, true)
	if len(w.buf)-start > MaxLineBytes {
		w.buf = it.msg.appendJSON(w.buf[:start], false)
		if len(w.buf)-start > MaxLineBytes {
			w.buf = w.buf[:start]
			w.c.dropped.Add(1)
			return
		}
	}
	w.pending++
}

// write sends the buffer, dialling if needed, and releases flushers. On an
// error the buffer's messages are dropped and the next dial waits a backoff.
func (w *writer) write() {
	defer func() {
		for _, f := range w.flushers {
			close(f)
		}
		w.flushers = w.flushers[:0]
		if cap(w.buf) > 4*writeBatchBytes {
			w.buf = make([]byte, 0, writeBatchBytes)
		}
		w.buf, w.pending = w.buf[:0], 0
	}()
	if len(w.buf) == 0 {
		return
	}
	if w.conn == nil {
		if time.Now().Before(w.retryAt) {
			w.c.dropped.Add(w.pending)
			return
		}
		conn, err := net.DialTimeout("unix", w.c.path, w.c.writeTimeout)
		if err != nil {
			w.fail()
			return
		}
		w.conn = conn
	}
	_ = w.conn.SetWriteDeadline(time.Now().Add(w.c.writeTimeout))
	if _, err := w.conn.Write(w.buf); err != nil {
		_ = w.conn.Close()
		w.conn = nil
		w.fail()
		return
	}
	w.backoff = 0
}

func (w *writer) fail() {
	w.c.dropped.Add(w.pending)
	w.backoff = min(max(2*w.backoff, minBackoff), maxBackoff)
	w.retryAt = time.Now().Add(w.backoff)
}
