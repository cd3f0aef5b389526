// Package store is graphsignal's embedded local store: one SQLite database
// file (modernc.org/sqlite, pure Go) under the data directory, holding every
// span, metric point, score and log that a run records, and the queries behind
// `graphsignal sessions` and `graphsignal show`.
//
// The database runs in WAL mode with a busy timeout and takes its write lock
// at the start of each transaction, so several processes (concurrent
// `graphsignal run`s sharing a data directory) can write and read the same
// file at once. Its schema is versioned (PRAGMA user_version) and upgraded by
// ordered migrations when opened; a file written by a newer graphsignal is
// refused with ErrSchemaTooNew rather than touched.
//
// A *Store is safe for concurrent use by multiple goroutines. It starts no
// goroutines of its own beyond database/sql's connection pool, which Close
// releases. After Close every method returns an error wrapping ErrClosed.
//
// Failures are returned, never panicked: a file that is not a database, or is
// damaged, yields an error wrapping ErrCorrupt; a data directory that cannot
// be created or written yields a wrapped *os.PathError or SQLite error, and a
// lock held past the busy timeout one wrapping ErrBusy. Runs never write
// here directly: they append to journals (package journal) that importers
// move in with Import, so nothing here can delay or touch a child process.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"modernc.org/sqlite"
)

// FileName is the name of the database file inside the data directory.
const FileName = "graphsignal.db"

// Errors callers can branch on with errors.Is.
var (
	// ErrNotFound is returned by Session, ResolveSession and LastSessionID
	// when there is no such session.
	ErrNotFound = errors.New("session not found")
	// ErrCorrupt wraps errors caused by a database file that is not an
	// SQLite database or whose content is damaged.
	ErrCorrupt = errors.New("store database is corrupt")
	// ErrSchemaTooNew is returned by Open for a database whose schema
	// version is newer than this build knows.
	ErrSchemaTooNew = errors.New("store schema is newer than this graphsignal")
	// ErrClosed is returned by every method called after Close.
	ErrClosed = errors.New("store is closed")
	// ErrBusy wraps errors caused by another connection or process holding
	// the database's lock past the busy timeout.
	ErrBusy = errors.New("store database is locked")
)

// SQLite primary result codes this package classifies.
const (
	sqliteBusy    = 5  // SQLITE_BUSY
	sqliteCorrupt = 11 // SQLITE_CORRUPT
	sqliteNotADB  = 26 // SQLITE_NOTADB
)

// Store is an open local store. See the package documentation for the
// concurrency contract.
type Store struct {
	db   *sql.DB
	path string
	now  func() time.Time

	mu     sync.RWMutex
	closed bool
}

type config struct {
	now         func() time.Time
	busyTimeout time.Duration
	maxConns    int
	lowMemory   bool
	mmap        bool
}

// Option configures Open.
type Option func(*config)

// WithClock sets the clock Prune uses to compute the age cutoff (default
// time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithBusyTimeout sets how long a statement waits for another connection or
// process holding the write lock before failing (default 10s).
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) { c.busyTimeout = d }
}

// WithLowMemory suits a store held open for a long time in the background
// (a run's indexer): one connection instead of a pool of four, and a page
// cache of 256 KiB instead of SQLite's 2 MiB per connection, so that the
// memory outside the Go heap stays flat while the database grows
// (docs/store.md, "Memory over a long run").
func WithLowMemory() Option {
	return func(c *config) { c.lowMemory = true }
}

// WithMemoryMap suits a command that reads much of the store once and
// exits (`show`, `sessions`, `ui`): SQLite reads the file through a
// memory map of up to mmapSize instead of a read call per page, which
// took `show --trace` on a 10,000-span trace from 206 to 193 ms
// (BENCHMARKS.md). Not for a run's own process: an I/O error on a mapped
// page is a SIGBUS, which would end the run's recording.
func WithMemoryMap() Option {
	return func(c *config) { c.mmap = true }
}

// mmapSize bounds the memory map of WithMemoryMap.
const mmapSize = 256 << 20

// Open opens (creating if needed) the database file FileName in dir, creating
// dir with mode 0700 when missing, and brings its schema up to date.
//
// The returned error wraps ErrCorrupt when the file is not a usable SQLite
// database, ErrSchemaTooNew when it was written by a newer version, and the
// underlying *os.PathError or SQLite error when dir or the file cannot be
// created or written.
func Open(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	cfg := config{now: time.Now, busyTimeout: 10 * time.Second, maxConns: 4}
	for _, o := range opts {
		o(&cfg)
	}
	if dir == "" {
		return nil, errors.New("open store: empty data directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	path := filepath.Join(abs, FileName)
	// The records are the user's alone: a new database is created 0600
	// (SQLite would make it 0644), and SQLite gives its -wal and -shm files
	// the database file's mode. An empty file is a valid new database.
	if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		_ = f.Close()
	}
	repairSidecars(path)
	if cfg.lowMemory {
		cfg.maxConns = 1
	}
	name := dsn(path, cfg.busyTimeout)
	if cfg.lowMemory {
		name += "&" + url.Values{"_pragma": {"cache_size(-256)"}}.Encode()
	}
	if cfg.mmap {
		name += "&" + url.Values{"_pragma": {fmt.Sprintf("mmap_size(%d)", mmapSize)}}.Encode()
	}
	db, err := sql.Open("sqlite", name)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.SetMaxOpenConns(cfg.maxConns)
	db.SetMaxIdleConns(cfg.maxConns)
	if err := migrate(ctx, db, migrations); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, classify(err))
	}
	return &Store{db: db, path: path, now: cfg.now}, nil
}

// dsn builds the modernc.org/sqlite data source name: a file: URI (so any
// character in the path is escaped) with the connection settings every pooled
// connection applies when it opens.
func dsn(path string, busy time.Duration) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(busy.Milliseconds(), 10))
	// auto_vacuum only takes effect on a new, empty file; it lets Prune
	// give freed pages back to the file system.
	q.Set("_auto_vacuum", "INCREMENTAL")
	q.Set("_journal_mode", "WAL")
	// No fsync: every committed transaction is in the operating system's
	// page cache, so it survives graphsignal or the child being killed
	// (SIGKILL, OOM); only an operating-system crash or power loss can drop
	// the last seconds. Telemetry does not justify making every run wait for
	// the disk (an fsync costs milliseconds on network volumes), see
	// docs/store.md.
	q.Set("_synchronous", "OFF")
	// Take the write lock at BEGIN so that the busy timeout applies; a
	// deferred transaction upgrading to a writer fails at once with
	// SQLITE_BUSY when another process is writing.
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close releases the database. It is safe to call more than once; calls after
// the first return nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// use runs f unless the store is closed; Close waits for running calls.
func (s *Store) use(f func() error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return classify(f())
}

// classify adds ErrCorrupt to errors SQLite reports for a damaged or foreign
// file, and ErrBusy to lock timeouts, so callers can branch on them.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqliteCorrupt, sqliteNotADB:
			if !errors.Is(err, ErrCorrupt) {
				return fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
		case sqliteBusy:
			if !errors.Is(err, ErrBusy) {
				return fmt.Errorf("%w: %w", ErrBusy, err)
			}
		}
	}
	return err
}
