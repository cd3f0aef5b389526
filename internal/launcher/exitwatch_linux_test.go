package launcher

import (
	"os/exec"
	"testing"
	"time"
)

func TestWatchExit(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	w, err := watchExit(cmd.Process.Pid)
	if err != nil {
		t.Skipf("no pidfd on this kernel: %v", err)
	}
	defer w.close()
	select {
	case err := <-w.done:
		t.Fatalf("done before the child exited: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if exited(cmd.Process.Pid) {
		t.Fatal("exited() = true for a running child")
	}
	_ = cmd.Process.Kill()
	select {
	case err := <-w.done:
		if err != nil {
			t.Fatalf("done = %v, want nil once the child exited", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no report within 10s of the child's exit")
	}
	if !exited(cmd.Process.Pid) {
		t.Fatal("exited() = false for an exited, unreaped child")
	}
}

func TestWatchExitClosed(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	w, err := watchExit(cmd.Process.Pid)
	if err != nil {
		t.Skipf("no pidfd on this kernel: %v", err)
	}
	w.close()
	select {
	case err := <-w.done:
		if err == nil {
			t.Fatal("done = nil after close with the child still running; want an error (Wait then falls back to SIGCHLD)")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the watch did not end within 10s of close")
	}
}
