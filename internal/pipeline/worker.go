package pipeline

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// item is one entry of an exporter's queue: a batch, or a flush marker.
type item struct {
	batch  telemetry.Batch
	counts Counts
	bytes  int64 // estimated
	self   bool  // the pipeline's own counters: outside the bounds
	flush  *flushState
}

// flushState completes a Flush once every worker has passed its marker.
type flushState struct {
	target    uint64 // records accepted before the Flush call
	pending   atomic.Int32
	abandoned atomic.Bool // some of those records were given up on
	done      chan struct{}
}

// arrive counts one worker (or the dispatcher) past the marker; lost says
// that records before it were abandoned rather than exported.
func (f *flushState) arrive(lost bool) {
	if lost {
		f.abandoned.Store(true)
	}
	if f.pending.Add(-1) == 0 {
		close(f.done)
	}
}

// worker owns one exporter: its goroutine is the only caller of the
// exporter's Export and Close.
type worker struct {
	name  string
	exp   Exporter
	cfg   *Config
	base  context.Context // cancelled when the pipeline gives up
	wake  chan struct{}   // capacity 1
	end   chan struct{}   // closed when run returns
	erred bool            // OnError already called; owned by run

	room       chan<- struct{} // the dispatcher's room signal
	backlogged *atomic.Bool    // the dispatcher waits for room
	closeErr   error           // set by run before end is closed
	overflowed atomic.Bool     // queue overflowed since run last looked

	mu          sync.Mutex
	q           []item
	queued      int    // records in q
	queuedBytes int64  // their estimated bytes
	inflight    Counts // batch being exported
	inflightB   int64  // its estimated bytes
	abandoned   bool   // Shutdown gave up on this worker
	exited      bool   // run returned; later pushes are not delivered
	exported    Counts
	failed      Counts
}

func newWorker(name string, e Exporter, cfg *Config, base context.Context) *worker {
	return &worker{
		name: name, exp: e, cfg: cfg, base: base,
		wake: make(chan struct{}, 1),
		end:  make(chan struct{}),
	}
}

// push appends it to the queue without blocking. Records that do not fit the
// bound (run spans excepted) are counted as failed and reported. A self item
// is not bounded: it replaces a self item still queued, if any.
func (w *worker) push(it item) {
	w.mu.Lock()
	if w.abandoned || w.exited {
		lost := w.abandoned
		w.failed.add(it.counts)
		w.mu.Unlock()
		if it.flush != nil {
			it.flush.arrive(lost)
		}
		return
	}
	if it.self && w.replaceSelf(it) {
		w.mu.Unlock()
		return
	}
	if n := int(it.counts.Total()); n > 0 && !it.self && w.cfg.full(w.queued, n, w.queuedBytes, it.bytes) {
		var drop Counts
		it.batch, drop, it.bytes = w.cfg.trim(it.batch, w.queued, w.queuedBytes)
		it.counts = countsOf(&it.batch)
		w.failed.add(drop)
		w.overflowed.Store(true) // reported by run, which owns OnError calls
	}
	if it.flush != nil || it.counts.Total() > 0 {
		w.q = append(w.q, it)
		w.queued += int(it.counts.Total())
		w.queuedBytes += it.bytes
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// replaceSelf puts it in place of a self item still queued; it reports
// whether there was one. Called with w.mu held.
func (w *worker) replaceSelf(it item) bool {
	for i := range w.q {
		if w.q[i].self {
			w.queued += int(it.counts.Total()) - int(w.q[i].counts.Total())
			w.queuedBytes += it.bytes - w.q[i].bytes
			w.q[i] = it
			return true
		}
	}
	return false
}

// run is the worker goroutine. It exits once stop is closed and its queue
// is empty, or at once when the pipeline gives up; it then closes the
// exporter when it implements io.Closer.
func (w *worker) run(stop <-chan struct{}) {
	defer close(w.end)
	defer w.exit()
	defer func() {
		if c, ok := w.exp.(io.Closer); ok {
			w.closeErr = c.Close()
		}
	}()
	if o, ok := w.exp.(interface{ openNow(context.Context) }); ok {
		o.openNow(w.base)
	}
	for {
		if w.overflowed.Swap(false) {
			w.report(ErrQueueFull)
		}
		it, ok := w.next()
		if !ok {
			select {
			case <-w.wake:
				continue
			case <-stop:
				if _, ok := w.peek(); ok {
					continue
				}
				return
			case <-w.base.Done():
				return
			}
		}
		if it.flush != nil {
			it.flush.arrive(false)
			continue
		}
		w.export(it)
	}
}

// exit marks the worker gone and releases whatever was pushed since it
// last looked (only flush markers can arrive after stop).
func (w *worker) exit() {
	w.mu.Lock()
	w.exited = true
	lost := w.abandoned
	q := w.q
	w.q, w.queued, w.queuedBytes = nil, 0, 0
	for _, it := range q {
		w.failed.add(it.counts)
	}
	w.mu.Unlock()
	for _, it := range q {
		if it.flush != nil {
			it.flush.arrive(lost)
		}
	}
}

func (w *worker) next() (item, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.abandoned || len(w.q) == 0 {
		return item{}, false
	}
	it := w.q[0]
	w.q[0] = item{}
	w.q = w.q[1:]
	w.queued -= int(it.counts.Total())
	w.queuedBytes -= it.bytes
	w.inflight, w.inflightB = it.counts, it.bytes
	if w.backlogged.Load() && w.queued <= (w.cfg.QueueSize-w.cfg.RunSpanReserve)/2 &&
		w.queuedBytes <= (w.cfg.QueueBytes-w.cfg.reserveBytes())/2 {
		select {
		case w.room <- struct{}{}:
		default:
		}
	}
	return it, true
}

// roomFor returns how many records and estimated bytes the queue can take
// within its bounds, and whether it is empty (an empty queue takes any
// batch).
func (w *worker) roomFor() (int, int64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.abandoned || w.exited {
		return 0, 0, false
	}
	return w.cfg.QueueSize - w.cfg.RunSpanReserve - w.queued, w.cfg.QueueBytes - w.cfg.reserveBytes() - w.queuedBytes, w.queued == 0
}

func (w *worker) peek() (item, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.abandoned || len(w.q) == 0 {
		return item{}, false
	}
	return w.q[0], true
}

func (w *worker) export(it item) {
	err := w.call(it.batch, it.self)
	w.mu.Lock()
	abandoned := w.abandoned
	if !abandoned {
		if err != nil {
			w.failed.add(it.counts)
		} else {
			w.exported.add(it.counts)
		}
		w.inflight, w.inflightB = Counts{}, 0
	}
	w.mu.Unlock()
	if err != nil && !abandoned && w.base.Err() == nil { // not our own cancellation
		w.report(err)
	}
}

// call runs one Export bounded by ExportTimeout; a panic becomes an error
// so that a buggy exporter cannot take the run down with it.
func (w *worker) call(b telemetry.Batch, counters bool) (err error) {
	ctx, cancel := context.WithTimeout(w.base, w.cfg.ExportTimeout)
	defer cancel()
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %v", ErrExporterPanic, v)
		}
	}()
	if ce, ok := w.exp.(CountersExporter); ok && counters {
		return ce.ExportCounters(ctx, b)
	}
	return w.exp.Export(ctx, b)
}

// report calls OnError the first time only. Called from run only.
func (w *worker) report(err error) {
	if w.erred {
		return
	}
	w.erred = true
	if w.cfg.OnError != nil {
		w.cfg.OnError(w.name, err)
	}
}

// giveUp counts everything queued or in flight as failed, releases pending
// flushes and makes run return.
func (w *worker) giveUp() {
	w.mu.Lock()
	if w.abandoned {
		w.mu.Unlock()
		return
	}
	w.abandoned = true
	q := w.q
	w.q, w.queued, w.queuedBytes = nil, 0, 0
	w.failed.add(w.inflight)
	w.inflight, w.inflightB = Counts{}, 0
	for _, it := range q {
		w.failed.add(it.counts)
	}
	w.mu.Unlock()
	for _, it := range q {
		if it.flush != nil {
			it.flush.arrive(true)
		}
	}
}

func (w *worker) stats() ExporterStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return ExporterStats{Name: w.name, Exported: w.exported, Failed: w.failed,
		Queued: w.queued + int(w.inflight.Total()), QueuedBytes: w.queuedBytes + w.inflightB}
}
