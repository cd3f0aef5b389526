package launcher

import (
	"os/exec"
	"syscall"
	"testing"
)

// The suspend key's notice and Wait's own report of the same stop (the
// second arriving after Wait took the first) make one suspension; a stop
// after the group was continued makes another.
func TestPTYStopNoticesOfOneStop(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pgrp := cmd.Process.Pid

	p := &ptySession{stopped: make(chan struct{}, 1)}
	if p.takeStop() {
		t.Fatal("takeStop() = true before any stop")
	}
	p.stopGroup(pgrp) // the suspend key
	<-p.stopped
	if !p.takeStop() {
		t.Fatal("takeStop() = false after the suspend key")
	}
	p.notifyStopped()     // Wait's report of the same stop, while suspended
	p.continueGroup(pgrp) // fg
	if p.takeStop() {
		t.Fatal("takeStop() = true for a stop already handled: graphsignal would suspend twice")
	}
	p.stopGroup(pgrp) // a new Ctrl-Z after fg
	if !p.takeStop() {
		t.Fatal("takeStop() = false for a new stop after the group was continued")
	}
	p.continueGroup(pgrp)
}
