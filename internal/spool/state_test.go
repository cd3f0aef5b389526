package spool

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSaveState: a state is found at its offset only, survives being
// replaced, is refused when damaged, and goes when the cursor is retired.
func TestSaveState(t *testing.T) {
	d := Open(t.TempDir())
	const dest = "Graphsignal API http://x"
	if err := d.Expect(dest, "run"); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.LoadState(dest, "run", SenderState, 10); ok {
		t.Fatal("a state before any was saved")
	}
	for _, st := range []string{`{"a":1}`, `{"a":2}`} {
		if err := d.SaveState(dest, "run", SenderState, 2<<20, []byte(st)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		offset int64
		want   string
		ok     bool
	}{{2 << 20, `{"a":2}`, true}, {2<<20 + 1, "", false}, {0, "", false}}
	for _, tt := range tests {
		got, ok := d.LoadState(dest, "run", SenderState, tt.offset)
		if ok != tt.ok || string(got) != tt.want {
			t.Errorf("LoadState at %d = %q, %v; want %q, %v", tt.offset, got, ok, tt.want, tt.ok)
		}
	}
	path := filepath.Join(d.destDir(dest), "run"+string(SenderState))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.LoadState(dest, "run", SenderState, 2<<20); ok {
		t.Error("a damaged state was loaded")
	}
	if _, ok := d.LoadState(dest, "../run", SenderState, 2<<20); ok {
		t.Error("a state of a bad journal name was loaded")
	}

	// Accepted parts are a kind of their own, beside the sender's state.
	if err := d.SaveState(dest, "run", AcceptedParts, 7, []byte("parts")); err != nil {
		t.Fatal(err)
	}
	if got, ok := d.LoadState(dest, "run", AcceptedParts, 7); !ok || string(got) != "parts" {
		t.Errorf("LoadState(AcceptedParts, 7) = %q, %v", got, ok)
	}
	if _, ok := d.LoadState(dest, "run", SenderState, 7); ok {
		t.Error("accepted parts loaded as the sender's state")
	}
	partsPath := filepath.Join(d.destDir(dest), "run"+string(AcceptedParts))

	c, err := d.Claim(dest, "run")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Drop(0, "test"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, partsPath} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left after the cursor was retired: %v", filepath.Base(p), err)
		}
	}
}
