package procmon

import (
	"os/exec"
	"testing"
	"time"
)

// TestSampleRootReadsOnlyTheRoot checks that SampleRoot counts the root
// alone and keeps the cumulative totals of earlier full passes.
func TestSampleRootReadsOnlyTheRoot(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 5 & i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	s, err := New(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	var full Sample
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if full, err = s.Sample(); err != nil {
			t.Fatal(err)
		}
		if full.Processes >= 2 {
			break
		}
	}
	if full.Processes < 2 {
		t.Fatalf("full pass saw %d processes, want the shell and its sleep", full.Processes)
	}
	root, err := s.SampleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if root.Processes != 1 {
		t.Errorf("SampleRoot saw %d processes, want 1", root.Processes)
	}
	if root.CPUUser+root.CPUSystem < full.CPUUser+full.CPUSystem {
		t.Errorf("SampleRoot CPU %v went below the full pass's %v", root.CPUUser+root.CPUSystem, full.CPUUser+full.CPUSystem)
	}
	if again, err := s.Sample(); err != nil || again.Processes < 2 {
		t.Errorf("the pass after SampleRoot = %d processes, %v; want a full pass again", again.Processes, err)
	}
}
