package upload

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// abandonedEnd returns the end of the run whose journal is name, for a
// final journal that holds no end of it: graphsignal died (SIGKILL, a full
// disk at exit) before it recorded how the program ended (docs/upload.md,
// "A run whose recorder was killed"). It is the run span as last written,
// ended at the journal's last record (its own start at least), with status
// unset, the status message telemetry.RecorderLostMessage and the error kind
// telemetry.ErrorKindRecorderLost: what the local store records for such a
// run, so that a backend does not show it in progress forever. ok is false
// when the journal holds the run's end or no span of the run.
func (s *Shipper) abandonedEnd(ctx context.Context, name string) (end telemetry.Span, ok bool, err error) {
	_, run, named := spool.JournalRun(name)
	if !named {
		return telemetry.Span{}, false, nil
	}
	r, err := journal.Open(s.cfg.Spool.JournalDir(), name)
	if err != nil {
		return telemetry.Span{}, false, err
	}
	defer r.Close()
	var last time.Time
	later := func(ts ...time.Time) {
		for _, t := range ts {
			if t.After(last) {
				last = t
			}
		}
	}
	for off := int64(0); ; {
		if ctx.Err() != nil {
			return telemetry.Span{}, false, context.Cause(ctx)
		}
		chunk, err := r.Read(off, s.cfg.MaxBytes)
		if err != nil {
			return telemetry.Span{}, false, fmt.Errorf("read %s: %w", name, err)
		}
		for _, b := range chunk.Batches {
			for i := range b.Spans {
				sp := &b.Spans[i]
				later(sp.Start, sp.End)
				if sp.SpanID == run && sp.IsRun() {
					if !sp.End.IsZero() {
						return telemetry.Span{}, false, nil
					}
					end, ok = *sp, true
				}
			}
			for i := range b.Metrics {
				later(b.Metrics[i].Time)
			}
			for i := range b.Logs {
				later(b.Logs[i].Time)
			}
			for i := range b.Scores {
				later(b.Scores[i].Time)
			}
		}
		if chunk.EOF || chunk.Next <= off {
			break
		}
		off = chunk.Next
	}
	if !ok {
		return telemetry.Span{}, false, nil
	}
	end.End = end.Start
	if last.After(end.End) {
		end.End = last
	}
	end.Status, end.StatusMessage = telemetry.StatusUnset, telemetry.RecorderLostMessage
	end.Attributes = maps.Clone(end.Attributes) // the batch's are shared
	if end.Attributes == nil {
		end.Attributes = map[string]any{}
	}
	end.Attributes[telemetry.AttrErrorKind] = telemetry.ErrorKindRecorderLost
	return end, true, nil
}

// endsRun reports whether b holds the end of the run with span id run.
func endsRun(b []telemetry.Batch, run telemetry.SpanID) bool {
	for _, x := range b {
		for i := range x.Spans {
			if sp := &x.Spans[i]; sp.SpanID == run && sp.IsRun() && !sp.End.IsZero() {
				return true
			}
		}
	}
	return false
}
