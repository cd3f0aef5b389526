package store

import (
	"context"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// A span written again (an OTLP exporter retrying a request whose response
// was lost, a later export correcting it) is stored once, and the session's
// error count and --failed follow the stored span, not the deliveries.
func TestSessionErrorsFollowRewrittenSpans(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name       string
		deliveries []telemetry.Status // the span's status at each write
		sameBatch  bool               // all deliveries in one batch
		runID      bool               // the span carries a run_id
		want       int
	}{
		{name: "retried error", deliveries: []telemetry.Status{telemetry.StatusError, telemetry.StatusError}, want: 1},
		{name: "retried error with run id", deliveries: []telemetry.Status{telemetry.StatusError, telemetry.StatusError, telemetry.StatusError}, runID: true, want: 1},
		{name: "duplicate in one batch", deliveries: []telemetry.Status{telemetry.StatusError, telemetry.StatusError}, sameBatch: true, want: 1},
		{name: "error corrected to ok", deliveries: []telemetry.Status{telemetry.StatusError, telemetry.StatusOK}, want: 0},
		{name: "ok then error", deliveries: []telemetry.Status{telemetry.StatusOK, telemetry.StatusError}, want: 1},
		{name: "error, ok, error", deliveries: []telemetry.Status{telemetry.StatusError, telemetry.StatusOK, telemetry.StatusError}, runID: true, want: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openStore(t, t.TempDir())
			run := runSpan("job", 0, time.Minute)
			if c.runID {
				run.Tags[telemetry.TagRunID] = run.SpanID.String()
			}
			write(t, s, telemetry.Batch{Spans: []telemetry.Span{run}})
			sp := childSpan(&run, "llm", time.Second, time.Second)
			sp.Tags[telemetry.TagSessionID] = "chat-9"
			var batch []telemetry.Span
			for _, st := range c.deliveries {
				sp.Status = st
				if c.sameBatch {
					batch = append(batch, sp)
					continue
				}
				write(t, s, telemetry.Batch{Spans: []telemetry.Span{sp}})
			}
			if c.sameBatch {
				write(t, s, telemetry.Batch{Spans: batch})
			}
			if got := count(t, s, `SELECT count(*) FROM spans WHERE session_id = 'chat-9' AND status = 2`); got != c.want {
				t.Fatalf("stored failed spans = %d, want %d", got, c.want)
			}
			sum, err := s.Sessions(ctx, SessionFilter{})
			if err != nil {
				t.Fatal(err)
			}
			errs := -1
			for _, x := range sum {
				if x.ID == "chat-9" {
					errs = x.Errors
				}
			}
			if errs != c.want {
				t.Errorf("Sessions() errors of chat-9 = %d, want %d", errs, c.want)
			}
			failed, err := s.Sessions(ctx, SessionFilter{Failed: true})
			if err != nil {
				t.Fatal(err)
			}
			listed := false
			for _, x := range failed {
				listed = listed || x.ID == "chat-9"
			}
			if listed != (c.want > 0) {
				t.Errorf("Sessions(Failed) lists chat-9 = %v, want %v", listed, c.want > 0)
			}
		})
	}
}
