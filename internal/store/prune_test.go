package store

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func sessionIDs(t *testing.T, s *Store) []string {
	t.Helper()
	sums, err := s.Sessions(context.Background(), SessionFilter{})
	if err != nil {
		t.Fatalf("Sessions() = %v", err)
	}
	var ids []string
	for _, sum := range sums {
		ids = append(ids, sum.ID)
	}
	return ids
}

func count(t *testing.T, s *Store, query string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestPruneByAge(t *testing.T) {
	ctx := context.Background()
	day := 24 * time.Hour
	now := t0.Add(45 * day)
	s := openStore(t, t.TempDir(), WithClock(func() time.Time { return now }))
	old := runSpan("old", 0, time.Hour)
	// Started long ago but ended recently: kept.
	long := runSpan("long", 5*day, 35*day)
	recent := runSpan("recent", 40*day, time.Hour)
	killed := runSpan("killed", 10*day, 0) // never ended, 35 days old: kept until EndAbandoned ends it
	orphanOld := telemetry.Metric{Name: "host.memory.usage", Kind: telemetry.Gauge, Time: t0, Value: 1}
	orphanNew := telemetry.Metric{Name: "host.memory.usage", Kind: telemetry.Gauge, Time: now.Add(-day), Value: 1}
	b := telemetry.Batch{
		Spans:   []telemetry.Span{old, long, recent, killed, childSpan(&old, "generate", 0, time.Second)},
		Metrics: append(points(old.TraceID, "cpu", 10), orphanOld, orphanNew),
		Scores:  []telemetry.Score{{Name: "fb", Value: 1, Tags: telemetry.Tags{telemetry.TagSessionID: "old"}, Time: t0}},
		Logs:    []telemetry.Log{{Level: "info", Message: "x", TraceID: old.TraceID, Time: t0}},
	}
	b.Metrics = append(b.Metrics, points(recent.TraceID, "cpu", 10)...)
	write(t, s, b)

	if err := s.Prune(ctx, 30*day, 0); err != nil {
		t.Fatalf("Prune() = %v", err)
	}
	if diff := cmp.Diff([]string{"recent", "killed", "long"}, sessionIDs(t, s)); diff != "" {
		t.Errorf("sessions after Prune (-want +got):\n%s", diff)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM metrics`:                10 + 1, // recent's points and the new orphan
		`SELECT count(*) FROM spans WHERE is_run = 0`: 0,
		`SELECT count(*) FROM scores`:                 0,
		`SELECT count(*) FROM logs`:                   0,
	} {
		if got := count(t, s, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
}

func TestPruneBySize(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	var ids []string
	for i := range 10 {
		run := runSpan(string(rune('a'+i)), time.Duration(i)*time.Hour, time.Minute)
		write(t, s, batchOf(run, 800))
		ids = append([]string{run.Tags[telemetry.TagSessionID]}, ids...) // newest first
	}
	if _, err := s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	before := fileSize(t, s.Path())
	limit := before / 3
	if err := s.Prune(ctx, 0, limit); err != nil {
		t.Fatalf("Prune() = %v", err)
	}
	after := fileSize(t, s.Path())
	if after > limit {
		t.Errorf("file size after Prune = %d, want <= %d (was %d)", after, limit, before)
	}
	got := sessionIDs(t, s)
	if len(got) == 0 || len(got) >= len(ids) {
		t.Fatalf("sessions after Prune = %v, want some but not all of %v", got, ids)
	}
	if diff := cmp.Diff(ids[:len(got)], got); diff != "" {
		t.Errorf("Prune kept (-want newest +got):\n%s", diff)
	}

	// A limit below one session keeps the newest.
	if err := s.Prune(ctx, 0, 1); err != nil {
		t.Fatalf("Prune() = %v", err)
	}
	if diff := cmp.Diff(ids[:1], sessionIDs(t, s)); diff != "" {
		t.Errorf("Prune(1 byte) kept (-want +got):\n%s", diff)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	var total int64
	for _, p := range []string{path, path + "-wal"} {
		fi, err := os.Stat(p)
		if err != nil {
			if os.IsNotExist(err) {
				continue
			}
			t.Fatal(err)
		}
		total += fi.Size()
	}
	return total
}
