// Package pipeline carries everything a run records to its destinations
// (the embedded store, later the Graphsignal API and OTLP backends).
//
// Producers call Enqueue, which never blocks: records go to one bounded
// intake queue. One dispatcher goroutine owns that queue; every Interval, or
// as soon as MaxBatch records or a run span wait, it coalesces them into
// batches and hands each batch to every exporter. Each exporter has its own
// bounded queue and its own worker goroutine, and every Export call is
// bounded by ExportTimeout.
//
// Backpressure and isolation: the dispatcher moves records only as far as
// the exporter with the most room can take them; the rest wait in the
// intake, so an overloaded pipeline drops at Enqueue, where the producer
// sees it. An exporter slower than the others (failing, slow, hung) does not
// hold them back: it only fills its own queue, and what does not fit there
// is counted as failed for that exporter alone (and reported as
// ErrQueueFull).
//
//	Enqueue ──► intake (bound: QueueSize records) ──► dispatcher goroutine
//	                                                    │ coalesce ≤ MaxBatch
//	                          ┌─────────────────────────┼───────────────┐
//	                          ▼                         ▼               ▼
//	                exporter queue + worker   exporter queue + worker   ...
//
// Order is kept within each record kind: a coalesced batch holds the spans
// of its source batches in enqueue order, then their metrics, and so on;
// the Graphsignal SDK's requests carried whole (telemetry.SDKUpload) are a
// kind of their own, one record each.
//
// Drop policy: when the intake is full the newest records are dropped and
// counted per kind. Spans whose attribute telemetry.AttrSpanKind is
// telemetry.SpanKindRun (run spans: this run's and those that nested runs
// forward) are kept while the pipeline is running: other records stop
// RunSpanReserve short of QueueSize, and run spans are admitted up to
// RunSpanReserve past it. Only a flood of spans marked as runs (a child
// forging them) reaches that cap; they are then dropped and counted too, so
// memory stays bounded. The same rule holds for each exporter's queue.
//
// An exporter error is counted (the batch is "failed" for that exporter),
// reported once per exporter through Config.OnError, and delivery goes on.
// Retries and spooling belong in an Exporter decorator: the pipeline calls
// Export once per batch and lets the decorator spend up to ExportTimeout.
//
// A batch handed to exporters is shared by all of them and must be treated
// as read-only.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Exporter delivers batches to one destination. The pipeline calls Export
// from a single goroutine per exporter, never concurrently, and never after
// Close. Export must honour ctx's cancellation; the batch is read-only.
//
// An exporter may also implement io.Closer (closed by Shutdown, from its
// worker goroutine, after its last Export) and Name() string (the name given
// to Config.OnError and Stats; the Go type name otherwise).
type Exporter interface {
	Export(ctx context.Context, b telemetry.Batch) error
}

// Defaults applied by New to zero Config fields.
const (
	DefaultQueueSize      = 100_000
	DefaultMaxBatch       = 1_000
	DefaultInterval       = time.Second
	DefaultExportTimeout  = 10 * time.Second
	DefaultRunSpanReserve = 64
)

// ErrQueueFull is passed to Config.OnError when an exporter's own queue
// overflows because it cannot keep up.
var ErrQueueFull = errors.New("exporter queue full")

// ErrExporterPanic is passed to Config.OnError, wrapped, when an exporter's
// Export panicked; the batch is counted as failed and delivery goes on.
var ErrExporterPanic = errors.New("exporter panicked")

// Config tunes a Pipeline. Zero fields take the defaults above.
type Config struct {
	// QueueSize bounds the intake queue and each exporter's queue, in
	// records. Memory is thus bounded by about
	// (QueueSize+RunSpanReserve)*(1+exporters) records.
	QueueSize int
	// RunSpanReserve is the part of QueueSize only run spans may use, and
	// how far past QueueSize they may go. It is clamped to QueueSize-1.
	RunSpanReserve int
	// MaxBatch is the coalescing target: an export is started as soon as
	// this many records wait, and coalesced batches hold at most this many
	// (a single enqueued batch larger than this is exported whole).
	MaxBatch int
	// Interval is the longest a record waits in the intake.
	Interval time.Duration
	// ExportTimeout bounds each Export call.
	ExportTimeout time.Duration
	// OnError, when set, is called at most once per exporter, with the
	// exporter's name and its first error. It runs on that exporter's
	// worker goroutine and must not block for long.
	OnError func(exporterName string, err error)
}

func (c *Config) setDefaults() {
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.ExportTimeout <= 0 {
		c.ExportTimeout = DefaultExportTimeout
	}
	if c.RunSpanReserve <= 0 {
		c.RunSpanReserve = DefaultRunSpanReserve
	}
	c.RunSpanReserve = min(c.RunSpanReserve, c.QueueSize-1)
}

// Pipeline fans recorded batches out to exporters. Its methods are safe for
// concurrent use. It owns one dispatcher goroutine plus one goroutine per
// exporter, all started by New and joined by Shutdown.
type Pipeline struct {
	cfg     Config
	workers []*worker

	spare   []telemetry.Batch // batches taken from the intake; owned by dispatch
	pending []*flushState     // flushes waiting for the intake; owned by dispatch

	mu       sync.Mutex
	intake   []telemetry.Batch // intake[head:] wait for the dispatcher
	head     int
	queued   int    // records in intake[head:]
	accepted uint64 // records ever admitted to the intake
	moved    uint64 // records ever taken from it
	closed   bool
	enqueued Counts
	dropped  Counts

	kick       chan struct{} // MaxBatch reached; capacity 1
	room       chan struct{} // a worker drained while backlogged; capacity 1
	backlogged atomic.Bool   // the intake holds records no exporter had room for
	flushc     chan *flushState
	stop       chan struct{} // closed by Shutdown once flushed
	dispEnd    chan struct{} // closed when the dispatcher returns

	abandonCtx context.Context // cancelled when Shutdown gives up
	abandon    context.CancelFunc
	shutOnce   sync.Once
	shutErr    error
}

// New starts a pipeline delivering to exporters. The caller must call
// Shutdown to stop its goroutines.
func New(cfg Config, exporters ...Exporter) *Pipeline {
	cfg.setDefaults()
	p := &Pipeline{
		cfg:     cfg,
		kick:    make(chan struct{}, 1),
		room:    make(chan struct{}, 1),
		flushc:  make(chan *flushState),
		stop:    make(chan struct{}),
		dispEnd: make(chan struct{}),
	}
	p.abandonCtx, p.abandon = context.WithCancel(context.Background())
	for _, e := range exporters {
		w := newWorker(exporterName(e), e, &p.cfg, p.abandonCtx)
		w.room, w.backlogged = p.room, &p.backlogged
		p.workers = append(p.workers, w)
		go w.run(p.stop)
	}
	go p.dispatch()
	return p
}

func exporterName(e Exporter) string {
	if n, ok := e.(interface{ Name() string }); ok {
		return n.Name()
	}
	return fmt.Sprintf("%T", e)
}

// Enqueue hands b to the pipeline, which owns it from then on. It never
// blocks. It returns false when some or all of b was dropped: the intake is
// full (the newest records are dropped, run spans excepted) or the pipeline
// is shut down (everything is dropped). Drops are counted in Stats.
func (p *Pipeline) Enqueue(b telemetry.Batch) bool {
	n := b.Len()
	if n == 0 {
		return true
	}
	p.mu.Lock()
	if p.closed {
		p.dropped.add(countsOf(&b))
		p.mu.Unlock()
		return false
	}
	ok := true
	if p.queued+n > p.cfg.QueueSize-p.cfg.RunSpanReserve {
		var drop Counts
		b, drop = p.cfg.trim(b, p.queued)
		p.dropped.add(drop)
		ok = drop.Total() == 0
		n = b.Len()
	}
	if n > 0 {
		if p.head > 0 && len(p.intake) == cap(p.intake) {
			k := copy(p.intake, p.intake[p.head:])
			clear(p.intake[k:])
			p.intake, p.head = p.intake[:k], 0
		}
		p.intake = append(p.intake, b)
		p.queued += n
		p.accepted += uint64(n)
		p.enqueued.add(countsOf(&b))
	}
	// A run span is handed on at once: it is what a run that is killed
	// leaves behind. While backlogged the dispatcher waits for a worker's
	// room signal.
	kickNow := (p.queued >= p.cfg.MaxBatch || hasRunSpan(b.Spans)) && !p.backlogged.Load()
	p.mu.Unlock()
	if kickNow {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
	return ok
}

func hasRunSpan(spans []telemetry.Span) bool {
	for i := range spans {
		if spans[i].IsRun() {
			return true
		}
	}
	return false
}

// Flush waits until every record enqueued before the call has been handed
// to every exporter and its Export has returned (delivered or failed). It
// returns nil then, or ctx's error, wrapped, when ctx ends first (the
// records stay queued), or ErrAbandoned when a Shutdown gives up on them
// meanwhile. After Shutdown has returned it returns nil at once.
func (p *Pipeline) Flush(ctx context.Context) error {
	fs := &flushState{done: make(chan struct{})}
	p.mu.Lock()
	fs.target = p.accepted
	p.mu.Unlock()
	select {
	case p.flushc <- fs:
	case <-p.dispEnd:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("pipeline flush: %w", ctx.Err())
	}
	select {
	case <-fs.done:
		if fs.abandoned.Load() {
			return ErrAbandoned
		}
		return nil
	case <-p.dispEnd:
		select {
		case <-fs.done:
			if fs.abandoned.Load() {
				return ErrAbandoned
			}
			return nil
		default:
			return ErrAbandoned
		}
	case <-ctx.Done():
		return fmt.Errorf("pipeline flush: %w", ctx.Err())
	}
}

// ErrAbandoned is returned by a Flush cut short by a Shutdown that ran out
// of time and abandoned the records it was waiting for.
var ErrAbandoned = errors.New("pipeline shut down before delivery")

// Shutdown stops accepting records, flushes what is queued, closes the
// exporters that implement io.Closer and joins every goroutine, all within
// ctx. When ctx ends first it cancels in-flight exports, counts what is left
// as dropped (intake) or failed (exporter queues, in-flight batches) and
// returns ctx's error wrapped: a goroutine stuck in an Export that ignores
// cancellation then exits, and closes its exporter, when that call returns.
// Otherwise it returns the exporters' Close errors joined, or nil. Later
// calls return the first call's result without waiting.
func (p *Pipeline) Shutdown(ctx context.Context) error {
	p.shutOnce.Do(func() { p.shutErr = p.shutdown(ctx) })
	return p.shutErr
}

func (p *Pipeline) shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()

	if err := p.Flush(ctx); err != nil {
		p.giveUp()
		return fmt.Errorf("pipeline shutdown: %w", ctx.Err())
	}
	close(p.stop)
	<-p.dispEnd // the dispatcher never blocks on exporters
	var errs []error
	for _, w := range p.workers {
		select {
		case <-w.end:
			errs = append(errs, w.closeErr)
		case <-ctx.Done():
			p.giveUp()
			return fmt.Errorf("pipeline shutdown: %w", ctx.Err())
		}
	}
	p.abandon() // release the context; nothing is in flight
	return errors.Join(errs...)
}

// giveUp abandons everything still queued or in flight, counting it.
func (p *Pipeline) giveUp() {
	p.abandon()
	p.mu.Lock()
	for i := range p.intake[p.head:] {
		p.dropped.add(countsOf(&p.intake[p.head+i]))
	}
	p.intake, p.head, p.queued = nil, 0, 0
	p.mu.Unlock()
	for _, w := range p.workers {
		w.giveUp()
	}
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
}

// dispatch is the dispatcher goroutine: it owns moving records from the
// intake to the exporters' queues. It never blocks on an exporter: when no
// exporter has room, records stay in the intake (so that overload shows as
// drops at Enqueue) until a worker drains and signals room.
func (p *Pipeline) dispatch() {
	defer close(p.dispEnd)
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-p.kick:
		case <-p.room:
		case fs := <-p.flushc:
			p.pending = append(p.pending, fs)
		case <-p.stop:
			return
		}
		moved := p.move()
		for len(p.pending) > 0 && p.pending[0].target <= moved {
			fs := p.pending[0]
			p.pending[0] = nil
			p.pending = p.pending[1:]
			fs.pending.Store(int32(len(p.workers)) + 1)
			for _, w := range p.workers {
				w.push(item{flush: fs})
			}
			fs.arrive(false)
		}
	}
}

// move hands the intake, coalesced, to every exporter, as far as the
// exporter with the most room can take it. It returns p.moved.
func (p *Pipeline) move() uint64 {
	// An idle exporter takes at least one batch, even an oversized one.
	room, empty := 0, false
	for _, w := range p.workers {
		r, e := w.roomFor()
		room, empty = max(room, r), empty || e
	}
	if len(p.workers) == 0 {
		room = math.MaxInt
	}
	p.mu.Lock()
	in := p.spare[:0]
	taken := 0
	for p.head < len(p.intake) {
		n := p.intake[p.head].Len()
		if taken+n > room && (taken > 0 || !empty) {
			break
		}
		in = append(in, p.intake[p.head])
		p.intake[p.head] = telemetry.Batch{}
		p.head++
		taken += n
	}
	if p.head == len(p.intake) {
		p.intake, p.head = p.intake[:0], 0
	}
	p.queued -= taken
	p.moved += uint64(taken)
	moved := p.moved
	p.backlogged.Store(p.queued > 0)
	p.mu.Unlock()

	for rest := in; len(rest) > 0; {
		var b telemetry.Batch
		b, rest = coalesce(rest, p.cfg.MaxBatch)
		c := countsOf(&b)
		for _, w := range p.workers {
			w.push(item{batch: b, counts: c})
		}
	}
	clear(in) // the exporters own the records now
	p.spare = in
	return moved
}

// coalesce merges leading batches of in into one of at most max records
// (or exactly the first one when it alone exceeds max) and returns the rest.
func coalesce(in []telemetry.Batch, max int) (telemetry.Batch, []telemetry.Batch) {
	n, total := 1, in[0].Len()
	for n < len(in) && total+in[n].Len() <= max {
		total += in[n].Len()
		n++
	}
	if n == 1 {
		return in[0], in[1:]
	}
	var out telemetry.Batch
	var c Counts
	for i := range in[:n] {
		c.add(countsOf(&in[i]))
	}
	out.Spans = make([]telemetry.Span, 0, c.Spans)
	out.Metrics = make([]telemetry.Metric, 0, c.Metrics)
	out.Scores = make([]telemetry.Score, 0, c.Scores)
	out.Logs = make([]telemetry.Log, 0, c.Logs)
	if c.SDKUploads > 0 {
		out.SDKUploads = make([]telemetry.SDKUpload, 0, c.SDKUploads)
	}
	for _, b := range in[:n] {
		out.Spans = append(out.Spans, b.Spans...)
		out.Metrics = append(out.Metrics, b.Metrics...)
		out.Scores = append(out.Scores, b.Scores...)
		out.Logs = append(out.Logs, b.Logs...)
		out.SDKUploads = append(out.SDKUploads, b.SDKUploads...)
	}
	return out, in[n:]
}

// trim fits b into a queue that holds queued records, by the drop policy
// (see the package doc); it returns the kept batch and the dropped counts.
func (c *Config) trim(b telemetry.Batch, queued int) (telemetry.Batch, Counts) {
	return trim(b, c.QueueSize-c.RunSpanReserve-queued, c.QueueSize+c.RunSpanReserve-queued)
}

// trim keeps, in order (spans, metrics, scores, logs, SDK uploads), as many
// records as room allows, and run spans as long as runRoom allows (every
// kept record takes from runRoom); it returns the kept batch and the
// dropped counts.
func trim(b telemetry.Batch, room, runRoom int) (telemetry.Batch, Counts) {
	room = max(min(room, runRoom), 0)
	var out telemetry.Batch
	var drop Counts
	for i := range b.Spans {
		run := b.Spans[i].IsRun()
		if !(run && runRoom > 0 || !run && room > 0) {
			drop.Spans++
			continue
		}
		out.Spans = append(out.Spans, b.Spans[i])
		runRoom--
		if !run {
			room--
		}
		room = min(room, runRoom)
	}
	k := min(room, len(b.Metrics))
	out.Metrics, drop.Metrics, room = b.Metrics[:k:k], uint64(len(b.Metrics)-k), room-k
	k = min(room, len(b.Scores))
	out.Scores, drop.Scores, room = b.Scores[:k:k], uint64(len(b.Scores)-k), room-k
	k = min(room, len(b.Logs))
	out.Logs, drop.Logs, room = b.Logs[:k:k], uint64(len(b.Logs)-k), room-k
	k = min(room, len(b.SDKUploads))
	out.SDKUploads, drop.SDKUploads = b.SDKUploads[:k:k], uint64(len(b.SDKUploads)-k)
	return out, drop
}

var _ io.Closer = (*asyncOpen)(nil)

// errClosed is returned by an OpenAsync exporter used after Close.
var errClosed = errors.New("exporter closed")
