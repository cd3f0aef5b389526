package spool

import (
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestJournalRun: JournalRun reads back what JournalName wrote, and
// refuses other names.
func TestJournalRun(t *testing.T) {
	start := time.Unix(1764961357, 123456789)
	run := telemetry.SpanID{0xec, 0xf9, 1, 2, 3, 4, 5, 6}
	name := JournalName(start, run)
	gotStart, gotRun, ok := JournalRun(name)
	if !ok || !gotStart.Equal(start) || gotRun != run {
		t.Errorf("JournalRun(%q) = %v, %v, %v; want %v, %v, true", name, gotStart, gotRun, ok, start, run)
	}
	for _, bad := range []string{"", "name", "dropped", "x-ecf9010203040506", "01764961357123456789-zz", name + ".parts"} {
		if _, _, ok := JournalRun(bad); ok {
			t.Errorf("JournalRun(%q) ok, want not a journal name", bad)
		}
	}
}
