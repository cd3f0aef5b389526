package upload

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestFailingBacklogDoesNotHoldLive checks that while an older journal's
// requests keep failing, the run's own journal is still streamed, that
// the backlog's tries are spaced by the backoff (not retried in a loop
// that holds the Shipper), and that the backlog goes once the destination
// takes it.
func TestFailingBacklogDoesNotHoldLive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := spool.Open(t.TempDir())
		writeJournal(t, d, "0-old", 4, 4, false)
		w := writeJournal(t, d, "1-live", 0, 1, true)
		healthy := time.Now().Add(20 * time.Second)
		var oldTries atomic.Int32
		snd := &fakeSender{reply: func(_ int, b telemetry.Batch) (Result, error) {
			if slices.ContainsFunc(names(b), func(n string) bool { return strings.HasPrefix(n, "0-old") }) {
				oldTries.Add(1)
				if time.Now().Before(healthy) {
					return Result{}, &RetryableError{Destination: testDest, Status: 503, Reason: "busy"}
				}
			}
			return Result{}, nil
		}}
		s := newShipper(t, Config{Sender: snd, Spool: d, Live: "1-live", StreamInterval: 2 * time.Second,
			KickBytes: 1, InitialInterval: time.Second, MaxInterval: 4 * time.Second})
		s.Start(t.Context())
		defer s.Stop()
		synctest.Wait()

		for i := range 5 {
			if err := w.Append(metrics("live", 1)); err != nil {
				t.Fatal(err)
			}
			s.Kick()
			synctest.Wait()
			if n := len(snd.ackedNames()); n != i+1 {
				t.Fatalf("after live append %d: %d acknowledged (%v), want %d: the failing backlog holds the live journal",
					i+1, n, snd.ackedNames(), i+1)
			}
			time.Sleep(3 * time.Second)
		}
		synctest.Wait()
		// 15 s of 503s with backoff from 1 s doubling to at most 4 s
		// (±50% jitter): a handful of tries, not a retry loop.
		if n := oldTries.Load(); n < 3 || n > 10 {
			t.Errorf("backlog tried %d times in 15 s, want 3 to 10", n)
		}
		// Healthy again from 20 s: the backlog goes at its next try, at most
		// MaxInterval with +50% jitter (6 s) after its last failure.
		time.Sleep(12 * time.Second)
		synctest.Wait()
		if got := snd.ackedNames(); !slices.Equal(got[len(got)-4:], want("0-old", 4)) {
			t.Errorf("acknowledged %v, want the backlog's 4 records last", got)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestVanishedJournalIsDropped checks that a journal removed between the
// listing of the pending ones and its first read (by hand, or by another
// process's spool bound) is said to be dropped, not delivered.
func TestVanishedJournalIsDropped(t *testing.T) {
	d := spool.Open(t.TempDir())
	writeJournal(t, d, "0-gone", 4, 2, false)
	snd := &fakeSender{}
	s := newShipper(t, Config{Sender: snd, Spool: d})
	defer s.releaseAll()
	s.listed, s.backlog = true, []string{"0-gone"} // listed while it was there
	if err := os.Remove(filepath.Join(d.JournalDir(), "0-gone"+journal.Ext)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.backlogStep(t.Context()); err != nil {
		t.Fatalf("backlogStep() = %v", err)
	}
	st, err := d.Status("0-gone")
	if err != nil || len(st) != 1 || st[0].State != spool.Dropped {
		t.Errorf("Status = %+v, %v; want one destination, dropped", st, err)
	}
	if n := snd.callCount(); n != 0 {
		t.Errorf("%d requests for a journal that is gone", n)
	}
}

// TestBacklogLeavesLiveJournals checks that the backlog does not take the
// journal another run is still writing (that run streams it itself, and a
// claim here would hold its sends back), and sends it once it is final.
func TestBacklogLeavesLiveJournals(t *testing.T) {
	d := spool.Open(t.TempDir())
	w := writeJournal(t, d, "0-other", 3, 1, true)
	writeJournal(t, d, "1-old", 2, 2, false)
	snd := &fakeSender{}
	if err := newShipper(t, Config{Sender: snd, Spool: d}).Drain(t.Context(), nil); err != nil {
		t.Fatalf("Drain() = %v", err)
	}
	if got := snd.ackedNames(); !slices.Equal(got, want("1-old", 2)) {
		t.Errorf("acknowledged %v, want only 1-old's records", got)
	}
	if p := pending(t, d); !slices.Equal(p, []string{"0-other"}) {
		t.Errorf("pending = %v, want the live journal", p)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := newShipper(t, Config{Sender: snd, Spool: d}).Drain(t.Context(), nil); err != nil {
		t.Fatalf("Drain() after the close = %v", err)
	}
	if got := snd.ackedNames(); !slices.Equal(got[2:], want("0-other", 3)) {
		t.Errorf("acknowledged %v, want 0-other's records once final", got)
	}
}
