package signalspb

import (
	"os/exec"
	"strings"
	"testing"
)

// TestProductBinaryHasNoProtobufRuntime keeps google.golang.org/protobuf (and
// signalspbgen) out of the graphsignal binary altogether: even protowire
// costs every start of the binary the package initialisation of
// protobuf's internal/detrand, which reads and hashes the executable.
// internal/wire is the wire-format codec the binary uses instead.
func TestProductBinaryHasNoProtobufRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	const binary = "github.com/graphsignal/graphsignal/cmd/graphsignal"
	deps, err := exec.Command(goTool, "list", "-e", "-deps", binary).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", binary, err)
	}
	found := false
	for _, p := range strings.Fields(string(deps)) {
		if p == "github.com/graphsignal/graphsignal/internal/signalspb" {
			found = true
		}
		if strings.HasPrefix(p, "google.golang.org/protobuf/") || strings.Contains(p, "signalspbgen") {
			t.Errorf("%s links %s", binary, p)
		}
	}
	if !found {
		t.Logf("%s does not import signalspb (yet); checked its other dependencies", binary)
	}
}
