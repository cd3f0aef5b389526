package upload

import "github.com/graphsignal/graphsignal/internal/telemetry"

// maxIndexedRuns bounds the runs a RunIndex remembers.
const maxIndexedRuns = 256

// RunIndex remembers the run spans a Sender saw (the last 256 runs, each as
// last written), so that the records of a run arriving in later batches,
// or after a journal was resumed (Primer), can be given their run's
// resource and tags. A record belongs to the run of its run_id tag,
// whatever its trace (a program may start traces of its own); a record
// without one (the recorder's process and GPU metric points, written
// without tags) to the earliest run of its trace, as in the local store
// (docs/json.md): a nested run shares its enclosing run's trace. The zero
// RunIndex is ready to use; it is not safe for concurrent use.
type RunIndex struct {
	runs  map[string]telemetry.Span    // by run_id
	first map[telemetry.TraceID]string // a trace's earliest run
	order []string                     // insertion order, for eviction
}

// Learn remembers the run spans among spans (those without a run_id tag
// are not graphsignal's runs and are passed over). The spans' maps are
// kept, not copied: they must not change afterwards, as a journal's
// batches do not.
func (x *RunIndex) Learn(spans []telemetry.Span) {
	for i := range spans {
		sp := &spans[i]
		id := sp.Tags[telemetry.TagRunID]
		if !sp.IsRun() || id == "" {
			continue
		}
		if x.runs == nil {
			x.runs, x.first = make(map[string]telemetry.Span), make(map[telemetry.TraceID]string)
		}
		if _, ok := x.runs[id]; !ok {
			if len(x.order) == maxIndexedRuns {
				x.forget(x.order[0])
				x.order = x.order[1:]
			}
			x.order = append(x.order, id)
		}
		x.runs[id] = *sp
		if f, ok := x.first[sp.TraceID]; !ok || sp.Start.Before(x.runs[f].Start) {
			x.first[sp.TraceID] = id
		}
	}
}

// forget drops run id, and the traces it was the earliest run of.
func (x *RunIndex) forget(id string) {
	delete(x.runs, id)
	for t, f := range x.first {
		if f == id {
			delete(x.first, t)
		}
	}
}

// Run returns the run span of run id.
func (x *RunIndex) Run(id string) (telemetry.Span, bool) {
	run, ok := x.runs[id]
	return run, ok
}

// RunOf returns the run span of a record of trace with tags: the run of
// its run_id tag, else the earliest run of its trace; ok is false when the
// index has not seen that run.
func (x *RunIndex) RunOf(trace telemetry.TraceID, tags telemetry.Tags) (run telemetry.Span, ok bool) {
	id, tagged := tags[telemetry.TagRunID]
	if !tagged {
		id = x.first[trace]
	}
	run, ok = x.runs[id]
	return run, ok
}
