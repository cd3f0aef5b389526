package spool

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func runBatch(session string, end time.Time) telemetry.Batch {
	sp := telemetry.Span{
		TraceID: telemetry.NewTraceID(), SpanID: telemetry.NewSpanID(), Name: "prog",
		Start: time.Now().Add(-time.Second), End: end,
		Tags:       telemetry.Tags{telemetry.TagSessionID: session},
		Attributes: map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun},
	}
	return telemetry.Batch{Spans: []telemetry.Span{sp}}
}

func openStore(t *testing.T, data string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestImportAll: final journals are imported once and removed, live ones
// imported up to their last record and kept, damaged lines counted.
func TestImportAll(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	sp := Open(data)
	dir := sp.JournalDir()

	done, err := journal.Create(dir, "0001-done", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := done.Append(runBatch("s-done", time.Now())); err != nil {
		t.Fatal(err)
	}
	_ = done.Close()
	// A killed writer's torn last line.
	f, _ := os.OpenFile(filepath.Join(dir, "0001-done"+journal.Ext), os.O_WRONLY|os.O_APPEND, 0)
	_, _ = f.WriteString(`{"spans":[{"na`)
	_ = f.Close()

	live, err := journal.Create(dir, "0002-live", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	run := runBatch("s-live", time.Time{})
	if err := live.Append(run); err != nil {
		t.Fatal(err)
	}

	st := openStore(t, data)
	rep, err := sp.ImportAll(ctx, st)
	if err != nil || rep.Damaged != 1 || len(rep.Unreadable) != 0 {
		t.Fatalf("ImportAll = %+v, %v; want the torn line counted", rep, err)
	}
	names, _ := journal.List(dir)
	if len(names) != 1 || names[0] != "0002-live" {
		t.Errorf("journals left = %v, want only the live one", names)
	}
	// The live run ends; importing again adds its end, not a second run.
	run.Spans[0].End = time.Now()
	if err := live.Append(run); err != nil {
		t.Fatal(err)
	}
	_ = live.Close()
	rep, err = sp.ImportAll(ctx, st)
	if err != nil || rep.Damaged != 0 || len(rep.Unreadable) != 0 {
		t.Fatalf("ImportAll = %+v, %v", rep, err)
	}
	if names, _ := journal.List(dir); len(names) != 0 {
		t.Errorf("journals left = %v, want none", names)
	}
	for _, s := range []string{"s-done", "s-live"} {
		d, err := st.Session(ctx, s)
		if err != nil {
			t.Fatalf("Session(%s) = %v", s, err)
		}
		if len(d.Runs) != 1 || d.Runs[0].InProgress() {
			t.Errorf("session %s: %d runs, in progress %v; want 1 ended run", s, len(d.Runs), d.Runs[0].InProgress())
		}
	}
}

// writeJournals leaves n final journals of one finished run each in data.
func writeJournals(t *testing.T, data string, n int) {
	t.Helper()
	for i := range n {
		w, err := journal.Create(Open(data).JournalDir(), fmt.Sprintf("%04d-run", i), 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Append(runBatch(fmt.Sprintf("s%d", i), time.Now())); err != nil {
			t.Fatal(err)
		}
		_ = w.Close()
	}
}

// TestIndexerBacklog: with backlogJournals waiting, the indexer starts at
// once and Stop waits for the import; with the database locked by another
// process, Stop does not wait for it and the journals stay.
func TestIndexerBacklog(t *testing.T) {
	ctx := context.Background()
	t.Run("imports before stop returns", func(t *testing.T) {
		data := t.TempDir()
		writeJournals(t, data, backlogJournals)
		ix := Open(data).StartIndexer(ctx, time.Hour, time.Hour, func(err error) { t.Errorf("indexer: %v", err) })
		stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		ix.Stop(stopCtx)
		if names, _ := journal.List(Open(data).JournalDir()); len(names) != 0 {
			t.Errorf("%d journals left after a backlog import", len(names))
		}
	})
	t.Run("a locked database does not hold stop", func(t *testing.T) {
		data := t.TempDir()
		st, err := store.Open(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		_ = st.Close()
		db, err := sql.Open("sqlite", filepath.Join(data, store.FileName))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			t.Fatal(err)
		}
		defer conn.ExecContext(ctx, "ROLLBACK") //nolint:errcheck
		writeJournals(t, data, backlogJournals)
		ix := Open(data).StartIndexer(ctx, time.Hour, time.Hour, func(err error) { t.Errorf("indexer: %v", err) })
		stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		start := time.Now()
		ix.Stop(stopCtx)
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("stop took %v with the database locked", d)
		}
		if names, _ := journal.List(Open(data).JournalDir()); len(names) != backlogJournals {
			t.Errorf("%d journals left, want all %d (the database was locked)", len(names), backlogJournals)
		}
	})
	t.Run("journals kept for destinations are no backlog", func(t *testing.T) {
		data := t.TempDir()
		sp := Open(data)
		for i := range backlogJournals {
			if err := sp.Expect("otlp http://collector", fmt.Sprintf("%04d-run", i)); err != nil {
				t.Fatal(err)
			}
		}
		writeJournals(t, data, backlogJournals)
		if !sp.hasBacklog() {
			t.Fatalf("hasBacklog = false with %d journals waiting", backlogJournals)
		}
		if _, err := sp.ImportAll(ctx, openStore(t, data)); err != nil {
			t.Fatal(err)
		}
		if names, _ := journal.List(sp.JournalDir()); len(names) != backlogJournals {
			t.Fatalf("%d journals left, want all %d (pending upload)", len(names), backlogJournals)
		}
		if sp.hasBacklog() {
			t.Errorf("hasBacklog = true for journals already imported")
		}
	})
}
