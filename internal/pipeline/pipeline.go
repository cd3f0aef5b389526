// Package pipeline carries everything a run records to its destinations
// (the embedded store, later the Graphsignal API and OTLP backends).
//
// Producers call Enqueue, which never blocks: records go to one bounded
// intake queue. One dispatcher goroutine owns that queue; every Interval, or
// as soon as MaxBatch records, MaxBatchBytes or a run span wait, it
// coalesces them into batches (of at most MaxBatch records and
// MaxBatchBytes) and hands each batch to every exporter. Each exporter has
// its own bounded queue and its own worker goroutine, and every Export call
// is bounded by ExportTimeout.
//
// Backpressure and isolation: the dispatcher moves records only as far as
// the exporter with the most room can take them; the rest wait in the
// intake, so an overloaded pipeline drops at Enqueue, where the producer
// sees it. An exporter slower than the others (failing, slow, hung) does not
// hold them back: it only fills its own queue, and what does not fit there
// is counted as failed for that exporter alone (and reported as
// ErrQueueFull).
//
//	Enqueue ──► intake (bound: QueueSize records, QueueBytes) ──► dispatcher goroutine
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
// Memory bound: every queue is bounded both in records and in the memory its
// records hold (QueueBytes, estimated per record from its strings, maps and
// payloads; an SDK upload counts by its body). An empty queue takes one
// record of any size, so that a record larger than the bound is not always
// dropped. A batch handed to exporters is shared by all of them, so the
// records the pipeline holds take at most 2×(QueueBytes + the run span
// reserve) plus one batch in flight per exporter (docs/architecture.md,
// "Memory bound").
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
// Drops reach the store: every SelfMetricsInterval while the counters
// moved, and once more when Shutdown has delivered everything, the
// dispatcher hands every exporter the metrics Config.SelfMetrics makes of
// Stats (the drop counters, and whatever counters the caller adds). They
// bypass the queue bounds (an overloaded pipeline still records that it
// dropped), a newer set replaces one an exporter has not taken yet, so they
// hold a bounded amount of memory, and a CountersExporter takes them apart.
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
// worker goroutine, after its last Export), Name() string (the name given
// to Config.OnError and Stats; the Go type name otherwise) and
// CountersExporter (to take the pipeline's own counters apart).
type Exporter interface {
	Export(ctx context.Context, b telemetry.Batch) error
}

// CountersExporter is an Exporter that takes the pipeline's own counters
// (Config.SelfMetrics) through ExportCounters instead of Export, so that it
// can keep room for them: the journal writes them even once it is full of
// records. ExportCounters is called like Export.
type CountersExporter interface {
	Exporter
	ExportCounters(ctx context.Context, b telemetry.Batch) error
}

// Defaults applied by New to zero Config fields.
const (
	DefaultQueueSize      = 100_000
	DefaultMaxBatch       = 1_000
	DefaultInterval       = time.Second
	DefaultExportTimeout  = 10 * time.Second
	DefaultRunSpanReserve = 64
	// DefaultQueueBytes bounds the intake, and each exporter's queue, in
	// estimated bytes.
	DefaultQueueBytes = 16 << 20
	// DefaultMaxBatchBytes bounds a coalesced batch in estimated bytes, so
	// that an exporter's encoding of one batch stays small.
	DefaultMaxBatchBytes       = 1 << 20
	DefaultSelfMetricsInterval = 10 * time.Second
)

// runSpanReserveBytes is the part of QueueBytes only run spans may use, and
// how far past QueueBytes they may go (at most a quarter of QueueBytes).
const runSpanReserveBytes = 1 << 20

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
	// QueueBytes bounds the intake queue and each exporter's queue in the
	// estimated memory of their records (see the package doc).
	QueueBytes int64
	// RunSpanReserve is the part of QueueSize only run spans may use, and
	// how far past QueueSize they may go. It is clamped to QueueSize-1.
	RunSpanReserve int
	// MaxBatch is the coalescing target: an export is started as soon as
	// this many records wait, and coalesced batches hold at most this many
	// (a single enqueued batch larger than this is exported whole).
	MaxBatch int
	// MaxBatchBytes bounds a coalesced batch's estimated bytes the same way.
	MaxBatchBytes int64
	// Interval is the longest a record waits in the intake.
	Interval time.Duration
	// ExportTimeout bounds each Export call.
	ExportTimeout time.Duration
	// OnError, when set, is called at most once per exporter, with the
	// exporter's name and its first error. It runs on that exporter's
	// worker goroutine and must not block for long.
	OnError func(exporterName string, err error)
	// SelfMetrics, when set, turns a Stats snapshot taken at now into the
	// metrics that record it (Stats.Metrics, with the run's trace and
	// tags, plus any other counters the caller keeps, such as the
	// intakes'). It is called on the dispatcher goroutine every
	// SelfMetricsInterval, its result handed to every exporter when it
	// differs from the last one, and once more by Shutdown after the last
	// records were delivered. It must not block or call the Pipeline.
	SelfMetrics func(s Stats, now time.Time) []telemetry.Metric
	// SelfMetricsInterval is how often SelfMetrics is called.
	SelfMetricsInterval time.Duration
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
	if c.QueueBytes <= 0 {
		c.QueueBytes = DefaultQueueBytes
	}
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if c.SelfMetricsInterval <= 0 {
		c.SelfMetricsInterval = DefaultSelfMetricsInterval
	}
}

// reserveBytes is the run span reserve in bytes.
func (c *Config) reserveBytes() int64 { return min(runSpanReserveBytes, c.QueueBytes/4) }

// full reports whether n more records of size bytes would pass a queue's
// bound for ordinary records, given what it holds.
func (c *Config) full(queued, n int, queuedBytes, bytes int64) bool {
	return queued+n > c.QueueSize-c.RunSpanReserve || queuedBytes+bytes > c.QueueBytes-c.reserveBytes()
}

// entry is a batch waiting in the intake, with its estimated size.
type entry struct {
	batch telemetry.Batch
	bytes int64
}

// Pipeline fans recorded batches out to exporters. Its methods are safe for
// concurrent use. It owns one dispatcher goroutine plus one goroutine per
// exporter, all started by New and joined by Shutdown.
type Pipeline struct {
	cfg     Config
	workers []*worker

	spare    []entry         // batches taken from the intake; owned by dispatch
	pending  []*flushState   // flushes waiting for the intake; owned by dispatch
	selfLast float64         // sum of the last self metrics sent; owned by dispatch
	selfc    chan chan error // Shutdown's request for the final self metrics

	mu          sync.Mutex
	intake      []entry // intake[head:] wait for the dispatcher
	head        int
	queued      int    // records in intake[head:]
	queuedBytes int64  // their estimated bytes
	accepted    uint64 // records ever admitted to the intake
	moved       uint64 // records ever taken from it
	closed      bool
	enqueued    Counts
	dropped     Counts

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
		selfc:   make(chan chan error),
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
	size := sizeOf(&b)
	p.mu.Lock()
	if p.closed {
		p.dropped.add(countsOf(&b))
		p.mu.Unlock()
		return false
	}
	ok := true
	if p.cfg.full(p.queued, n, p.queuedBytes, size) {
		var drop Counts
		b, drop, size = p.cfg.trim(b, p.queued, p.queuedBytes)
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
		p.intake = append(p.intake, entry{b, size})
		p.queued += n
		p.queuedBytes += size
		p.accepted += uint64(n)
		p.enqueued.add(countsOf(&b))
	}
	// A run span is handed on at once: it is what a run that is killed
	// leaves behind. While backlogged the dispatcher waits for a worker's
	// room signal.
	kickNow := (p.queued >= p.cfg.MaxBatch || p.queuedBytes >= p.cfg.MaxBatchBytes || hasRunSpan(b.Spans)) && !p.backlogged.Load()
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
	if p.cfg.SelfMetrics != nil {
		// The final counters, after everything else was delivered.
		done := make(chan error, 1)
		select {
		case p.selfc <- done:
			<-done
		case <-ctx.Done():
		}
		if err := p.Flush(ctx); err != nil {
			p.giveUp()
			return fmt.Errorf("pipeline shutdown: %w", ctx.Err())
		}
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
		p.dropped.add(countsOf(&p.intake[p.head+i].batch))
	}
	p.intake, p.head, p.queued, p.queuedBytes = nil, 0, 0, 0
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
	var self <-chan time.Time
	if p.cfg.SelfMetrics != nil {
		st := time.NewTicker(p.cfg.SelfMetricsInterval)
		defer st.Stop()
		self = st.C
	}
	for {
		select {
		case <-t.C:
		case <-p.kick:
		case <-p.room:
		case fs := <-p.flushc:
			p.pending = append(p.pending, fs)
		case now := <-self:
			p.sendSelf(now, false)
		case done := <-p.selfc:
			p.sendSelf(time.Now(), true)
			done <- nil
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

// sendSelf hands every exporter the self metrics of a Stats snapshot taken
// at now, unless nothing changed since the last ones (force: the final set).
func (p *Pipeline) sendSelf(now time.Time, force bool) {
	ms := p.cfg.SelfMetrics(p.Stats(), now)
	var sum float64
	for i := range ms {
		sum += ms[i].Value
	}
	if len(ms) == 0 || (!force && sum == p.selfLast) {
		return
	}
	p.selfLast = sum
	b := telemetry.Batch{Metrics: ms}
	it := item{batch: b, counts: countsOf(&b), bytes: sizeOf(&b), self: true}
	for _, w := range p.workers {
		w.push(it)
	}
}

// move hands the intake, coalesced, to every exporter, as far as the
// exporter with the most room can take it. It returns p.moved.
func (p *Pipeline) move() uint64 {
	// An idle exporter takes at least one batch, even an oversized one.
	room, roomBytes, empty := 0, int64(0), false
	for _, w := range p.workers {
		r, rb, e := w.roomFor()
		room, roomBytes, empty = max(room, r), max(roomBytes, rb), empty || e
	}
	if len(p.workers) == 0 {
		room, roomBytes = math.MaxInt, math.MaxInt64
	}
	p.mu.Lock()
	in := p.spare[:0]
	taken, takenBytes := 0, int64(0)
	for p.head < len(p.intake) {
		e := p.intake[p.head]
		n := e.batch.Len()
		if (taken+n > room || takenBytes+e.bytes > roomBytes) && (taken > 0 || !empty) {
			break
		}
		in = append(in, e)
		p.intake[p.head] = entry{}
		p.head++
		taken += n
		takenBytes += e.bytes
	}
	if p.head == len(p.intake) {
		p.intake, p.head = p.intake[:0], 0
	}
	p.queued -= taken
	p.queuedBytes -= takenBytes
	p.moved += uint64(taken)
	moved := p.moved
	p.backlogged.Store(p.queued > 0)
	p.mu.Unlock()

	for rest := in; len(rest) > 0; {
		var b entry
		b, rest = coalesce(rest, p.cfg.MaxBatch, p.cfg.MaxBatchBytes)
		c := countsOf(&b.batch)
		for _, w := range p.workers {
			w.push(item{batch: b.batch, counts: c, bytes: b.bytes})
		}
	}
	clear(in) // the exporters own the records now
	p.spare = in
	return moved
}

// coalesce merges leading batches of in into one of at most max records and
// maxBytes (or exactly the first one when it alone exceeds either) and
// returns the rest.
func coalesce(in []entry, max int, maxBytes int64) (entry, []entry) {
	n, total, bytes := 1, in[0].batch.Len(), in[0].bytes
	for n < len(in) && total+in[n].batch.Len() <= max && bytes+in[n].bytes <= maxBytes {
		total += in[n].batch.Len()
		bytes += in[n].bytes
		n++
	}
	if n == 1 {
		return in[0], in[1:]
	}
	var out telemetry.Batch
	var c Counts
	for i := range in[:n] {
		c.add(countsOf(&in[i].batch))
	}
	out.Spans = make([]telemetry.Span, 0, c.Spans)
	out.Metrics = make([]telemetry.Metric, 0, c.Metrics)
	out.Scores = make([]telemetry.Score, 0, c.Scores)
	out.Logs = make([]telemetry.Log, 0, c.Logs)
	if c.SDKUploads > 0 {
		out.SDKUploads = make([]telemetry.SDKUpload, 0, c.SDKUploads)
	}
	for _, e := range in[:n] {
		b := &e.batch
		out.Spans = append(out.Spans, b.Spans...)
		out.Metrics = append(out.Metrics, b.Metrics...)
		out.Scores = append(out.Scores, b.Scores...)
		out.Logs = append(out.Logs, b.Logs...)
		out.SDKUploads = append(out.SDKUploads, b.SDKUploads...)
	}
	return entry{out, bytes}, in[n:]
}

// trim fits b into a queue that holds queued records of queuedBytes, by the
// drop policy (see the package doc); it returns the kept batch, the dropped
// counts and the kept batch's estimated bytes.
func (c *Config) trim(b telemetry.Batch, queued int, queuedBytes int64) (telemetry.Batch, Counts, int64) {
	r := c.reserveBytes()
	return trim(b, room{
		records: c.QueueSize - c.RunSpanReserve - queued, runRecords: c.QueueSize + c.RunSpanReserve - queued,
		bytes: c.QueueBytes - r - queuedBytes, runBytes: c.QueueBytes + r - queuedBytes,
		anyFirst: queued == 0,
	})
}

// room is what a queue can still take: ordinary records, and run spans
// (every kept record takes from both). An empty queue takes its first
// record whatever its size (anyFirst), so that one record larger than the
// bound (an SDK upload of up to 16 MiB) is not always dropped.
type room struct {
	records, runRecords int
	bytes, runBytes     int64
	anyFirst            bool
}

// fits reports whether a record of size bytes fits, and takes its room: a
// run span takes only from the run room, which bounds the ordinary room.
func (r *room) fits(size int64, run bool) bool {
	if r.anyFirst && r.records > 0 && r.runRecords > 0 {
		r.anyFirst = false
		r.records--
		r.runRecords--
		r.bytes -= size
		r.runBytes -= size
		return true
	}
	r.anyFirst = false
	if run {
		if r.runRecords <= 0 || r.runBytes < size {
			return false
		}
	} else if r.records <= 0 || r.bytes < size || r.runRecords <= 0 || r.runBytes < size {
		return false
	}
	r.runRecords--
	r.runBytes -= size
	if !run {
		r.records--
		r.bytes -= size
	}
	r.records, r.bytes = min(r.records, r.runRecords), min(r.bytes, r.runBytes)
	return true
}

// trim keeps, in order (spans, metrics, scores, logs, SDK uploads), as many
// records as r allows, and run spans as long as its run room allows; of
// each kind other than spans it keeps a prefix (the newest are dropped). It
// returns the kept batch, the dropped counts and the kept bytes.
func trim(b telemetry.Batch, r room) (telemetry.Batch, Counts, int64) {
	var out telemetry.Batch
	var drop Counts
	var kept int64
	for i := range b.Spans {
		size := spanSize(&b.Spans[i])
		if !r.fits(size, b.Spans[i].IsRun()) {
			drop.Spans++
			continue
		}
		out.Spans = append(out.Spans, b.Spans[i])
		kept += size
	}
	k := prefix(len(b.Metrics), func(i int) int64 { return metricSize(&b.Metrics[i]) }, &r, &kept)
	out.Metrics, drop.Metrics = keepPrefix(b.Metrics, k), uint64(len(b.Metrics)-k)
	k = prefix(len(b.Scores), func(i int) int64 { return scoreSize(&b.Scores[i]) }, &r, &kept)
	out.Scores, drop.Scores = keepPrefix(b.Scores, k), uint64(len(b.Scores)-k)
	k = prefix(len(b.Logs), func(i int) int64 { return logSize(&b.Logs[i]) }, &r, &kept)
	out.Logs, drop.Logs = keepPrefix(b.Logs, k), uint64(len(b.Logs)-k)
	k = prefix(len(b.SDKUploads), func(i int) int64 { return uploadSize(&b.SDKUploads[i]) }, &r, &kept)
	out.SDKUploads, drop.SDKUploads = keepPrefix(b.SDKUploads, k), uint64(len(b.SDKUploads)-k)
	return out, drop, kept
}

// keepPrefix returns the first k records of s. When some are dropped, they
// are copied out, so that the dropped ones (and their strings, maps and
// payloads) are not kept alive by the backing array while the kept ones
// wait in a queue: the queue's byte bound counts only what is kept.
func keepPrefix[T any](s []T, k int) []T {
	switch {
	case k == len(s):
		return s[:k:k]
	case k == 0:
		return nil
	}
	return append(make([]T, 0, k), s[:k]...)
}

// prefix returns how many of n records (of the sizes given) fit in r, in
// order, taking their room and adding their sizes to kept.
func prefix(n int, size func(int) int64, r *room, kept *int64) int {
	for i := range n {
		s := size(i)
		if !r.fits(s, false) {
			r.records, r.bytes = 0, 0 // the rest of every kind is dropped
			return i
		}
		*kept += s
	}
	return n
}

var (
	_ io.Closer        = (*asyncOpen)(nil)
	_ CountersExporter = (*asyncOpen)(nil)
)

// errClosed is returned by an OpenAsync exporter used after Close.
var errClosed = errors.New("exporter closed")
