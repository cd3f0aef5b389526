// Package ipc is the local socket intake of a run (docs/protocol.md and docs/intake.md): a Unix stream
// socket in a private directory whose path the child gets as
// GRAPHSIGNAL_SOCKET, speaking newline-delimited JSON (docs/protocol.md).
//
// A Server owns one accept goroutine (started by Serve), one goroutine per
// connection and one delivery goroutine (started with the first
// connection), the only caller of Config.Consumer. Connections decode
// lines into batches and hand them to a bounded queue; when the queue is full
// the batch is dropped and counted, so a client is never slowed down by the
// consumer. Bad lines are counted by reason and skipped; nothing a client
// sends stops the server.
//
// Memory is bounded by
//
//	MaxConns × ReadBufferBytes            (per-connection read buffers)
//	+ MaxConns × 16 KiB                   (per-connection batches being filled)
//	+ LongLineBudget                      (lines longer than a read buffer, shared)
//	+ QueueBytes                          (queued records, estimated: line bytes
//	                                       + 512 B + 64 B per tag each)
//	+ MaxContextTags × MaxContextTagBytes (context tags: 64 × 64 KiB)
//	+ ~32 × MaxLineBytes                  (long lines are decoded one at a
//	                                       time; parsing expands them)
//	+ SDKUploadBudget                     (forwarded SDK uploads being
//	                                       reassembled, shared)
//
// which with the defaults is 16 + 16 + 8 + 8 + 4 + 32 + 4 = 88 MiB, plus
// the garbage collector's slack, independent of what clients send; a
// reassembled upload is decoded by Config.DecodeSDKUpload within the HTTP
// intake's own in-flight bound, and its batch may pass QueueBytes when it
// finds the queue empty
// (BenchmarkIntakeFlood measures the peak heap; docs/architecture.md,
// "Memory bound", adds up the whole process).
package ipc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Consumer receives the records of the intake. Consume is called from one
// goroutine at a time, owned by the Server; it owns the batch it is given.
// A slow Consume does not block clients: batches that do not fit in the
// queue meanwhile are dropped and counted.
type Consumer interface {
	Consume(telemetry.Batch)
}

// ConsumerFunc adapts a function to Consumer.
type ConsumerFunc func(telemetry.Batch)

// Consume calls f(b).
func (f ConsumerFunc) Consume(b telemetry.Batch) { f(b) }

// Defaults of Config's limits.
const (
	DefaultMaxConns        = 1024
	DefaultReadBufferBytes = 16 << 10
	DefaultLongLineBudget  = 8 << 20
	DefaultQueueBatches    = 4096
	DefaultQueueBytes      = 8 << 20
	// MaxContextTags bounds the context tags of a run, set by "tag"
	// messages; a tag beyond it is a bad line (ReasonBadValue), as is one
	// whose key and value exceed MaxContextTagBytes.
	MaxContextTags     = 64
	MaxContextTagBytes = 64 << 10
	maxBatchRecords    = 512
	// backlogGrace is how long Shutdown keeps accepting connections
	// already queued by the kernel before it closes the listener.
	backlogGrace = 20 * time.Millisecond
)

// Config configures a Server. Zero limits take the defaults above.
type Config struct {
	TraceID        telemetry.TraceID // the run's trace
	SpanID         telemetry.SpanID  // the run span: default parent
	Tags           telemetry.Tags    // the run's merged tags, session_id included
	RecordPayloads bool              // keep span payloads
	Consumer       Consumer          // required
	// Now returns the time of receipt; nil means time.Now.
	Now func() time.Time
	// Dir is where the private directory is created. "" means the first
	// of: $XDG_RUNTIME_DIR when it is a directory of this user closed to
	// others; /dev/shm on Linux when it is a sticky tmpfs (creating and
	// removing a socket on a disk file system can cost a millisecond);
	// os.TempDir(), or /tmp when that path would make the socket path too
	// long.
	Dir string
	// AllowUID reports whether a peer of the given uid may connect; nil
	// allows only this process's uid. Refusals are counted.
	AllowUID func(uid int) bool
	// MaxConns is the number of connections served at once; more are
	// accepted and closed at once, and counted in RefusedOverload.
	MaxConns int
	// ReadBufferBytes is each connection's read buffer.
	ReadBufferBytes int
	// LongLineBudget bounds the memory, shared by all connections, held for
	// lines longer than ReadBufferBytes (up to MaxLineBytes each). A long
	// line that does not fit is skipped with ReasonOverload.
	LongLineBudget int64
	// QueueBatches and QueueBytes bound the delivery queue, in batches and
	// in the estimated memory of the queued records (line bytes plus a
	// per-record and per-tag overhead; a decoded SDK upload 11× its body).
	// A batch that does not fit is dropped and its records counted in
	// Dropped (drop newest); an empty queue takes one batch of any size.
	QueueBatches int
	QueueBytes   int64
	// OnTags, if set, is called with the run's tags merged with the context
	// tags each time a "tag" message changes them, so that other intakes of
	// the run can apply them too. It is called with the tag lock held, in
	// the order of the changes, and must not block.
	OnTags func(telemetry.Tags)
	// DecodeSDKUpload, if set, maps an SDK upload that a nested run
	// forwarded whole ("sdk_upload" messages, docs/protocol.md), once
	// reassembled, to the batch the run's HTTP intake would have made of
	// the request (httpintake.Server.DecodeForwarded). It is called from
	// connection goroutines, concurrently, and must not block. An upload it
	// refuses, or every upload when it is nil, is dropped and counted
	// (UploadRefused).
	DecodeSDKUpload func(SDKUpload) (telemetry.Batch, error)
	// SDKUploadBudget bounds the memory, shared by all connections, of the
	// forwarded uploads being reassembled (up to MaxSDKUploadBytes each);
	// an upload that does not fit is dropped (UploadOverload).
	SDKUploadBudget int64
	// IdleTimeout closes a connection that sends nothing for this long;
	// zero (the default) never does, since an SDK may keep a quiet
	// connection open for the whole run.
	IdleTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.AllowUID == nil {
		self := os.Getuid()
		c.AllowUID = func(uid int) bool { return uid == self }
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.ReadBufferBytes <= 0 {
		c.ReadBufferBytes = DefaultReadBufferBytes
	}
	if c.LongLineBudget <= 0 {
		c.LongLineBudget = DefaultLongLineBudget
	}
	if c.QueueBatches <= 0 {
		c.QueueBatches = DefaultQueueBatches
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = DefaultQueueBytes
	}
	if c.SDKUploadBudget <= 0 {
		c.SDKUploadBudget = DefaultSDKUploadBudget
	}
}

// ErrNoConsumer is returned by Bind when Config.Consumer is nil.
var ErrNoConsumer = errors.New("ipc: no consumer")

// Server is a socket intake. Its methods are safe for concurrent use.
//
// Bind only creates the socket, so that its address can go into the
// child's environment at the least cost; Serve starts the accept
// goroutine. A client that connects in between waits in the kernel's
// backlog. The delivery goroutine starts with the first connection.
type Server struct {
	cfg   Config
	dir   string
	lock  *dirLock // held until the directory is removed
	path  string
	stats counters

	rc    atomic.Pointer[RunContext] // current context, replaced on "tag"
	tagMu sync.Mutex                 // serialises context tag updates
	ctx   telemetry.Tags             // context tags, guarded by tagMu

	drainOnce   sync.Once     // makes queue and starts drain, at the first connection
	queue       chan queued   // nil until drainOnce has run
	queuedBytes atomic.Int64  // estimated bytes in queue
	longDecode  chan struct{} // semaphore: concurrent decodes of long lines
	discard     atomic.Bool   // Shutdown ran out of time: drop the rest of the queue
	longBytes   atomic.Int64
	uploadBytes atomic.Int64 // reserved by uploads being reassembled
	drainDone   chan struct{}

	mu      sync.Mutex
	fd      int  // the bound socket until the accept goroutine takes it, then -1
	served  bool // the accept goroutine was started
	shut    bool // Shutdown or Close began: Serve does nothing
	conns   map[*net.UnixConn]struct{}
	closing bool
	connWG  sync.WaitGroup

	ready     chan struct{}     // closed once the accept goroutine set ln or serveErr
	ln        *net.UnixListener // written before ready is closed
	serveErr  error             // written before ready is closed
	stop      chan struct{}     // closed when shutdown starts
	acceptCut atomic.Bool       // stop accepting now, backlog or not
	acceptWG  sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

type queued struct {
	batch telemetry.Batch
	bytes int64
}

// Bind creates the private directory (0700) and the listening socket in it
// (0600), and starts nothing: clients that connect wait in the backlog
// until Serve. It is what a run does before starting the child, whose
// environment needs Addr. The context only bounds setup. The Server must
// be ended with Shutdown or Close, served or not.
func Bind(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Consumer == nil {
		return nil, ErrNoConsumer
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	cfg.setDefaults()
	dir, path, lock, err := makeSocketDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	fd, err := listenUnix(path)
	if err != nil {
		_ = os.RemoveAll(dir)
		lock.release()
		return nil, fmt.Errorf("listen on socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		_ = syscall.Close(fd)
		_ = os.RemoveAll(dir)
		lock.release()
		return nil, fmt.Errorf("chmod socket: %w", err)
	}
	s := &Server{
		cfg: cfg, dir: dir, lock: lock, path: path, fd: fd,
		longDecode: make(chan struct{}, 1),
		conns:      make(map[*net.UnixConn]struct{}),
		ready:      make(chan struct{}),
		stop:       make(chan struct{}),
		drainDone:  make(chan struct{}),
	}
	s.rc.Store(&RunContext{TraceID: cfg.TraceID, SpanID: cfg.SpanID, Tags: cfg.Tags.Clone(), RecordPayloads: cfg.RecordPayloads})
	return s, nil
}

// Serve starts the accept goroutine and returns at once; connections
// already in the backlog are served first. It does nothing when called
// again, or after Shutdown or Close began.
func (s *Server) Serve() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.shut {
		s.serveLocked()
	}
}

func (s *Server) serveLocked() {
	if s.served {
		return
	}
	s.served = true
	fd := s.fd
	s.fd = -1
	s.acceptWG.Add(1)
	go s.acceptLoop(fd)
}

// sunPathMax is the usable length of a Unix socket path on Linux and macOS.
const sunPathMax = 103

// defaultSocketParent picks where the private directory goes when
// Config.Dir is empty (see there).
func defaultSocketParent() string {
	fits := func(dir string) bool {
		return len(filepath.Join(dir, socketDirPrefix+"0123456789", "intake.sock")) <= sunPathMax
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(dir) && fits(dir) && privateDir(dir) {
		return dir
	}
	if dir := memoryTempDir(); dir != "" {
		return dir
	}
	if dir := os.TempDir(); fits(dir) {
		return dir
	}
	return "/tmp"
}

// privateDir reports whether dir is a directory owned by this user that
// no one else may write to or list.
func privateDir(dir string) bool {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o077 != 0 {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

// makeSocketDir creates the run's private directory (0700), locked until
// the lock is released (socketdir_linux.go: a later run removes the
// directory of a run that was killed).
func makeSocketDir(parent string) (dir, path string, lock *dirLock, err error) {
	if parent == "" {
		parent = defaultSocketParent()
	}
	dir, lock, err = createSocketDir(parent)
	if err != nil {
		return "", "", nil, fmt.Errorf("create socket directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		_ = os.RemoveAll(dir)
		lock.release()
		return "", "", nil, fmt.Errorf("chmod socket directory: %w", err)
	}
	path = filepath.Join(dir, "intake.sock")
	if len(path) > sunPathMax {
		_ = os.RemoveAll(dir)
		lock.release()
		return "", "", nil, fmt.Errorf("socket path %q longer than %d bytes", path, sunPathMax)
	}
	return dir, path, lock, nil
}

// Addr returns the socket's path, the value of GRAPHSIGNAL_SOCKET. The path
// no longer exists after Close.
func (s *Server) Addr() string { return s.path }

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// Metrics returns the counters as cumulative metrics named
// graphsignal.intake.*, in the run's trace and with the run's tags, so
// they can be stored like any other series.
func (s *Server) Metrics(now time.Time) []telemetry.Metric {
	return s.Stats().metrics(s.cfg.TraceID, s.cfg.Tags, now)
}

// errTooManyTags rejects a "tag" message over the context tag limits.
var errTooManyTags = &DecodeError{Reason: ReasonBadValue,
	Err: fmt.Errorf("context tags: at most %d, of %d bytes each", MaxContextTags, MaxContextTagBytes)}

// setContextTag applies a "tag" message to every record decoded after it.
func (s *Server) setContextTag(key, value string, remove bool) error {
	s.tagMu.Lock()
	defer s.tagMu.Unlock()
	if remove {
		delete(s.ctx, key)
	} else {
		if _, ok := s.ctx[key]; (!ok && len(s.ctx) >= MaxContextTags) || len(key)+len(value) > MaxContextTagBytes {
			return errTooManyTags
		}
		if s.ctx == nil {
			s.ctx = telemetry.Tags{}
		}
		s.ctx[key] = value
	}
	old := s.rc.Load()
	rc := *old
	rc.Tags = s.cfg.Tags.Merge(s.ctx)
	s.rc.Store(&rc)
	if s.cfg.OnTags != nil {
		s.cfg.OnTags(rc.Tags.Clone())
	}
	return nil
}

// enqueue hands a batch to the delivery goroutine, or drops and counts it
// when the queue is full in batches or bytes. It never blocks.
func (s *Server) enqueue(b telemetry.Batch, costBytes int64) {
	n := b.Len()
	if n == 0 {
		return
	}
	// An empty queue takes one batch of any size (a decoded SDK upload
	// may be larger than the bound).
	if total := s.queuedBytes.Add(costBytes); total > s.cfg.QueueBytes && total != costBytes {
		s.queuedBytes.Add(-costBytes)
		s.stats.dropped.Add(uint64(n))
		return
	}
	select {
	case s.queue <- queued{batch: b, bytes: costBytes}:
	default:
		s.queuedBytes.Add(-costBytes)
		s.stats.dropped.Add(uint64(n))
	}
}

// startDrain makes the queue and starts the delivery goroutine; it runs
// once, before the first connection is served.
func (s *Server) startDrain() {
	s.queue = make(chan queued, s.cfg.QueueBatches)
	go s.drain()
}

func (s *Server) drain() {
	defer close(s.drainDone)
	for q := range s.queue {
		s.queuedBytes.Add(-q.bytes)
		if s.discard.Load() {
			s.stats.dropped.Add(uint64(q.batch.Len()))
			continue
		}
		s.cfg.Consumer.Consume(q.batch)
	}
}

// acceptLoop takes the bound socket fd into the runtime's poller, then
// accepts until shutdown.
func (s *Server) acceptLoop(fd int) {
	defer s.acceptWG.Done()
	s.ln, s.serveErr = fileListener(fd, s.path)
	close(s.ready)
	if s.serveErr != nil {
		return
	}
	var backoff time.Duration
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			select {
			case <-s.stop:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.stop:
				t.Stop()
				return
			}
			continue
		}
		backoff = 0
		s.admit(c)
		select {
		case <-s.stop:
			s.extendAccept()
		default:
		}
	}
}

func (s *Server) admit(c *net.UnixConn) {
	uid, err := peerUID(c)
	if err != nil || !s.cfg.AllowUID(uid) {
		s.stats.refusedPeers.Add(1)
		_ = c.Close()
		return
	}
	s.mu.Lock()
	if s.closing || len(s.conns) >= s.cfg.MaxConns {
		closing := s.closing
		s.mu.Unlock()
		if !closing {
			s.stats.refusedOverload.Add(1)
		}
		_ = c.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.connWG.Add(1)
	s.mu.Unlock()
	s.drainOnce.Do(s.startDrain)
	s.stats.connections.Add(1)
	s.stats.active.Add(1)
	go func() {
		defer s.connWG.Done()
		defer s.stats.active.Add(-1)
		defer s.forget(c)
		s.serve(c)
	}()
}

func (s *Server) forget(c *net.UnixConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	_ = c.Close()
}
