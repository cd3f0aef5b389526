package store

import (
	"context"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestEndAbandoned(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	// The killed run: in progress, 10 points (the last at t0+9s) and a
	// nested run, also in progress, started by the program.
	outer := runSpan("killed", 0, 0)
	nested := runSpan("killed", 2*time.Second, 0)
	nested.TraceID, nested.ParentSpanID = outer.TraceID, outer.SpanID
	// A finished nested run keeps its own end.
	done := runSpan("killed", 3*time.Second, time.Second)
	done.TraceID, done.ParentSpanID = outer.TraceID, outer.SpanID
	// Another run in progress (another process, alive) is left alone, even
	// when it shares the trace.
	other := runSpan("alive", 0, 0)
	sibling := runSpan("alive", time.Second, 0)
	sibling.TraceID = outer.TraceID
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{outer, nested, done, other, sibling},
		Metrics: points(outer.TraceID, "cpu", 10)})

	n, err := s.EndAbandoned(ctx, outer.SpanID)
	if err != nil || n != 2 {
		t.Fatalf("EndAbandoned() = %d, %v, want 2 runs ended", n, err)
	}
	wantEnd := map[telemetry.SpanID]time.Time{
		outer.SpanID:   t0.Add(9 * time.Second),
		nested.SpanID:  t0.Add(9 * time.Second),
		done.SpanID:    done.End,
		sibling.SpanID: {},
	}
	d, err := s.Session(ctx, "killed")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range d.Runs {
		if !r.End.Equal(wantEnd[r.SpanID]) {
			t.Errorf("run %s: End = %v, want %v", r.SpanID, r.End, wantEnd[r.SpanID])
		}
		lost := r.SpanID == outer.SpanID || r.SpanID == nested.SpanID
		if got := r.ErrorKind == telemetry.ErrorKindRecorderLost; got != lost {
			t.Errorf("run %s: ErrorKind = %q, want recorder_lost: %v", r.SpanID, r.ErrorKind, lost)
		}
		if lost && (r.StatusMessage != telemetry.RecorderLostMessage || r.Status != telemetry.StatusUnset) {
			t.Errorf("run %s: status %v %q, want unset %q", r.SpanID, r.Status, r.StatusMessage, telemetry.RecorderLostMessage)
		}
		if lost && r.Attributes[telemetry.AttrExecutableName] != "python" {
			t.Errorf("run %s: attributes lost: %v", r.SpanID, r.Attributes)
		}
	}
	for _, id := range []string{"alive"} {
		d, err := s.Session(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range d.Runs {
			if !r.InProgress() {
				t.Errorf("run %s of session %s was ended: %v", r.SpanID, id, r.End)
			}
		}
	}

	// Once ended, nothing more to do; an unknown run ends nothing.
	for _, id := range []telemetry.SpanID{outer.SpanID, telemetry.NewSpanID()} {
		if n, err := s.EndAbandoned(ctx, id); err != nil || n != 0 {
			t.Errorf("EndAbandoned(%s) again = %d, %v, want 0, nil", id, n, err)
		}
	}
	// The real end, should it come after all, replaces the guess.
	outer.End, outer.Status = outer.Start.Add(time.Minute), telemetry.StatusOK
	outer.Attributes = map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun, telemetry.AttrExitCode: int64(0)}
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{outer}})
	d, err = s.Session(ctx, "killed")
	if err != nil {
		t.Fatal(err)
	}
	if r := d.Runs[0]; !r.End.Equal(outer.End) || r.ErrorKind != "" {
		t.Errorf("after the real end: End %v ErrorKind %q, want %v and none", r.End, r.ErrorKind, outer.End)
	}
}

func TestEndAbandonedWithoutRecords(t *testing.T) {
	// A run killed before any sample ends at its start.
	s := openStore(t, t.TempDir())
	run := runSpan("bare", 0, 0)
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{run}})
	if n, err := s.EndAbandoned(context.Background(), run.SpanID); err != nil || n != 1 {
		t.Fatalf("EndAbandoned() = %d, %v", n, err)
	}
	d, err := s.Session(context.Background(), "bare")
	if err != nil {
		t.Fatal(err)
	}
	if r := d.Runs[0]; !r.End.Equal(run.Start) || r.InProgress() {
		t.Errorf("End = %v, want the start %v", r.End, run.Start)
	}
}
