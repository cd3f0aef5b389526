package spool

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
)

const (
	helperEnv = "SPOOL_TEST_HELPER"
	testDest  = "OTLP http://127.0.0.1:4318"
	// stride is what the "advance" helper adds to the offset each time.
	stride = 7
)

// helperMain is the test binary run as a child process (the helper-process
// pattern): it claims the cursor named by its environment and does what
// mode says, reporting on stdout.
func helperMain(mode string) int {
	sp := Open(os.Getenv("SPOOL_DATA"))
	name := os.Getenv("SPOOL_JOURNAL")
	c, err := sp.Claim(testDest, name)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	switch mode {
	case "hold": // claim, say so, hold until stdin closes
		fmt.Println("claimed")
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = c.Release()
	case "advance": // advance forever, until killed
		if err := c.Advance(c.Offset() + stride); err != nil {
			fmt.Println(err)
			return 1
		}
		fmt.Println("claimed")
		for {
			if err := c.Advance(c.Offset() + stride); err != nil {
				fmt.Println(err)
				return 1
			}
		}
	case "finish": // deliver the whole journal, finish when stdin says so
		fi, err := os.Stat(sp.journalPath(name))
		if err == nil {
			err = c.Advance(fi.Size())
		}
		if err == nil {
			fmt.Println("ready")
			_, err = bufio.NewReader(os.Stdin).ReadString('\n')
		}
		if err == nil {
			err = c.Finish()
		}
		if err != nil {
			fmt.Println(err)
			return 1
		}
	}
	return 0
}

// child is a running helper process.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func startHelper(t *testing.T, mode, data, name string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "SPOOL_DATA="+data, "SPOOL_JOURNAL="+name)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return c
}

// expectLine reads the child's next line and fails unless it is want.
func (c *child) expectLine(t *testing.T, want string) {
	t.Helper()
	line, err := c.out.ReadString('\n')
	if line != want+"\n" {
		t.Fatalf("helper said %q (%v), want %q", line, err, want)
	}
}

// writeJournal writes a final journal of n run batches and returns its size.
func writeJournal(t *testing.T, sp *Dir, name string, n int) int64 {
	t.Helper()
	w, err := journal.Create(sp.JournalDir(), name, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := w.Append(runBatch(fmt.Sprintf("s%d", i), time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// expected sets up a journal expected by testDest, as a run does.
func expected(t *testing.T, batches int) (*Dir, string, int64) {
	t.Helper()
	sp := Open(t.TempDir())
	name := "0001-run"
	if err := sp.Expect(testDest, name); err != nil {
		t.Fatal(err)
	}
	return sp, name, writeJournal(t, sp, name, batches)
}

// TestCursorAdvanceAndReclaim: a new cursor is an empty file (Expect
// writes no record) and claims at offset 0; Advance records offsets that
// the next claim reads back.
func TestCursorAdvanceAndReclaim(t *testing.T) {
	sp, name, size := expected(t, 3)
	if fi, err := os.Stat(filepath.Join(sp.destDir(testDest), name+extCursor)); err != nil || fi.Size() != 0 {
		t.Fatalf("new cursor file: %v, %v; want an empty file", fi, err)
	}
	c, err := sp.Claim(testDest, name)
	if err != nil {
		t.Fatal(err)
	}
	if c.Offset() != 0 {
		t.Fatalf("new cursor at %d, want 0", c.Offset())
	}
	if _, err := sp.Claim(testDest, name); !errors.Is(err, ErrBusy) {
		t.Errorf("second Claim in one process = %v, want ErrBusy", err)
	}
	for _, off := range []int64{10, 20, 20, size} {
		if err := c.Advance(off); err != nil {
			t.Fatalf("Advance(%d) = %v", off, err)
		}
	}
	if err := c.Advance(5); err == nil {
		t.Errorf("Advance backwards succeeded")
	}
	if err := c.Release(); err != nil {
		t.Fatal(err)
	}
	if err := c.Advance(size); !errors.Is(err, ErrRetired) {
		t.Errorf("Advance after Release = %v, want ErrRetired", err)
	}
	c, err = sp.Claim(testDest, name)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if c.Offset() != size {
		t.Errorf("reclaimed cursor at %d, want %d", c.Offset(), size)
	}
	if _, err := sp.Claim("Graphsignal API https://api.graphsignal.com", name); !errors.Is(err, ErrNotPending) {
		t.Errorf("Claim for a destination that never expected it = %v, want ErrNotPending", err)
	}
	if err := sp.Expect(testDest, name); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(sp.destDir(testDest), name+extCursor)); func() int64 { o, _ := decodeRecord(b); return o }() != size {
		t.Errorf("Expect again reset the cursor")
	}
}

// TestFinishRefusesUndelivered: Finish of a live journal, or of one not
// acknowledged to its end, fails and leaves the cursor pending.
func TestFinishRefusesUndelivered(t *testing.T) {
	sp := Open(t.TempDir())
	name := "0001-live"
	if err := sp.Expect(testDest, name); err != nil {
		t.Fatal(err)
	}
	w, err := journal.Create(sp.JournalDir(), name, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(runBatch("s", time.Time{})); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(w.Path())
	c, err := sp.Claim(testDest, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Advance(fi.Size()); err != nil {
		t.Fatal(err)
	}
	if err := c.Finish(); !errors.Is(err, ErrNotDone) {
		t.Errorf("Finish of a live journal = %v, want ErrNotDone", err)
	}
	if err := w.Append(runBatch("s", time.Now())); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	if err := c.Finish(); !errors.Is(err, ErrNotDone) {
		t.Errorf("Finish short of the end = %v, want ErrNotDone", err)
	}
	if p, _ := sp.Pending(testDest); len(p) != 1 {
		t.Errorf("Pending = %v, want the journal still pending", p)
	}
	_ = c.Release()
}

// TestClaimAcrossProcesses: a cursor held by another process is ErrBusy
// until that process lets go.
func TestClaimAcrossProcesses(t *testing.T) {
	sp, name, _ := expected(t, 1)
	h := startHelper(t, "hold", sp.data, name)
	h.expectLine(t, "claimed")
	if _, err := sp.Claim(testDest, name); !errors.Is(err, ErrBusy) {
		t.Fatalf("Claim while another process holds it = %v, want ErrBusy", err)
	}
	_ = h.stdin.Close()
	if err := h.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	c, err := sp.Claim(testDest, name)
	if err != nil {
		t.Fatalf("Claim after the holder released = %v", err)
	}
	_ = c.Release()
}

// TestCursorSurvivesSIGKILL: a holder killed at any moment, even in the
// middle of advancing, releases the cursor and leaves an offset it wrote.
func TestCursorSurvivesSIGKILL(t *testing.T) {
	for i := range 10 {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			sp, name, _ := expected(t, 1)
			h := startHelper(t, "advance", sp.data, name)
			h.expectLine(t, "claimed")
			seen, _ := sp.peek(testDest, name)
			// Let it write a varying number of records before the kill.
			for seen < int64(i*100*stride) {
				seen, _ = sp.peek(testDest, name)
			}
			if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = h.cmd.Wait()
			c, err := sp.Claim(testDest, name)
			if err != nil {
				t.Fatalf("Claim after SIGKILL = %v", err)
			}
			defer c.Release()
			if off := c.Offset(); off < seen || off%stride != 0 {
				t.Errorf("offset after SIGKILL = %d, want a multiple of %d >= %d", off, stride, seen)
			}
		})
	}
}

func TestDecodeRecord(t *testing.T) {
	slot := func(seq uint64, off int64) []byte {
		b := make([]byte, slotSize)
		encodeSlot(b, seq, off)
		return b
	}
	rec := func(a, b []byte) []byte { return append(append([]byte{}, a...), b...) }
	torn := slot(3, 300)
	copy(torn[20:], "\x00\x00\x00\x00\x00")
	tests := []struct {
		name string
		rec  []byte
		want int64
	}{
		{"as Expect writes it", slot(0, 0), 0},
		{"slot 1 newer", rec(slot(0, 0), slot(1, 100)), 100},
		{"slot 0 newer", rec(slot(2, 200), slot(1, 100)), 200},
		{"new slot torn", rec(torn[:], slot(2, 200)), 200},
		{"new slot half written", rec(slot(4, 400)[:slotSize], append(slot(5, 500)[:20], make([]byte, slotSize-20)...)), 400},
		{"nothing valid", make([]byte, recordSize), 0},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		if got, _ := decodeRecord(tt.rec); got != tt.want {
			t.Errorf("%s: decodeRecord = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// FuzzDecodeRecord: any cursor file content decodes without panicking, to
// an offset that is 0 or one a valid slot holds; a valid slot written over
// either slot of the content wins when its sequence number is higher.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(make([]byte, recordSize), uint64(1), int64(100))
	b := make([]byte, recordSize)
	encodeSlot(b, 7, 4096)
	f.Add(b, uint64(8), int64(8192))
	f.Fuzz(func(t *testing.T, rec []byte, seq uint64, off int64) {
		got, gotSeq := decodeRecord(rec)
		if got < 0 {
			t.Fatalf("decodeRecord(%q) = %d", rec, got)
		}
		if off < 0 || seq <= gotSeq || len(rec) < recordSize {
			return
		}
		w := append([]byte{}, rec...)
		encodeSlot(w[(seq%2)*slotSize:], seq, off)
		if got, _ := decodeRecord(w); got != off {
			t.Errorf("after writing slot %d (seq %d, offset %d) over %q: offset %d", seq%2, seq, off, rec, got)
		}
	})
}

// TestRefusedIsKept: what a destination refused of a journal is counted
// across processes (the cursor file), reported while pending and in the
// "delivered" marker (state Refused), and a drop's reason replaces it.
func TestRefusedIsKept(t *testing.T) {
	sp, name, size := expected(t, 3)
	c, err := sp.Claim(testDest, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Refused(2, "400: bad\nrequest"); err != nil {
		t.Fatal(err)
	}
	if err := c.Advance(10); err != nil {
		t.Fatal(err)
	}
	if err := c.Release(); err != nil {
		t.Fatal(err)
	}
	if st, err := sp.Status(name); err != nil || st[0].State != Pending || st[0].Refused != 2 || st[0].Why != "400: bad request" {
		t.Fatalf("Status() = %+v, %v; want pending with 2 refused", st, err)
	}
	c, err = sp.Claim(testDest, name) // as another process would
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Refused(3, "413: too large"); err != nil {
		t.Fatal(err)
	}
	if err := c.Advance(size); err != nil {
		t.Fatal(err)
	}
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	if st, err := sp.Status(name); err != nil || st[0].State != Refused || st[0].Refused != 5 || st[0].Why != "400: bad request" || st[0].Offset != size {
		t.Fatalf("Status() = %+v, %v; want refused, 5 records, the first reason", st, err)
	}

	sp, name, _ = expected(t, 1)
	c, err = sp.Claim(testDest, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Refused(1, strings.Repeat("long reason ", 100)); err != nil {
		t.Fatal(err)
	}
	if err := c.Drop(1, "spool over its size bound"); err != nil {
		t.Fatal(err)
	}
	if st, err := sp.Status(name); err != nil || st[0].State != Dropped || st[0].Why != "spool over its size bound" {
		t.Fatalf("Status() = %+v, %v; want dropped with its own reason", st, err)
	}
}
