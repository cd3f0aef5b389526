package gsapi

import (
	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/upload"
)

// pointTags returns the tags a metric point is sent with: its own when it
// has a run_id, else its run's (upload.RunIndex: the earliest run of its
// trace) under its own, so that the API files the recorder's process and
// GPU points, written without tags, under their run's session and
// deployment (docs/upload.md, "Metrics"). runs nil: the point's own.
func pointTags(runs *upload.RunIndex, p *telemetry.Metric) telemetry.Tags {
	if runs == nil {
		return p.Tags
	}
	if _, ok := p.Tags[telemetry.TagRunID]; ok {
		return p.Tags
	}
	run, ok := runs.RunOf(p.TraceID, p.Tags)
	switch {
	case !ok:
		return p.Tags
	case len(p.Tags) == 0:
		return run.Tags
	}
	return run.Tags.Merge(p.Tags)
}
