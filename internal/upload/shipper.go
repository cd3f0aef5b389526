package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/graphsignal/graphsignal/internal/redact"
	"github.com/graphsignal/graphsignal/internal/spool"
)

// Defaults applied to zero Config fields.
const (
	DefaultStreamInterval  = 2 * time.Second
	DefaultKickBytes       = 256 << 10
	DefaultMaxRecords      = 5_000
	DefaultMaxBytes        = 2 << 20
	DefaultRequestTimeout  = 10 * time.Second
	DefaultInitialInterval = 500 * time.Millisecond
	DefaultMaxInterval     = 30 * time.Second
)

// Config configures a Shipper. Sender and Spool are required.
type Config struct {
	// Sender sends requests to the destination.
	Sender Sender
	// Dest is the destination's name in the spool; "" means
	// Sender.Name() (kind and endpoint, never credentials).
	Dest string
	// Spool holds the journals and the destination's delivery offsets.
	Spool *spool.Dir
	// Live is the run's own journal, streamed while the run goes on and
	// sent first; "" when there is none (`graphsignal upload`). The run
	// must have called Spool.Expect(Dest, Live) before creating it.
	Live string

	// StartDelay is how long the started Shipper waits, once it has
	// warmed the Sender, before its first request (and connection), so as
	// not to compete with the program's own start; 0 means none. A Flush
	// in the meantime is answered at once: a run shorter than the delay is
	// sent in one request at its exit.
	StartDelay time.Duration
	// StreamInterval is how often the live journal is tailed.
	StreamInterval time.Duration
	// KickBytes is how many new bytes in the live journal make a Kick
	// send them at once rather than at the next interval.
	KickBytes int64
	// MaxRecords and MaxBytes bound one request: its records, and the
	// journal bytes they were read from (the wire holds far fewer after
	// encoding and compression). One journal line is never cut in two
	// except by a split (ErrTooLarge) or by a line with more than
	// MaxRecords records.
	MaxRecords int
	MaxBytes   int
	// RequestTimeout bounds each attempt of a request.
	RequestTimeout time.Duration
	// InitialInterval and MaxInterval shape the exponential backoff
	// between attempts (with ±50% jitter).
	InitialInterval time.Duration
	MaxInterval     time.Duration
	// MaxRetryTime bounds how long one request is retried; 0 means until
	// the context ends (a run's streaming). When it is spent, Drain stops
	// and what is left stays pending.
	MaxRetryTime time.Duration

	// Stderr receives the one line printed when the destination refuses
	// permanently, with Debug one line per request, and with SayRetries
	// one line per failed attempt that will be tried again. Nil discards.
	Stderr io.Writer
	// Debug logs every request: destination, status, records, bytes,
	// latency.
	Debug bool
	// SayRetries prints each failed attempt that will be tried again, and
	// when: a foreground `graphsignal upload` shows why it is waiting.
	SayRetries bool
	// Secrets are redacted from everything printed.
	Secrets []string
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.StreamInterval, DefaultStreamInterval)
	def(&c.RequestTimeout, DefaultRequestTimeout)
	def(&c.InitialInterval, DefaultInitialInterval)
	def(&c.MaxInterval, DefaultMaxInterval)
	if c.KickBytes <= 0 {
		c.KickBytes = DefaultKickBytes
	}
	if c.MaxRecords <= 0 {
		c.MaxRecords = DefaultMaxRecords
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.Stderr == nil {
		c.Stderr = io.Discard
	}
}

// ErrStopped is returned by Flush after Stop, or after a previous Flush.
var ErrStopped = errors.New("shipper stopped")

// Shipper delivers the journals pending for one destination. Start runs
// one goroutine, owned by the Shipper, that warms the Sender (Warmer) and,
// after StartDelay,
// streams the live journal (its first records at once, then every
// StreamInterval, and on Kick once KickBytes were appended) and sends the
// older pending journals (the backlog, oldest first) in between. Flush ends
// streaming with a last send of the live journal bounded by its context;
// Stop cancels whatever is in flight and joins the goroutine. A slow or
// refusing destination only holds back its own Shipper.
//
// A journal's delivery offset advances only after the destination
// acknowledged the records before it; what was not acknowledged when the
// process ends stays pending in the spool for the next run or
// `graphsignal upload`. docs/upload.md describes delivery in full.
type Shipper struct {
	cfg   Config
	stats stats
	kickc chan struct{}
	flush chan flushReq

	cancel   context.CancelFunc
	done     chan struct{} // closed when the goroutine ends
	started  bool
	flushing atomic.Bool // the goroutine starts no more streaming or backlog work

	liveClosed     chan struct{} // closed by LiveClosed
	liveClosedOnce sync.Once

	opMu     sync.Mutex
	opCancel context.CancelFunc // cancels the request in flight
	opLive   bool               // the request in flight is of the live journal

	// The rest belongs to the goroutine (or to Drain's caller).
	live     *cursor // the live journal's, nil until claimed
	liveSent int64   // offset of the live journal sent so far
	liveGone bool    // the live journal cannot be claimed: not streamed
	backlog  []string
	listed   bool
	cur      *cursor // the backlog journal being sent
	finished string  // the backlog journal the last step delivered wholly
	// bytesPerRecord is the journal bytes per record of the last read.
	bytesPerRecord float64
	// refused counts the records the destination refused (as invalid, or
	// a single record too large) while delivering one chunk, with the
	// first reason; sendOne records them in the chunk's cursor.
	refused    int64
	refusedWhy string
	// partsOf and partsAt are the journal and offset of the chunk being
	// delivered (nil when none): a failed attempt saves the parts of it
	// the destination accepted there (saveParts).
	partsOf   *cursor
	partsAt   int64
	permanent error
	// backlogAt is when the backlog may be tried again after a failed
	// request while streaming (zero: now); backlogBO spaces those tries.
	backlogAt time.Time
	backlogBO *backoff.ExponentialBackOff
}

type flushReq struct {
	ctx  context.Context
	done chan error
}

// New returns a Shipper for cfg; it sends nothing until Start or Drain.
func New(cfg Config) (*Shipper, error) {
	if cfg.Sender == nil || cfg.Spool == nil {
		return nil, errors.New("upload: Sender and Spool are required")
	}
	if cfg.Dest == "" {
		cfg.Dest = cfg.Sender.Name()
	}
	cfg.setDefaults()
	s := &Shipper{cfg: cfg, kickc: make(chan struct{}, 1), flush: make(chan flushReq), liveClosed: make(chan struct{})}
	s.stats.Destination = cfg.Sender.Name()
	s.backlogBO = &backoff.ExponentialBackOff{
		InitialInterval:     cfg.InitialInterval,
		RandomizationFactor: backoff.DefaultRandomizationFactor,
		Multiplier:          2,
		MaxInterval:         cfg.MaxInterval,
	}
	s.backlogBO.Reset()
	return s, nil
}

// Start starts the Shipper's goroutine. ctx bounds it as Stop does.
func (s *Shipper) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.started = true
	s.done = make(chan struct{})
	go func() { // joined by Stop
		defer close(s.done)
		s.loop(ctx)
	}()
}

// Kick tells the Shipper that the live journal grew; it never blocks. The
// run calls it after each append to its journal.
func (s *Shipper) Kick() {
	select {
	case s.kickc <- struct{}{}:
	default:
	}
}

// LiveClosed tells the Shipper that the live journal's writer has closed
// it, or that it will never be written (its creation failed). The run
// calls it right after closing its journal; it never blocks, may be called
// from any goroutine, more than once, and before Start.
//
// With it, Flush sends the rest of the live journal in one go once the
// journal is closed and returns as soon as that is acknowledged. Without
// it, Flush finds the close by looking again at each Kick and every
// flushPoll.
func (s *Shipper) LiveClosed() {
	s.liveClosedOnce.Do(func() { close(s.liveClosed) })
}

// Flush sends what remains of the live journal, waiting for its writer to
// close (LiveClosed), within ctx, then ends the Shipper's work (the
// backlog is left for later). A request of the live journal already in
// flight goes on (within ctx), so that its connection and its work are not
// wasted; one of the backlog is cancelled and stays pending. Flush returns
// nil once the whole live journal was acknowledged, the destination's
// permanent error, or the error that kept the rest pending (ctx's, when
// it expired first). It returns within ctx whatever the destination does.
// Call Stop afterwards.
func (s *Shipper) Flush(ctx context.Context) error {
	if !s.started {
		return ErrStopped
	}
	s.flushing.Store(true)
	s.cancelBacklogOp()
	// A live request in flight is left to finish, within ctx.
	stop := context.AfterFunc(ctx, s.cancelOp)
	defer stop()
	req := flushReq{ctx: ctx, done: make(chan error, 1)}
	select {
	case s.flush <- req:
	case <-ctx.Done():
		return fmt.Errorf("flush %s: %w", s.cfg.Sender.Name(), context.Cause(ctx))
	case <-s.done:
		return ErrStopped
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("flush %s: %w", s.cfg.Sender.Name(), context.Cause(ctx))
	}
}

// Stop cancels what is in flight (it stays pending), releases the
// journals the Shipper holds and waits for its goroutine. It is safe to
// call more than once, and without Start.
func (s *Shipper) Stop() {
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
}

// Drain sends every journal pending for the destination, oldest first,
// in the caller's goroutine, within ctx; it must not be used on a started
// Shipper. onJournal, when not nil, is called after each journal with its
// name and the stats so far. It returns nil when nothing it could claim is
// left pending; the permanent error of a refusing destination; the last
// failure once a request was retried for MaxRetryTime (or ctx ended); or
// the first journal that could not be read (the others are still sent).
func (s *Shipper) Drain(ctx context.Context, onJournal func(name string, st Stats)) error {
	if s.started {
		return errors.New("upload: Drain on a started Shipper")
	}
	defer s.releaseAll()
	var firstErr error
	for {
		s.finished = ""
		more, err := s.backlogStep(ctx)
		if err != nil {
			if s.permanent != nil {
				return s.permanent
			}
			if ctx.Err() != nil {
				return fmt.Errorf("upload to %s: %w", s.cfg.Sender.Name(), context.Cause(ctx))
			}
			var se sendError
			if errors.As(err, &se) {
				return se.err
			}
			if firstErr == nil {
				firstErr = err
			}
		}
		if s.finished != "" && onJournal != nil {
			onJournal(s.finished, s.Stats())
		}
		if !more {
			return firstErr
		}
	}
}

// loop is the Shipper's goroutine.
func (s *Shipper) loop(ctx context.Context) {
	defer s.releaseAll()
	// Warming is local work (CPU, memory): it goes first, in parallel with
	// the program's start; requests wait for StartDelay.
	s.warm()
	if !s.startDelay(ctx) {
		return
	}
	tick := time.NewTicker(s.cfg.StreamInterval)
	defer tick.Stop()
	retry := time.NewTimer(time.Hour) // the backlog's next try after a failure
	retry.Stop()
	defer retry.Stop()
	liveDue := s.cfg.Live != ""
	for {
		if s.permanent != nil {
			s.idle(ctx)
			return
		}
		if s.flushing.Load() {
			// Flush is on its way: start nothing that it would cancel.
			select {
			case <-ctx.Done():
			case req := <-s.flush:
				s.finish(ctx, req)
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case req := <-s.flush:
			s.finish(ctx, req)
			return
		case <-tick.C:
			liveDue = s.cfg.Live != ""
			continue
		case <-s.kickc:
			liveDue = liveDue || s.liveGrew()
			continue
		default:
		}
		if liveDue {
			liveDue = false
			_, _ = s.sendLive(s.opContext(ctx, true))
			continue
		}
		if s.backlogAt.IsZero() || !time.Now().Before(s.backlogAt) {
			more, err := s.backlogStep(s.opContext(ctx, false))
			s.pauseBacklog(err)
			if more && s.backlogAt.IsZero() {
				continue
			}
		}
		var retryC <-chan time.Time
		if !s.backlogAt.IsZero() {
			retry.Reset(time.Until(s.backlogAt))
			retryC = retry.C
		}
		select {
		case <-ctx.Done():
			return
		case req := <-s.flush:
			s.finish(ctx, req)
			return
		case <-tick.C:
			liveDue = s.cfg.Live != ""
		case <-s.kickc:
			liveDue = s.liveGrew()
		case <-retryC:
		}
	}
}

// pauseBacklog spaces the backlog's requests while the run streams: each
// is tried once (cursor.tries), and after a failure the backlog waits its
// backoff, or the destination's Retry-After, in the loop, where the live
// journal and Flush still come first. err is the last backlogStep's; one
// that is not a failure to deliver, or none, ends the pause.
func (s *Shipper) pauseBacklog(err error) {
	var se sendError
	if !errors.As(err, &se) {
		if !s.backlogAt.IsZero() {
			s.backlogAt = time.Time{}
			s.backlogBO.Reset()
		}
		return
	}
	wait := s.backlogBO.NextBackOff()
	var retry *RetryableError
	if errors.As(err, &retry) && retry.RetryAfter > 0 {
		wait = retry.RetryAfter
	}
	s.backlogAt = time.Now().Add(wait)
}

// startDelay waits StartDelay. It reports false when the goroutine is to
// end instead: stopped, or a Flush came (and was answered) meanwhile.
func (s *Shipper) startDelay(ctx context.Context) bool {
	if s.cfg.StartDelay <= 0 {
		return true
	}
	delay := time.NewTimer(s.cfg.StartDelay)
	defer delay.Stop()
	select {
	case <-delay.C:
		return true
	case <-ctx.Done():
	case req := <-s.flush:
		s.finish(ctx, req)
	}
	return false
}

// idle waits, after a permanent error, for Flush (answered at once) or
// Stop.
func (s *Shipper) idle(ctx context.Context) {
	select {
	case <-ctx.Done():
	case req := <-s.flush:
		req.done <- s.permanent
	}
}

// finish answers Flush: the live journal to its end, within req.ctx.
func (s *Shipper) finish(ctx context.Context, req flushReq) {
	fctx, cancel := context.WithCancel(req.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	req.done <- s.flushLive(fctx)
}

// opContext returns ctx for the work the goroutine starts now, of the live
// journal or of the backlog: Flush cancels the backlog's at once, and the
// live journal's when Flush's own context ends.
func (s *Shipper) opContext(ctx context.Context, live bool) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	s.opMu.Lock()
	if s.opCancel != nil {
		s.opCancel()
	}
	s.opCancel, s.opLive = cancel, live
	s.opMu.Unlock()
	if !live && s.flushing.Load() {
		cancel() // Flush came between the loop's check and here
	}
	return ctx
}

func (s *Shipper) cancelOp() {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if s.opCancel != nil {
		s.opCancel()
	}
}

func (s *Shipper) cancelBacklogOp() {
	s.opMu.Lock()
	defer s.opMu.Unlock()
	if s.opCancel != nil && !s.opLive {
		s.opCancel()
	}
}

// releaseAll releases the journals the Shipper holds.
func (s *Shipper) releaseAll() {
	s.closeCursor(&s.live, true)
	s.closeCursor(&s.cur, true)
	s.cancelOp()
}

// permanentStop records the destination's permanent refusal and prints
// the one line that says so.
func (s *Shipper) permanentStop(err error) {
	s.permanent = err
	msg := redact.String(err.Error(), s.cfg.Secrets...)
	s.stats.setErr(msg, true)
	fmt.Fprintf(s.cfg.Stderr, "graphsignal: %s; the run is kept locally\n", msg)
}
