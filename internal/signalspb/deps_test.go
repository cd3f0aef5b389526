package signalspb

import (
	"os/exec"
	"strings"
	"testing"
)

// TestProductBinaryHasNoProtobufRuntime keeps the protobuf runtime (and
// signalspbgen) out of the graphsignal binary: of google.golang.org/protobuf
// only protowire and the internal packages it needs may be linked.
func TestProductBinaryHasNoProtobufRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	const binary = "github.com/graphsignal/graphsignal/cmd/graphsignal"
	// What protowire itself needs is allowed, whatever it is in this version.
	allowed := map[string]bool{}
	pw, err := exec.Command(goTool, "list", "-deps", "google.golang.org/protobuf/encoding/protowire").Output()
	if err != nil {
		t.Fatalf("go list protowire: %v", err)
	}
	for _, p := range strings.Fields(string(pw)) {
		allowed[p] = true
	}
	deps, err := exec.Command(goTool, "list", "-e", "-deps", binary).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", binary, err)
	}
	found := false
	for _, p := range strings.Fields(string(deps)) {
		if p == "github.com/graphsignal/graphsignal/internal/signalspb" {
			found = true
		}
		if (strings.HasPrefix(p, "google.golang.org/protobuf/") || strings.Contains(p, "signalspbgen")) && !allowed[p] {
			t.Errorf("%s links %s", binary, p)
		}
	}
	if !found {
		t.Logf("%s does not import signalspb (yet); checked its other dependencies", binary)
	}
}
