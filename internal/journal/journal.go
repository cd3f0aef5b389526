// Package journal is the write-ahead log of a run: an append-only file of
// telemetry batches that `graphsignal run` writes as records arrive, and that
// readers later move into the embedded store (or, later, any destination that
// keeps its own offset into it).
//
// Writing a journal costs one write(2) per batch and no database work, so a
// run never waits for SQLite: not at start, not at exit, not when the
// database is locked or damaged. What a run wrote is on disk (in the page
// cache, like the store's synchronous=OFF) as soon as Append returns, so a
// SIGKILLed or OOM-killed graphsignal loses at most the batch it was writing.
//
// # Files
//
// A journal is the file NAME.jsonl in its directory. Each line is one batch
// as JSON (the line format is private to this package: encode.go); a line is
// written with a single write(2) on an O_APPEND descriptor, so lines never
// interleave and a reader sees whole lines, except possibly the last line of
// a writer that was killed mid-write, which readers discard.
//
// A Writer holds an exclusive flock(2) on its file for its lifetime. Readers
// try a shared lock without waiting: when it is granted, no writer is left
// (it closed or its process died, even by SIGKILL, which releases the lock)
// and the journal is final; otherwise it is live and may still grow. A new
// journal is created under a hidden temporary name, locked, then renamed into
// place, so a reader never sees an unlocked journal that is about to be
// written.
//
// Nothing here deletes data a reader has not consumed: Remove is for the
// reader that has moved a final journal elsewhere, Reclaim for the readers
// of a long run's journal to give back the blocks of what all of them have
// consumed (a hole after the first line; offsets never change).
package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Ext is the file name extension of a journal.
const Ext = ".jsonl"

// DefaultMaxBytes bounds the bytes one journal holds on disk: what it was
// written less what Reclaim gave back. Append refuses batches past it.
const DefaultMaxBytes = 256 << 20

// ErrFull is returned by Append when the batch would grow the journal past
// its size bound (less 1 MiB kept for batches with a run span, so that the
// run's outcome is always recorded); the batch is not written.
var ErrFull = errors.New("journal full")

// ErrTooLarge is returned by Append when records too large for one line
// were left out.
var ErrTooLarge = errors.New("record too large for the journal")

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("journal closed")

// ErrReclaimUnsupported is returned by Reclaim where the file system (or
// the platform) cannot punch holes in a file.
var ErrReclaimUnsupported = errors.New("journal space cannot be reclaimed here")

// Writer appends batches to one journal. It is safe for concurrent use.
type Writer struct {
	path      string
	maxBytes  int64
	lineLimit int // MaxLine/2; lowered by tests

	mu     sync.Mutex
	f      *os.File
	size   int64
	holes  int64 // the bytes readers reclaimed (a hole), as last seen
	torn   bool  // the last write was cut short mid-line
	closed bool
}

// Create creates the journal NAME.jsonl in dir (dir is created with mode
// 0700 when missing), locked for writing. name must be a plain file name not
// starting with "."; it should sort in creation order (readers import
// journals in name order). maxBytes <= 0 means DefaultMaxBytes.
func Create(dir, name string, maxBytes int64) (*Writer, error) {
	if name == "" || strings.HasPrefix(name, ".") || strings.ContainsRune(name, filepath.Separator) {
		return nil, fmt.Errorf("create journal: bad name %q", name)
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create journal: %w", err)
	}
	path := filepath.Join(dir, name+Ext)
	tmp := filepath.Join(dir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create journal: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("create journal %s: lock: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = f.Close()
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("create journal: %w", err)
	}
	return &Writer{path: path, maxBytes: maxBytes, lineLimit: MaxLine / 2, f: f}, nil
}

// Path returns the journal's file path.
func (w *Writer) Path() string { return w.path }

// Append writes b as one line, or as several when its line would pass
// MaxLine/2 (a record's line is never split). An empty batch writes
// nothing. A record whose line alone would pass MaxLine is left out and
// counted in the returned error (ErrTooLarge), the others are written. When
// the lines would pass the size bound the batch is refused (ErrFull), except
// its run spans, which are written into the reserve. It returns ErrClosed
// after Close, and the write error otherwise. A write cut short (disk full)
// leaves a torn line, which the next Append terminates first: readers skip
// it and go on with the next line.
func (w *Writer) Append(b telemetry.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	lines, dropped := encodeLines(&b, w.lineLimit)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	err := w.write(lines, hasRunSpan(&b))
	if errors.Is(err, ErrFull) {
		if runs := runSpansOf(&b); runs.Len() > 0 && runs.Len() < b.Len() {
			runLines, _ := encodeLines(&runs, w.lineLimit)
			_ = w.write(runLines, true)
		}
	}
	if err == nil && dropped > 0 {
		err = fmt.Errorf("%w: %d of %d records left out", ErrTooLarge, dropped, b.Len())
	}
	if err != nil {
		return fmt.Errorf("journal %s: %w", w.path, err)
	}
	return nil
}

// AppendCounters writes b, graphsignal's own counters (docs/protocol.md,
// "Drops"), like Append, except that when the journal is otherwise full it
// may use the first half of the run span reserve: the counts of what was
// refused are recorded, and the run's outcome keeps room. It returns
// ErrFull past that.
func (w *Writer) AppendCounters(b telemetry.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	lines, _ := encodeLines(&b, w.lineLimit)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	var total int64
	for _, l := range lines {
		total += int64(len(l))
	}
	if w.size-w.holes+total+1 > w.maxBytes-runSpanReserve/2 {
		w.holes = reclaimed(w.f) // readers may have reclaimed more since
	}
	if w.size-w.holes+total+1 > w.maxBytes-runSpanReserve/2 {
		return fmt.Errorf("journal %s: %w (%d bytes)", w.path, ErrFull, w.maxBytes)
	}
	if err := w.write(lines, true); err != nil {
		return fmt.Errorf("journal %s: %w", w.path, err)
	}
	return nil
}

// write appends lines within the size bound (all of it for a run span,
// less the reserve otherwise). Called with w.mu held.
func (w *Writer) write(lines [][]byte, runSpan bool) error {
	var total int64
	for _, l := range lines {
		total += int64(len(l))
	}
	if w.torn {
		total++
	}
	limit := w.maxBytes - runSpanReserve
	if runSpan {
		limit = w.maxBytes
	}
	if w.size-w.holes+total > limit {
		// Readers may have reclaimed more since: look again.
		w.holes = reclaimed(w.f)
	}
	if w.size-w.holes+total > limit {
		return fmt.Errorf("%w (%d bytes)", ErrFull, w.maxBytes)
	}
	if w.torn {
		n, err := w.f.Write([]byte{'\n'})
		w.size += int64(n)
		if err != nil {
			return err
		}
		w.torn = false
	}
	for _, l := range lines {
		n, err := w.f.Write(l)
		w.size += int64(n)
		if err != nil {
			w.torn = n > 0 && n < len(l)
			return err
		}
	}
	return nil
}

// runSpanReserve is the part of a journal's bound kept for batches that
// carry a run span, so that a run whose records filled its journal still
// records how it ended.
const runSpanReserve = 1 << 20

func hasRunSpan(b *telemetry.Batch) bool {
	for i := range b.Spans {
		if b.Spans[i].IsRun() {
			return true
		}
	}
	return false
}

// runSpansOf returns the run spans of b alone.
func runSpansOf(b *telemetry.Batch) telemetry.Batch {
	var runs telemetry.Batch
	for i := range b.Spans {
		if b.Spans[i].IsRun() {
			runs.Spans = append(runs.Spans, b.Spans[i])
		}
	}
	return runs
}

// encodeLines encodes b as lines of at most limit bytes, splitting it
// between records as needed; one record may take up to 2*limit, and one
// that needs more is left out and counted in dropped.
func encodeLines(b *telemetry.Batch, limit int) (lines [][]byte, dropped int) {
	line := encodeBatch(b)
	switch n := b.Len(); {
	case len(line) <= limit:
		return [][]byte{line}, 0
	case n == 1 && len(line) <= 2*limit:
		return [][]byte{line}, 0
	case n == 1:
		return nil, 1
	}
	left, right := splitBatch(b, b.Len()/2)
	l, dl := encodeLines(&left, limit)
	r, dr := encodeLines(&right, limit)
	return append(l, r...), dl + dr
}

// splitBatch returns the first n records of b (spans first, then metrics,
// scores, logs, SDK uploads) and the rest, keeping the order within each
// kind.
func splitBatch(b *telemetry.Batch, n int) (first, rest telemetry.Batch) {
	take := func(k int) int { t := min(k, n); n -= t; return t }
	s, m, c, l := take(len(b.Spans)), take(len(b.Metrics)), take(len(b.Scores)), take(len(b.Logs))
	u := take(len(b.SDKUploads))
	first = telemetry.Batch{Spans: b.Spans[:s], Metrics: b.Metrics[:m], Scores: b.Scores[:c], Logs: b.Logs[:l],
		SDKUploads: b.SDKUploads[:u]}
	rest = telemetry.Batch{Spans: b.Spans[s:], Metrics: b.Metrics[m:], Scores: b.Scores[c:], Logs: b.Logs[l:],
		SDKUploads: b.SDKUploads[u:]}
	return first, rest
}

// Close closes the file, which releases the lock: readers then see the
// journal as final. Calls after the first return nil.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("close journal %s: %w", w.path, err)
	}
	return nil
}

// List returns the names (without Ext) of the journals in dir, sorted. A
// missing dir has none.
func List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list journals: %w", err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, Ext) || !e.Type().IsRegular() {
			continue
		}
		names = append(names, strings.TrimSuffix(n, Ext))
	}
	sort.Strings(names)
	return names, nil
}

// Remove deletes the journal name in dir; a journal already gone is not an
// error. Only a reader that has consumed a final journal calls it.
func Remove(dir, name string) error {
	err := os.Remove(filepath.Join(dir, name+Ext))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove journal: %w", err)
	}
	return nil
}
