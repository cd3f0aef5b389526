package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestOpenStoreForRead: the journals are imported before the store is
// read, and what had to be skipped is warned about. (The importer itself is
// tested in internal/spool.)
func TestOpenStoreForRead(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	dir := spool.Open(data).JournalDir()
	w, err := journal.Create(dir, "0001-done", 0)
	if err != nil {
		t.Fatal(err)
	}
	sp := telemetry.Span{
		TraceID: telemetry.NewTraceID(), SpanID: telemetry.NewSpanID(), Name: "prog",
		Start: time.Now().Add(-time.Second), End: time.Now(),
		Tags:       telemetry.Tags{telemetry.TagSessionID: "s-done"},
		Attributes: map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun},
	}
	if err := w.Append(telemetry.Batch{Spans: []telemetry.Span{sp}}); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	// A killed writer's torn last line.
	f, _ := os.OpenFile(filepath.Join(dir, "0001-done"+journal.Ext), os.O_WRONLY|os.O_APPEND, 0)
	_, _ = f.WriteString(`{"spans":[{"na`)
	_ = f.Close()

	var warn strings.Builder
	st, err := openStoreForRead(ctx, data, &warn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !strings.Contains(warn.String(), "1 damaged records") {
		t.Errorf("warning = %q, want the torn line counted", warn.String())
	}
	if d, err := st.Session(ctx, "s-done"); err != nil || len(d.Runs) != 1 {
		t.Errorf("Session(s-done) = %v; want the journal's run", err)
	}
	if names, _ := journal.List(dir); len(names) != 0 {
		t.Errorf("journals left = %v, want none", names)
	}
}

func TestOpenStoreForReadNoData(t *testing.T) {
	_, err := openStoreForRead(context.Background(), t.TempDir(), os.Stderr)
	if _, ok := err.(*NoDataError); !ok {
		t.Errorf("empty data dir: %v, want *NoDataError", err)
	}
}
