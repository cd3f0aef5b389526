// Package spool is the reading side of the run journals of one data dir:
// the importer that moves them into the local store (ImportAll, the
// background Indexer, daily retention) and the delivery cursors that let
// each remote destination (the Graphsignal API, an OTLP endpoint) read the
// same journals with its own offsets. docs/store.md ("Delivery cursors") is
// the contract.
//
// # Layout
//
//	DATA/journal/NAME.jsonl             a run's journal (internal/journal)
//	DATA/journal/.NAME.imported         NAME is final and wholly imported, but destinations still need it
//	DATA/upload/<dest hash>/name        the destination's name (kind and endpoint, never credentials)
//	DATA/upload/<dest hash>/NAME.cursor NAME is pending for the destination: acknowledged offset
//	DATA/upload/<dest hash>/NAME.state, NAME.parts  state saved at an offset (SaveState), gone with the cursor
//	DATA/upload/<dest hash>/NAME.delivered, NAME.dropped  retired cursors, kept for Status
//	DATA/upload/<dest hash>/dropped     records dropped for the destination (spool bounds)
//
// # Rules
//
// A run calls Expect for each destination before it creates its journal, so
// a journal that exists is never without the cursors it will have. A
// journal is removed only when it is final, wholly imported into the store
// and no destination's cursor is pending for it. The last of the importer
// and the delivering process to let go of a journal removes it; both decide
// under an exclusive flock(2) of the journal directory, held for a few
// system calls, so a journal is neither removed early nor left behind.
// Journals without cursors (written before uploads, or with no destination
// configured) are removed by the importer alone, as before. A live
// journal is never removed, but the importer reclaims the blocks of what
// the store and every pending cursor have consumed (journal.Reclaim), so
// a run of any length holds little disk.
//
// A Dir holds no open files and starts no goroutines; its methods are safe
// for concurrent use by goroutines and processes. A Cursor is owned by the
// goroutine that claimed it.
package spool

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Defaults of the spool bounds applied by Trim.
const (
	// DefaultMaxAge is how long a journal may wait for a destination
	// (since its last write) before Trim drops it for that destination.
	DefaultMaxAge = 7 * 24 * time.Hour
	// DefaultMaxBytes bounds the journal bytes pending per destination.
	DefaultMaxBytes = 1 << 30
	// markerKeep is how long delivered and dropped markers are kept (the
	// store's retention), so that `show` can say where a run went.
	markerKeep = 30 * 24 * time.Hour
	// orphanGrace is how long a cursor may wait for its journal to appear
	// (Expect comes first) before Trim retires it as an orphan.
	orphanGrace = time.Minute
)

// File names in a destination's directory.
const (
	extCursor    = ".cursor"
	extDelivered = ".delivered"
	extDropped   = ".dropped"
	extImported  = ".imported"
	nameFile     = "name"
	droppedFile  = "dropped"
)

// Dir is the spool of one data dir: DATA/journal/*.jsonl plus the
// destinations' cursor files under DATA/upload.
type Dir struct {
	data     string
	maxAge   time.Duration
	maxBytes int64
	now      func() time.Time
	// reclaimStep and reclaimKeep are defaultReclaimStep and
	// defaultReclaimKeep, lowered by tests.
	reclaimStep, reclaimKeep int64
}

// Option changes a Dir's settings.
type Option func(*Dir)

// WithMaxAge sets the age bound of Trim (DefaultMaxAge); <= 0 disables it.
func WithMaxAge(d time.Duration) Option { return func(s *Dir) { s.maxAge = d } }

// WithMaxBytes sets the per-destination size bound of Trim
// (DefaultMaxBytes); <= 0 disables it.
func WithMaxBytes(n int64) Option { return func(s *Dir) { s.maxBytes = n } }

// WithClock sets the clock used for ages (time.Now).
func WithClock(now func() time.Time) Option { return func(s *Dir) { s.now = now } }

// Open returns the spool of dataDir. It touches no file.
func Open(dataDir string, opts ...Option) *Dir {
	d := &Dir{data: dataDir, maxAge: DefaultMaxAge, maxBytes: DefaultMaxBytes, now: time.Now,
		reclaimStep: defaultReclaimStep, reclaimKeep: defaultReclaimKeep}
	for _, o := range opts {
		o(d)
	}
	return d
}

// JournalDir is where runs write their journals.
func (d *Dir) JournalDir() string { return filepath.Join(d.data, "journal") }

func (d *Dir) uploadDir() string { return filepath.Join(d.data, "upload") }

// destDir is the directory of dest: a hash of its name, so that any name
// (a URL) makes a short, safe file name.
func (d *Dir) destDir(dest string) string {
	h := sha256.Sum256([]byte(dest))
	return filepath.Join(d.uploadDir(), hex.EncodeToString(h[:8]))
}

func (d *Dir) journalPath(name string) string {
	return filepath.Join(d.JournalDir(), name+journal.Ext)
}

func (d *Dir) importedPath(name string) string {
	return filepath.Join(d.JournalDir(), "."+name+extImported)
}

// JournalName names a run's journal so that journals sort by start time.
func JournalName(start time.Time, run telemetry.SpanID) string {
	return fmt.Sprintf("%020d-%s", start.UnixNano(), run)
}

// JournalRun returns the run's start and span id that JournalName put in
// name; ok is false for a name it did not make.
func JournalRun(name string) (start time.Time, run telemetry.SpanID, ok bool) {
	ns, id, found := strings.Cut(name, "-")
	if !found {
		return time.Time{}, telemetry.SpanID{}, false
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return time.Time{}, telemetry.SpanID{}, false
	}
	if run, err = telemetry.ParseSpanID(id); err != nil {
		return time.Time{}, telemetry.SpanID{}, false
	}
	return time.Unix(0, n), run, true
}

func checkName(name string) error {
	if name == "" || strings.HasPrefix(name, ".") || strings.ContainsRune(name, filepath.Separator) {
		return fmt.Errorf("bad journal name %q", name)
	}
	return nil
}

// Expect records that journal must be delivered to dest (a Sender's name:
// kind and endpoint, never credentials), with nothing acknowledged yet. A
// run calls it before it creates the journal: a journal that exists may be
// imported and removed at any moment by a process that saw no cursor for
// it. Expecting a journal already pending for dest changes nothing.
func (d *Dir) Expect(dest, journal string) error {
	if err := checkName(journal); err != nil {
		return fmt.Errorf("expect: %w", err)
	}
	dir := d.destDir(dest)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("expect: %w", err)
	}
	namePath := filepath.Join(dir, nameFile)
	if _, err := os.Stat(namePath); errors.Is(err, os.ErrNotExist) {
		if err := writeNew(dir, nameFile, []byte(dest+"\n")); err != nil {
			return fmt.Errorf("expect: %w", err)
		}
	}
	// Created empty: a cursor with no record (or a record cut short)
	// reads as offset 0, which is what it says; Advance writes the first.
	f, err := os.OpenFile(filepath.Join(dir, journal+extCursor), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		return fmt.Errorf("expect %s: %w", journal, err)
	}
	return nil
}

// writeNew creates dir/name with data, whole or not at all: written under a
// temporary name, then linked into place. An existing file is kept.
func writeNew(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	return nil
}

// destinations returns the name of every destination directory, by
// directory path.
func (d *Dir) destinations() (map[string]string, error) {
	entries, err := os.ReadDir(d.uploadDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list destinations: %w", err)
	}
	dests := make(map[string]string)
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(d.uploadDir(), e.Name())
		b, err := os.ReadFile(filepath.Join(dir, nameFile))
		if err != nil {
			continue // being created, or not ours
		}
		dests[dir] = strings.TrimSuffix(string(b), "\n")
	}
	return dests, nil
}

// Destinations lists every destination that has journals pending, by name,
// sorted.
func (d *Dir) Destinations() ([]string, error) {
	dests, err := d.destinations()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, name := range dests {
		p, err := d.Pending(name)
		if err != nil {
			return nil, err
		}
		if len(p) > 0 {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// cursors lists the journal names that have a cursor file in dest's
// directory, sorted, whether their journal exists or not.
func (d *Dir) cursors(dest string) ([]string, error) {
	return listExt(d.destDir(dest), extCursor)
}

func listExt(dir, ext string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ext) || !e.Type().IsRegular() {
			continue
		}
		names = append(names, strings.TrimSuffix(n, ext))
	}
	sort.Strings(names)
	return names, nil
}

// Pending lists the journals waiting for dest, oldest first (journal name
// order). A journal expected but not created yet is not listed.
func (d *Dir) Pending(dest string) ([]string, error) {
	names, err := d.cursors(dest)
	if err != nil {
		return nil, fmt.Errorf("pending: %w", err)
	}
	pending := names[:0]
	for _, n := range names {
		if _, err := os.Stat(d.journalPath(n)); err == nil {
			pending = append(pending, n)
		}
	}
	return pending, nil
}
