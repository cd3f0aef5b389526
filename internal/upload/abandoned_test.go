package upload

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// spanSender acknowledges everything and keeps the spans it was sent.
type spanSender struct {
	mu    sync.Mutex
	spans []telemetry.Span
}

func (*spanSender) Name() string { return testDest }
func (s *spanSender) Send(_ context.Context, b telemetry.Batch) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spans = append(s.spans, b.Spans...)
	return Result{Bytes: 1}, nil
}

// TestKilledRunIsEnded: a final journal whose run was never ended (the
// recorder was killed) is delivered with the run's end as the local store
// records it; a journal that holds the end gets nothing more.
func TestKilledRunIsEnded(t *testing.T) {
	start := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	run := telemetry.SpanID{7, 7, 7, 7, 7, 7, 7, 7}
	trace := telemetry.TraceID{1}
	inProgress := telemetry.Span{TraceID: trace, SpanID: run, Name: "train", Start: start,
		Tags:       telemetry.Tags{"session_id": "s", "run_id": "r"},
		Attributes: map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun}}
	point := telemetry.Metric{TraceID: trace, Name: "process.threads", Kind: telemetry.Gauge, Time: start.Add(42 * time.Second), Value: 3}
	for _, ended := range []bool{false, true} {
		d := spool.Open(t.TempDir())
		name := spool.JournalName(start, run)
		if err := d.Expect(testDest, name); err != nil {
			t.Fatal(err)
		}
		w, err := journal.Create(d.JournalDir(), name, 0)
		if err != nil {
			t.Fatal(err)
		}
		batches := []telemetry.Batch{{Spans: []telemetry.Span{inProgress}}, {Metrics: []telemetry.Metric{point}}}
		if ended {
			final := inProgress
			final.End, final.Status = start.Add(50*time.Second), telemetry.StatusOK
			batches = append(batches, telemetry.Batch{Spans: []telemetry.Span{final}})
		}
		for _, b := range batches {
			if err := w.Append(b); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		snd := &spanSender{}
		s := newShipper(t, Config{Sender: snd, Spool: d, MaxRecords: 1})
		if err := s.Drain(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
		if p := pending(t, d); len(p) != 0 {
			t.Errorf("ended %v: pending %v", ended, p)
		}
		last := snd.spans[len(snd.spans)-1]
		if ended {
			if len(snd.spans) != 2 || last.Status != telemetry.StatusOK {
				t.Errorf("a run with its end: %d spans sent, last %+v; want the two written", len(snd.spans), last)
			}
			continue
		}
		if len(snd.spans) != 2 || last.SpanID != run || !last.End.Equal(point.Time) || last.Status != telemetry.StatusUnset ||
			last.StatusMessage != telemetry.RecorderLostMessage || last.Attributes[telemetry.AttrErrorKind] != telemetry.ErrorKindRecorderLost ||
			last.Tags["session_id"] != "s" {
			t.Errorf("a killed run: %d spans sent, last %+v; want the run ended at its last record, recorder_lost", len(snd.spans), last)
		}
		if _, ok := inProgress.Attributes[telemetry.AttrErrorKind]; ok {
			t.Error("the journal's span was changed in place")
		}
	}
}
