package spool

import (
	"context"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestImportEndsAbandonedRun: a run whose journal's writer is gone without
// an end recorded is ended by the importer with an unknown outcome at its
// last record; while the writer lives it stays in progress.
func TestImportEndsAbandonedRun(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	sp := Open(data)
	start := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	run := runBatch("killed", time.Time{})
	run.Spans[0].Start = start
	last := start.Add(42 * time.Second)
	name := JournalName(start, run.Spans[0].SpanID)
	w, err := journal.Create(sp.JournalDir(), name, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []telemetry.Batch{run, {Metrics: []telemetry.Metric{
		{TraceID: run.Spans[0].TraceID, Name: "process.cpu.utilization", Kind: telemetry.Gauge, Time: start.Add(time.Second), Value: 1},
		{TraceID: run.Spans[0].TraceID, Name: "process.cpu.utilization", Kind: telemetry.Gauge, Time: last, Value: 2},
	}}} {
		if err := w.Append(b); err != nil {
			t.Fatal(err)
		}
	}
	st := openStore(t, data)

	if _, err := sp.ImportAll(ctx, st); err != nil {
		t.Fatal(err)
	}
	if r := onlyRun(t, st, "killed"); !r.InProgress() {
		t.Fatalf("while its writer lives, the run ended: %v", r.End)
	}
	// The writer goes away without the run's end (as SIGKILL releases its
	// lock): the next import ends the run.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sp.ImportAll(ctx, st); err != nil {
		t.Fatal(err)
	}
	r := onlyRun(t, st, "killed")
	if !r.End.Equal(last) || r.ErrorKind != telemetry.ErrorKindRecorderLost || r.StatusMessage != telemetry.RecorderLostMessage {
		t.Errorf("abandoned run: End %v ErrorKind %q StatusMessage %q, want %v %q %q",
			r.End, r.ErrorKind, r.StatusMessage, last, telemetry.ErrorKindRecorderLost, telemetry.RecorderLostMessage)
	}
	if sp.HasJournals() {
		t.Error("the final journal was not removed")
	}
}

// TestImportKeepsRecordedEnd: a run that recorded its end is not touched
// when its journal becomes final.
func TestImportKeepsRecordedEnd(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	sp := Open(data)
	end := time.Now().Truncate(time.Millisecond)
	run := runBatch("done", end)
	run.Spans[0].Status = telemetry.StatusOK
	w, err := journal.Create(sp.JournalDir(), JournalName(run.Spans[0].Start, run.Spans[0].SpanID), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(run); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	st := openStore(t, data)
	if _, err := sp.ImportAll(ctx, st); err != nil {
		t.Fatal(err)
	}
	if r := onlyRun(t, st, "done"); !r.End.Equal(end) || r.ErrorKind != "" || r.Status != telemetry.StatusOK {
		t.Errorf("finished run: End %v ErrorKind %q Status %v, want %v, none, ok", r.End, r.ErrorKind, r.Status, end)
	}
}

func onlyRun(t *testing.T, st *store.Store, session string) store.Run {
	t.Helper()
	d, err := st.Session(context.Background(), session)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Runs) != 1 {
		t.Fatalf("session %s has %d runs, want 1", session, len(d.Runs))
	}
	return d.Runs[0]
}
