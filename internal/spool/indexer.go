package spool

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/store"
)

const (
	// IndexAfter is how long a child must run before its graphsignal opens
	// the database: shorter runs never touch SQLite.
	IndexAfter = time.Second
	// indexerBusy is how long the Indexer waits for the database's lock.
	indexerBusy = 50 * time.Millisecond
	// backlogJournals is the number of waiting journals that makes a run
	// import them before it exits.
	backlogJournals = 64
	// downsampleEvery is how often the Indexer of a long run downsamples
	// the store's old metric points (store.DefaultTiers).
	downsampleEvery = 10 * time.Minute
)

// Indexer imports journals into the store in the background of a long run:
// it waits, opens the store, then imports every interval until stopped. It
// waits at most 50 ms for another process's lock (and tries again at the
// next interval), so stopping it never waits for long.
//
// Runs shorter than the wait would leave their journals to the next
// `sessions` or `show` forever on a machine where nobody asks; so when 64
// or more journals are waiting, the Indexer starts at once and Stop waits
// for one full import (within its context), as `git gc --auto` does: one
// run in many pays for the others.
//
// The Indexer owns one goroutine, ended and joined by Stop.
type Indexer struct {
	cancel  context.CancelFunc
	done    sync.WaitGroup
	counted chan struct{} // closed once the waiting journals are counted
	catchUp chan struct{} // closed once a backlog has been imported
	backlog atomic.Bool   // a backlog was found: Stop waits for catchUp
}

// StartIndexer starts the Indexer of the data dir: it first imports after
// `after` (at once when a backlog waits), then every `every`. onError
// receives its first error other than a busy database, from the Indexer's
// goroutine, after which the Indexer stops (the journals keep the records).
func (d *Dir) StartIndexer(ctx context.Context, after, every time.Duration, onError func(error)) *Indexer {
	ctx, cancel := context.WithCancel(ctx)
	ix := &Indexer{cancel: cancel, counted: make(chan struct{}), catchUp: make(chan struct{})}
	ix.done.Go(func() {
		defer func() {
			select {
			case <-ix.catchUp:
			default:
				close(ix.catchUp)
			}
		}()
		if d.hasBacklog() {
			ix.backlog.Store(true)
			after = 0
		}
		close(ix.counted)
		wait := time.NewTimer(after)
		defer wait.Stop()
		select {
		case <-wait.C:
		case <-ctx.Done():
			return
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		var st *store.Store
		var downsampled time.Time
		defer func() {
			if st != nil {
				_ = st.Close()
			}
		}()
		for {
			err := d.indexPass(ctx, &st, &downsampled)
			if ix.backlog.Load() && (err == nil || errors.Is(err, store.ErrBusy)) {
				// Imported, or another process holds the database: either
				// way the run's exit does not wait for the backlog.
				ix.backlog.Store(false)
				close(ix.catchUp)
			}
			if err != nil && !errors.Is(err, store.ErrBusy) {
				if ctx.Err() == nil {
					onError(err)
				}
				return
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	})
	return ix
}

// Stop ends the Indexer and waits for its goroutine; when it is importing
// a backlog, it first lets it finish, within ctx (the flush timeout).
func (ix *Indexer) Stop(ctx context.Context) {
	select { // the count is a directory listing: a child that exits at once waits for it
	case <-ix.counted:
	case <-ctx.Done():
	}
	if ix.backlog.Load() {
		select {
		case <-ix.catchUp:
		case <-ctx.Done():
		}
	}
	ix.cancel()
	ix.done.Wait()
}

// hasBacklog reports whether backlogJournals or more journals that this
// user can read wait to be imported (one it cannot read stays, and must not
// make every run wait; one already imported and kept for a destination
// needs no import). Below that, it costs one directory listing.
func (d *Dir) hasBacklog() bool {
	l, _ := d.list()
	if len(l.names)-len(l.imported) < backlogJournals {
		return false
	}
	n := 0
	for _, name := range l.names {
		if !l.imported[name] && unix.Access(filepath.Join(d.JournalDir(), name+journal.Ext), unix.R_OK) == nil {
			n++
		}
	}
	return n >= backlogJournals
}

// indexPass opens the store if it is not open yet, then imports the
// journals, and downsamples old metric points when it has not for
// downsampleEvery (since *last).
func (d *Dir) indexPass(ctx context.Context, st **store.Store, last *time.Time) error {
	if *st == nil {
		s, err := store.Open(ctx, d.data, store.WithBusyTimeout(indexerBusy), store.WithLowMemory())
		if err != nil {
			return err
		}
		*st = s
		d.PruneDaily(ctx, s)
	}
	if _, err := d.ImportAll(ctx, *st); err != nil {
		return err
	}
	if now := d.now(); now.Sub(*last) >= downsampleEvery {
		if _, err := (*st).Downsample(ctx, now, store.DefaultTiers); err != nil {
			return err
		}
		*last = now
	}
	return nil
}
