package launcher

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// testKeeper is the argv of this test binary as a stderr keeper.
func testKeeper(t *testing.T) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{exe, keeperArg}
}

// TestStderrKeeper runs a child whose stderr is a pipe (teed) with the
// keeper, and reads the pipe to its end: what the child and the processes
// it left behind write all arrives, once, in order, and the pipe ends (the
// keeper does not hold it open) once they are done.
func TestStderrKeeper(t *testing.T) {
	for _, tt := range []struct {
		name   string
		script string
		want   string
		tail   string
	}{
		{"the child alone: the keeper is stopped", "echo one >&2; echo two >&2", "one\ntwo\n", "one\ntwo"},
		{"a background writer after the child's exit: the keeper copies it",
			`echo early >&2; (read x < "$FIFO"; echo late >&2) &`, "early\nlate\n", "early"},
		{"nothing written", "true", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fifo := t.TempDir() + "/go"
			if err := unix.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			// w is graphsignal's stderr: open until graphsignal is done.
			c, err := Start(Config{Args: []string{"/bin/sh", "-c", tt.script}, Env: []string{"FIFO=" + fifo},
				Stderr: w, StderrTailBytes: 1 << 10, StderrTailLines: 5, StderrKeeper: testKeeper(t)})
			if err != nil {
				w.Close()
				t.Fatalf("Start: %v", err)
			}
			defer c.Release()
			_, err = c.Wait()
			w.Close()
			if err != nil {
				t.Fatalf("Wait: %v", err)
			}
			if got := c.StderrTail(); got.Mode != StderrPipe || got.Text != tt.tail {
				t.Errorf("StderrTail() = %+v, want mode %q text %q", got, StderrPipe, tt.tail)
			}
			// graphsignal is done with the tee: the background writer, if
			// any, may go on now.
			if strings.Contains(tt.script, "FIFO") {
				f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.Close()
			}
			got := make(chan string, 1)
			go func() {
				b, _ := io.ReadAll(r)
				got <- string(b)
			}()
			select {
			case g := <-got:
				if g != tt.want {
					t.Errorf("stderr read to its end = %q, want %q", g, tt.want)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("stderr did not end: something still holds it")
			}
		})
	}
}

// TestKeeperSparesBrokenPipe: when stderr's reader goes away, the child's
// writes fail with EPIPE as they would directly; the keeper does not keep
// the tee open for nobody.
func TestKeeperSparesBrokenPipe(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// The child writes until a write fails, then exits 3.
	defer w.Close()
	c, err := Start(Config{Args: []string{"/bin/sh", "-c", `trap "" PIPE; while echo x >&2; do :; done; exit 3`},
		Env: []string{}, Stderr: w, StderrTailBytes: 1 << 10, StderrTailLines: 5, StderrKeeper: testKeeper(t)})
	if err != nil {
		r.Close()
		t.Fatalf("Start: %v", err)
	}
	defer c.Release()
	buf := make([]byte, 1)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	r.Close()
	e, err := c.Wait()
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if e.Code != 3 {
		t.Errorf("exit code = %d, want 3 (a write failed with EPIPE)", e.Code)
	}
}

func TestIndexKey(t *testing.T) {
	keys := [3]byte{3, 0x1c, 0} // suspend disabled (_POSIX_VDISABLE)
	for _, tt := range []struct {
		in   string
		on   bool
		want int
	}{
		{"abc", true, -1},
		{"ab\x03c", true, 2},
		{"\x1c", true, 0},
		{"a\x00b", true, -1}, // a NUL is not the disabled key
		{"a\x1ab", true, -1},
		{"ab\x03c", false, -1},
	} {
		if got := indexKey([]byte(tt.in), keys, tt.on); got != tt.want {
			t.Errorf("indexKey(%q, on=%v) = %d, want %d", tt.in, tt.on, got, tt.want)
		}
	}
}
