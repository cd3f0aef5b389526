package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
)

const otherDest = "Graphsignal API https://api.graphsignal.com"

// TestRemovalRule: a journal is removed only once it is final, imported
// and retired by every destination that expected it, whichever comes last.
func TestRemovalRule(t *testing.T) {
	tests := []struct {
		name  string
		dests []string // destinations that expect the journal
		steps []string // "import", "finish DEST", "drop DEST"
		// kept[i] says whether the journal must still exist after steps[i].
		kept []bool
	}{
		{"no destination (journals before uploads)", nil,
			[]string{"import"}, []bool{false}},
		{"importer first", []string{testDest},
			[]string{"import", "finish " + testDest}, []bool{true, false}},
		{"cursor first", []string{testDest},
			[]string{"finish " + testDest, "import"}, []bool{true, false}},
		{"two destinations, importer between", []string{testDest, otherDest},
			[]string{"finish " + testDest, "import", "finish " + otherDest}, []bool{true, true, false}},
		{"two destinations, importer last", []string{testDest, otherDest},
			[]string{"finish " + otherDest, "drop " + testDest, "import"}, []bool{true, true, false}},
		{"dropped after import", []string{testDest},
			[]string{"import", "import", "drop " + testDest}, []bool{true, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			sp := Open(data)
			name := "0001-run"
			for _, d := range tt.dests {
				if err := sp.Expect(d, name); err != nil {
					t.Fatal(err)
				}
			}
			size := writeJournal(t, sp, name, 2)
			st := openStore(t, data)
			for i, step := range tt.steps {
				var err error
				switch {
				case step == "import":
					_, err = sp.ImportAll(context.Background(), st)
				case len(step) > 7 && step[:7] == "finish ":
					err = deliver(sp, step[7:], name, size)
				default: // drop
					var c *Cursor
					if c, err = sp.Claim(step[5:], name); err == nil {
						err = c.Drop(1, "test")
					}
				}
				if err != nil {
					t.Fatalf("%s: %v", step, err)
				}
				_, err = os.Stat(sp.journalPath(name))
				if exists := err == nil; exists != tt.kept[i] {
					t.Fatalf("after %s: journal exists = %v, want %v", step, exists, tt.kept[i])
				}
			}
			assertClean(t, sp)
			if d, err := st.Session(context.Background(), "s0"); err != nil || len(d.Runs) != 1 {
				t.Errorf("the run is not in the store once its journal is gone: %v", err)
			}
		})
	}
}

// deliver claims dest's cursor, acknowledges the whole journal and
// finishes it.
func deliver(sp *Dir, dest, name string, size int64) error {
	c, err := sp.Claim(dest, name)
	if err != nil {
		return err
	}
	if err := c.Advance(size); err != nil {
		return err
	}
	return c.Finish()
}

// assertClean fails unless no journal and no imported marker is left.
func assertClean(t *testing.T, sp *Dir) {
	t.Helper()
	entries, _ := os.ReadDir(sp.JournalDir())
	for _, e := range entries {
		t.Errorf("left in the journal dir: %s", e.Name())
	}
}

// TestRemovalRace: the importer (here) and a delivering process (a child)
// finishing with one journal at the same moment remove it exactly once,
// never before both are done. The journal's size varies which one ends
// first.
func TestRemovalRace(t *testing.T) {
	for _, batches := range []int{1, 10, 100, 400} {
		data := t.TempDir()
		sp := Open(data)
		name := "0001-run"
		if err := sp.Expect(testDest, name); err != nil {
			t.Fatal(err)
		}
		writeJournal(t, sp, name, batches)
		st := openStore(t, data)
		h := startHelper(t, "finish", data, name)
		h.expectLine(t, "ready")
		var wg sync.WaitGroup
		var importErr error
		wg.Go(func() { _, importErr = sp.ImportAll(context.Background(), st) })
		if _, err := h.stdin.Write([]byte("go\n")); err != nil {
			t.Fatal(err)
		}
		out, _ := h.out.ReadString('\n')
		if err := h.cmd.Wait(); err != nil {
			t.Fatalf("delivering process: %v %s", err, out)
		}
		wg.Wait()
		if importErr != nil {
			t.Fatal(importErr)
		}
		// Whichever was first, the second saw it: nothing is left.
		assertClean(t, sp)
		last := fmt.Sprintf("s%d", batches-1)
		if d, err := st.Session(context.Background(), last); err != nil || len(d.Runs) != 1 {
			t.Fatalf("journal removed before it was wholly imported: %v", err)
		}
	}
}

// TestRetiredByKilledProcess: a delivering process killed between retiring
// its cursor and removing the journal leaves an imported marker; the next
// import removes the journal without reading it again.
func TestRetiredByKilledProcess(t *testing.T) {
	data := t.TempDir()
	sp := Open(data)
	name := "0001-run"
	if err := sp.Expect(testDest, name); err != nil {
		t.Fatal(err)
	}
	size := writeJournal(t, sp, name, 1)
	st := openStore(t, data)
	if _, err := sp.ImportAll(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	c, err := sp.Claim(testDest, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Advance(size); err != nil {
		t.Fatal(err)
	}
	// The rename alone, as if killed just after it.
	dir := sp.destDir(testDest)
	if err := os.Rename(dir+"/"+name+extCursor, dir+"/"+name+extDelivered); err != nil {
		t.Fatal(err)
	}
	_ = c.Release()
	if _, err := sp.ImportAll(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	assertClean(t, sp)
	if _, err := sp.Claim(testDest, name); !errors.Is(err, ErrNotPending) {
		t.Errorf("Claim of a delivered journal = %v, want ErrNotPending", err)
	}
	if names, _ := journal.List(sp.JournalDir()); len(names) != 0 {
		t.Errorf("journals left: %v", names)
	}
}

// TestLockGivesUp: a holder of the journal directory's lock that never lets
// go (a stopped process) makes lock give up after lockWait with ErrBusy,
// so no run's exit waits on it.
func TestLockGivesUp(t *testing.T) {
	sp := Open(t.TempDir())
	unlock, err := sp.lock()
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	start := time.Now()
	_, err = sp.lock() // another open file description: flock conflicts
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("lock while held = %v, want ErrBusy", err)
	}
	if took := time.Since(start); took < lockWait || took > 20*lockWait {
		t.Errorf("lock gave up after %v, want about %v", took, lockWait)
	}
}
