package journal

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// readAll reads the journal from off to its end and returns the values of
// the points read, the offset reached and the lines skipped.
func readAll(t *testing.T, dir string, off int64) (values []float64, next int64, skipped int) {
	t.Helper()
	r, err := Open(dir, "j")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		c, err := r.Read(off, 4096)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range c.Batches {
			for _, m := range b.Metrics {
				values = append(values, m.Value)
			}
		}
		skipped += c.Skipped
		off = c.Next
		if c.EOF {
			return values, off, skipped
		}
	}
}

// TestReclaim: a journal whose consumed start is reclaimed keeps taking
// batches past its bound (which counts only what it holds), holds on disk
// about what was not consumed, and reads on from any offset, the reclaimed
// part passed over without damage.
func TestReclaim(t *testing.T) {
	dir := t.TempDir()
	const bound = 160 << 10
	w, err := Create(dir, "j", bound+runSpanReserve)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var consumed int64
	want := 0 // points appended so far
	// 40 rounds of about 22 KB: some five times the bound.
	for round := range 40 {
		for range 16 {
			if err := w.Append(metricBatch(want, 10)); err != nil {
				t.Fatalf("round %d: Append() = %v", round, err)
			}
			want += 10
		}
		values, next, skipped := readAll(t, dir, consumed)
		if skipped != 0 || len(values) != 160 {
			t.Fatalf("round %d: read %d points (%d lines skipped) from %d, want the 160 new ones", round, len(values), skipped, consumed)
		}
		consumed = next
		if _, err := Reclaim(dir, "j", consumed, 0); err != nil {
			t.Fatalf("Reclaim() = %v", err)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "j"+Ext))
	if err != nil {
		t.Fatal(err)
	}
	if held := fi.Sys().(*syscall.Stat_t).Blocks * 512; fi.Size() < 10*bound/2 || held > bound {
		t.Errorf("size %d, %d bytes on disk: want a file far past the bound that holds less than it (%d)", fi.Size(), held, bound)
	}
	// A reader from the start (a destination priming its state) sees the
	// first line, then the lines not reclaimed, none damaged.
	if err := w.Append(metricBatch(want, 10)); err != nil {
		t.Fatal(err)
	}
	want += 10
	values, _, skipped := readAll(t, dir, 0)
	if skipped != 0 || len(values) < 20 || len(values) >= want {
		t.Fatalf("read from 0: %d of %d points, %d lines skipped; want the first line and the lines not reclaimed", len(values), want, skipped)
	}
	for i, v := range values[:10] {
		if v != float64(i) {
			t.Fatalf("read from 0: first line %v, want the journal's first line", values[:10])
		}
	}
	// The rest: whole samples up to the last one, none missing.
	rest := values[10:]
	first := int(rest[0]) / 1000
	for i, v := range rest {
		if want := float64((first+i/10)*1000 + i%10); v != want {
			t.Fatalf("read from 0: point %d after the first line = %v, want %v", i, v, want)
		}
	}
	if last := rest[len(rest)-1]; last != float64((want-10)*1000+9) {
		t.Errorf("read from 0 ends at %v, want the last point appended", last)
	}
}

// TestReclaimKeeps: the first line and the lines within keep bytes of
// upTo stay; what is between is reclaimed and reported.
func TestReclaimKeeps(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, "j", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := range 200 {
		if err := w.Append(metricBatch(i, 10)); err != nil {
			t.Fatal(err)
		}
	}
	_, end, _ := readAll(t, dir, 0)
	const keep = 20 << 10
	hole, err := Reclaim(dir, "j", end, keep)
	if err != nil {
		t.Fatal(err)
	}
	if hole < end/2 || hole > end-keep {
		t.Errorf("Reclaim() = %d bytes, want most of the %d bytes less %d kept", hole, end, keep)
	}
	values, _, skipped := readAll(t, dir, 0)
	kept := len(values)/10 - 1 // samples after the first line
	if skipped != 0 || values[0] != 0 || kept < keep/1500 || kept > 2*keep/1000 {
		t.Errorf("read from 0: %d points, %d skipped, first %v; want the first line and about %d bytes of lines", len(values), skipped, values[0], keep)
	}
	if values[len(values)-1] != float64(199*1000+9) {
		t.Errorf("last point %v, want the last appended", values[len(values)-1])
	}
}

// TestBoundWithoutReclaim: without Reclaim the bound holds as before.
func TestBoundWithoutReclaim(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, "j", 64<<10+runSpanReserve)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := range 1000 {
		if err := w.Append(metricBatch(i, 10)); err != nil {
			if i < 40 {
				t.Fatalf("Append() #%d = %v, before the bound", i, err)
			}
			return
		}
	}
	t.Fatal("Append() never reported the journal full")
}
