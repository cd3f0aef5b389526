package ipc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// bindIn binds a server whose private directory goes in parent.
func bindIn(t *testing.T, parent string) *Server {
	t.Helper()
	srv, err := Bind(context.Background(), Config{
		TraceID: testTrace, SpanID: testSpan, Consumer: &collector{},
		Now: func() time.Time { return testNow }, Dir: parent,
	})
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	return srv
}

// lockedByProcess makes dir locked by a real process of its own (flock
// holds across fork/exec), and returns that process, to be killed.
func lockedByProcess(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), dir)
	cmd := exec.Command("sleep", "60")
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close() // the lock is now held by the process alone
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

// TestSweepRemovesDirsOfRunsThatAreGone covers a run's sweep of its socket
// parent: a directory whose run was killed is removed, whatever else is
// there is left alone.
func TestSweepRemovesDirsOfRunsThatAreGone(t *testing.T) {
	parent := t.TempDir()
	mk := func(name string) string {
		p := filepath.Join(parent, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "intake.sock"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A run between its mkdir and its lock: not locked yet, not swept.
	creating := filepath.Join(parent, socketDirPrefix+"creating")
	if err := os.Mkdir(creating, creatingMode); err != nil {
		t.Fatal(err)
	}
	killed := mk(socketDirPrefix + "killed")
	owner := lockedByProcess(t, killed)
	if err := owner.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = owner.Wait()
	neverLocked := mk(socketDirPrefix + "never")
	live := mk(socketDirPrefix + "live")
	lockedByProcess(t, live)
	older := mk("graphsignal-0123456789") // an earlier version's: no lock to tell
	other := mk("unrelated")
	target := mk("target")
	link := filepath.Join(parent, socketDirPrefix+"link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}

	srv := bindIn(t, parent)
	own := filepath.Dir(srv.Addr())
	if _, err := os.Stat(own); err != nil {
		t.Fatalf("own directory: %v", err)
	}
	if err := srv.Close(); err != nil { // joins the sweep
		t.Fatalf("Close: %v", err)
	}
	for _, tt := range []struct {
		path string
		want bool
	}{
		{killed, false}, {neverLocked, false}, {own, false},
		{live, true}, {creating, true}, {older, true}, {other, true}, {target, true}, {link, true},
	} {
		_, err := os.Lstat(tt.path)
		if got := err == nil; got != tt.want {
			t.Errorf("after the sweep, %s exists = %v, want %v", filepath.Base(tt.path), got, tt.want)
		}
	}
}

// TestConcurrentRunsKeepTheirDirs starts runs at once in one parent, each
// sweeping it: none loses its directory to another's sweep.
func TestConcurrentRunsKeepTheirDirs(t *testing.T) {
	parent := t.TempDir()
	for round := range 20 {
		const n = 8
		srvs := make([]*Server, n)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				srvs[i], errs[i] = Bind(context.Background(), Config{
					TraceID: testTrace, SpanID: testSpan, Consumer: &collector{}, Dir: parent})
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("round %d: Bind: %v", round, err)
		}
		for _, s := range srvs {
			if _, err := os.Stat(s.Addr()); err != nil {
				t.Errorf("round %d: socket of a live run: %v", round, err)
			}
		}
		for _, s := range srvs {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Errorf("%d directories left after every run closed", len(left))
	}
}
