package gsapi

import (
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// maxRuns bounds the runs a Sender remembers the tags of.
const maxRuns = 256

// runsByTrace remembers, per trace, the tags of its earliest run span (a nested
// run shares its enclosing run's trace), for the points that carry no run_id
// of their own: process and GPU metric points, which the recorder writes
// without tags. They are sent with their run's tags, so that the API files
// them under the run's session and deployment (docs/upload.md, "Metrics").
type runsByTrace struct {
	byTrace map[telemetry.TraceID]runEntry
	order   []telemetry.TraceID // insertion order, for eviction
}

type runEntry struct {
	start time.Time
	tags  telemetry.Tags
}

func newRunsByTrace() runsByTrace { return runsByTrace{byTrace: make(map[telemetry.TraceID]runEntry)} }

// learn remembers the run spans among spans.
func (r *runsByTrace) learn(spans []telemetry.Span) {
	for i := range spans {
		sp := &spans[i]
		if sp.InSDKUpload || !sp.IsRun() {
			continue
		}
		old, known := r.byTrace[sp.TraceID]
		if known && old.tags[telemetry.TagRunID] != sp.Tags[telemetry.TagRunID] && !sp.Start.Before(old.start) {
			continue // a later run in the trace: a nested one
		}
		if !known {
			if len(r.order) == maxRuns {
				delete(r.byTrace, r.order[0])
				r.order = r.order[1:]
			}
			r.order = append(r.order, sp.TraceID)
		}
		r.byTrace[sp.TraceID] = runEntry{start: sp.Start, tags: sp.Tags}
	}
}

// of returns the tags a point is sent with: its own when it has a run_id,
// else its run's (when known) under its own.
func (r *runsByTrace) of(p *telemetry.Metric) telemetry.Tags {
	if r == nil {
		return p.Tags
	}
	if _, ok := p.Tags[telemetry.TagRunID]; ok {
		return p.Tags
	}
	run, ok := r.byTrace[p.TraceID]
	switch {
	case !ok:
		return p.Tags
	case len(p.Tags) == 0:
		return run.tags
	}
	return run.tags.Merge(p.Tags)
}
