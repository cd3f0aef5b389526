package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/journal"
)

// firstLineEnd returns the offset just past the first line of journal name.
func firstLineEnd(t *testing.T, sp *Dir, name string) int64 {
	t.Helper()
	r, err := journal.Open(sp.JournalDir(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := r.Read(0, 1)
	if err != nil || len(c.Batches) != 1 {
		t.Fatalf("Read = %+v, %v", c, err)
	}
	return c.Next
}

func TestTrim(t *testing.T) {
	now := time.Now()
	names := []string{"0001-a", "0002-b", "0003-c"}
	const batches = 4 // one record each
	tests := []struct {
		name     string
		old      []string // journals last written 8 days ago
		maxBytes func(sizes []int64) int64
		acked    string // journal acknowledged up to its first line
		held     string // journal whose cursor another claim holds
		orphan   bool   // a cursor whose journal never appeared
		dropped  []string
		records  int64
	}{
		{name: "within bounds"},
		{name: "by age", old: []string{"0001-a", "0003-c"},
			dropped: []string{"0001-a", "0003-c"}, records: 2 * batches},
		{name: "by age, partly acknowledged", old: []string{"0001-a"}, acked: "0001-a",
			dropped: []string{"0001-a"}, records: batches - 1},
		{name: "by age, held", old: []string{"0001-a"}, held: "0001-a"},
		{name: "by size, oldest first", maxBytes: func(s []int64) int64 { return s[1] + s[2] },
			dropped: []string{"0001-a"}, records: batches},
		{name: "by size, acknowledged bytes do not count", acked: "0001-a",
			maxBytes: func(s []int64) int64 { return s[0] + s[1] + s[2] - 1 }},
		{name: "by size, held one skipped", held: "0001-a",
			maxBytes: func(s []int64) int64 { return s[0] + s[2] },
			dropped:  []string{"0002-b"}, records: batches},
		{name: "by size, down to one", maxBytes: func(s []int64) int64 { return 1 },
			dropped: names, records: 3 * batches},
		{name: "orphan cursor", orphan: true, dropped: []string{"0000-gone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			var sizes []int64
			for _, n := range names {
				if err := Open(data).Expect(testDest, n); err != nil {
					t.Fatal(err)
				}
				sizes = append(sizes, writeJournal(t, Open(data), n, batches))
			}
			var opts []Option
			opts = append(opts, WithClock(func() time.Time { return now }))
			if tt.maxBytes != nil {
				opts = append(opts, WithMaxBytes(tt.maxBytes(sizes)))
			}
			sp := Open(data, opts...)
			for _, n := range tt.old {
				old := now.Add(-8 * 24 * time.Hour)
				if err := os.Chtimes(sp.journalPath(n), old, old); err != nil {
					t.Fatal(err)
				}
			}
			if tt.orphan {
				if err := sp.Expect(testDest, "0000-gone"); err != nil {
					t.Fatal(err)
				}
				old := now.Add(-time.Hour)
				_ = os.Chtimes(filepath.Join(sp.destDir(testDest), "0000-gone"+extCursor), old, old)
			}
			if tt.acked != "" {
				c, err := sp.Claim(testDest, tt.acked)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Advance(firstLineEnd(t, sp, tt.acked)); err != nil {
					t.Fatal(err)
				}
				_ = c.Release()
			}
			if tt.held != "" {
				c, err := sp.Claim(testDest, tt.held)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Release()
			}
			got, err := sp.Trim(testDest)
			if err != nil {
				t.Fatalf("Trim = %v", err)
			}
			if got != tt.records {
				t.Errorf("Trim dropped %d records, want %d", got, tt.records)
			}
			if n, err := sp.Dropped(testDest); n != tt.records || err != nil {
				t.Errorf("Dropped = %d, %v; want %d", n, err, tt.records)
			}
			pending, _ := sp.Pending(testDest)
			for _, n := range names {
				want := !slices.Contains(tt.dropped, n)
				if slices.Contains(pending, n) != want {
					t.Errorf("%s pending = %v, want %v", n, !want, want)
				}
			}
			for _, n := range tt.dropped {
				st, err := sp.Status(n)
				if err != nil || len(st) != 1 || st[0].State != Dropped || st[0].Why == "" {
					t.Errorf("Status(%s) = %+v, %v; want dropped with a reason", n, st, err)
				}
			}
		})
	}
}

func TestStatus(t *testing.T) {
	data := t.TempDir()
	sp := Open(data)
	name := "0001-run"
	for _, d := range []string{testDest, otherDest} {
		if err := sp.Expect(d, name); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.Expect(otherDest, "0002-other"); err != nil {
		t.Fatal(err)
	}
	size := writeJournal(t, sp, name, 3)
	writeJournal(t, sp, "0002-other", 1)
	if dests, err := sp.Destinations(); err != nil || !slices.Equal(dests, []string{otherDest, testDest}) {
		t.Errorf("Destinations = %q, %v", dests, err)
	}
	if err := deliver(sp, otherDest, name, size); err != nil {
		t.Fatal(err)
	}
	first := firstLineEnd(t, sp, name)
	c, err := sp.Claim(testDest, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Advance(first); err != nil {
		t.Fatal(err)
	}
	_ = c.Release()
	if off, err := sp.Acknowledged(testDest, name); off != first || err != nil {
		t.Errorf("Acknowledged = %d, %v; want %d", off, err, first)
	}
	if _, err := sp.Acknowledged(otherDest, name); !errors.Is(err, ErrNotPending) {
		t.Errorf("Acknowledged of a delivered journal = %v, want ErrNotPending", err)
	}
	c, err = sp.Claim(otherDest, "0002-other")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Drop(5, "spool full"); err != nil {
		t.Fatal(err)
	}
	got, err := sp.Status(name)
	if err != nil {
		t.Fatal(err)
	}
	want := []DeliveryStatus{
		{Destination: otherDest, State: Delivered, Offset: size, DroppedRecords: 5},
		{Destination: testDest, State: Pending, Offset: first, Size: size},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Status(%s) (-want +got):\n%s", name, diff)
	}
	got, _ = sp.Status("0002-other")
	want = []DeliveryStatus{{Destination: otherDest, State: Dropped, Why: "spool full", DroppedRecords: 5}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Status(0002-other) (-want +got):\n%s", diff)
	}
	if got, _ := sp.Status("0003-unknown"); len(got) != 0 {
		t.Errorf("Status of a journal never expected = %+v, want none", got)
	}
	if dests, err := sp.Destinations(); err != nil || !slices.Equal(dests, []string{testDest}) {
		t.Errorf("Destinations = %q, %v; want only the one with a pending journal", dests, err)
	}
}

// TestPruneDailyTrimsEveryDestination: the daily retention applies the
// spool bounds to every destination with something pending, also one that
// no run configures any more, whose journals would otherwise wait forever.
func TestPruneDailyTrimsEveryDestination(t *testing.T) {
	data := t.TempDir()
	sp := Open(data)
	const name = "0001-a"
	if err := sp.Expect(testDest, name); err != nil {
		t.Fatal(err)
	}
	writeJournal(t, sp, name, 2)
	old := time.Now().Add(-8 * 24 * time.Hour)
	if err := os.Chtimes(sp.journalPath(name), old, old); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, data)
	sp.PruneDaily(context.Background(), st)
	if got, err := sp.Dropped(testDest); err != nil || got != 2 {
		t.Errorf("Dropped after PruneDaily = %d, %v; want 2", got, err)
	}
	if p, _ := sp.Pending(testDest); len(p) != 0 {
		t.Errorf("Pending after PruneDaily = %v, want none", p)
	}
}
