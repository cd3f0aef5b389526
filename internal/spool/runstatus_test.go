package spool

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestRunStatus checks that RunStatus finds each run's journal by its run
// span id, in every state, for every destination, and leaves out the runs
// that had no destination.
func TestRunStatus(t *testing.T) {
	sp := Open(t.TempDir())
	start := time.Unix(1700000000, 0)
	delivered, pending, dropped, local := telemetry.NewSpanID(), telemetry.NewSpanID(), telemetry.NewSpanID(), telemetry.NewSpanID()
	name := func(run telemetry.SpanID, i int) string {
		return JournalName(start.Add(time.Duration(i)*time.Second), run)
	}
	for i, run := range []telemetry.SpanID{delivered, pending, dropped} {
		for _, d := range []string{testDest, otherDest} {
			if err := sp.Expect(d, name(run, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	sizes := map[telemetry.SpanID]int64{}
	for i, run := range []telemetry.SpanID{delivered, pending, dropped, local} {
		sizes[run] = writeJournal(t, sp, name(run, i), 2)
	}
	for _, d := range []string{testDest, otherDest} {
		if err := deliver(sp, d, name(delivered, 0), sizes[delivered]); err != nil {
			t.Fatal(err)
		}
		c, err := sp.Claim(d, name(dropped, 2))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Drop(2, "spool full"); err != nil {
			t.Fatal(err)
		}
	}
	if err := deliver(sp, otherDest, name(pending, 1), sizes[pending]); err != nil {
		t.Fatal(err)
	}

	got, err := sp.RunStatus(delivered, pending, dropped, local, telemetry.NewSpanID())
	if err != nil {
		t.Fatal(err)
	}
	want := map[telemetry.SpanID][]DeliveryStatus{
		delivered: {
			{Destination: otherDest, State: Delivered, Offset: sizes[delivered], DroppedRecords: 2},
			{Destination: testDest, State: Delivered, Offset: sizes[delivered], DroppedRecords: 2},
		},
		pending: {
			{Destination: otherDest, State: Delivered, Offset: sizes[pending], DroppedRecords: 2},
			{Destination: testDest, State: Pending, Size: sizes[pending], DroppedRecords: 2},
		},
		dropped: {
			{Destination: otherDest, State: Dropped, Why: "spool full", DroppedRecords: 2},
			{Destination: testDest, State: Dropped, Why: "spool full", DroppedRecords: 2},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RunStatus (-want +got):\n%s", diff)
	}
	if got, err := Open(t.TempDir()).RunStatus(delivered); err != nil || len(got) != 0 {
		t.Errorf("RunStatus in an empty data dir = %v, %v; want none", got, err)
	}
}
