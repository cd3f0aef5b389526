package pipeline

import (
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Counts are record counts per kind. SDKUploads counts the Graphsignal SDK's
// requests carried whole (telemetry.SDKUpload), each one record.
type Counts struct {
	Spans, Metrics, Scores, Logs, SDKUploads uint64
}

// Total returns the sum over all kinds.
func (c Counts) Total() uint64 { return c.Spans + c.Metrics + c.Scores + c.Logs + c.SDKUploads }

func (c *Counts) add(o Counts) {
	c.Spans += o.Spans
	c.Metrics += o.Metrics
	c.Scores += o.Scores
	c.Logs += o.Logs
	c.SDKUploads += o.SDKUploads
}

func countsOf(b *telemetry.Batch) Counts {
	return Counts{uint64(len(b.Spans)), uint64(len(b.Metrics)), uint64(len(b.Scores)), uint64(len(b.Logs)),
		uint64(len(b.SDKUploads))}
}

// ExporterStats are one exporter's counts. Exported records reached it;
// failed ones did not: its Export returned an error, its queue was full, or
// Shutdown gave up on them. Queued counts records waiting or in flight.
type ExporterStats struct {
	Name     string
	Exported Counts
	Failed   Counts
	Queued   int
}

// Stats is a snapshot of a pipeline's counters. Enqueued counts records
// accepted by Enqueue; Dropped counts records Enqueue refused (queue full,
// shut down) and records Shutdown abandoned before they reached any
// exporter. Exported and Failed are the sums over Exporters.
type Stats struct {
	Enqueued  Counts
	Dropped   Counts
	Exported  Counts
	Failed    Counts
	Queued    int // records in the intake
	Exporters []ExporterStats
}

// Stats returns a snapshot of the counters. It is safe to call at any time,
// including after Shutdown.
func (p *Pipeline) Stats() Stats {
	p.mu.Lock()
	s := Stats{Enqueued: p.enqueued, Dropped: p.dropped, Queued: p.queued}
	p.mu.Unlock()
	for _, w := range p.workers {
		es := w.stats()
		s.Exported.add(es.Exported)
		s.Failed.add(es.Failed)
		s.Exporters = append(s.Exporters, es)
	}
	return s
}

// Metric names produced by Stats.Metrics. Each is a counter with a "kind"
// tag (spans, metrics, scores, logs, sdk_uploads); exported and failed are reported per
// exporter with an "exporter" tag.
const (
	MetricEnqueued = "graphsignal.pipeline.enqueued"
	MetricDropped  = "graphsignal.pipeline.dropped"
	MetricExported = "graphsignal.pipeline.exported"
	MetricFailed   = "graphsignal.pipeline.failed"
)

// Metrics renders the snapshot as counters stamped now and tied to trace, so
// it can be stored and shown like any other series. Zero counts are included
// so that a clean run is visibly clean.
func (s Stats) Metrics(trace telemetry.TraceID, now time.Time) []telemetry.Metric {
	out := make([]telemetry.Metric, 0, 10+10*len(s.Exporters))
	add := func(name string, c Counts, exporter string) {
		for _, kv := range [...]struct {
			kind string
			n    uint64
		}{{"spans", c.Spans}, {"metrics", c.Metrics}, {"scores", c.Scores}, {"logs", c.Logs}, {"sdk_uploads", c.SDKUploads}} {
			tags := telemetry.Tags{"kind": kv.kind}
			if exporter != "" {
				tags["exporter"] = exporter
			}
			out = append(out, telemetry.Metric{
				TraceID: trace, Name: name, Kind: telemetry.Counter, Unit: telemetry.UnitCount,
				Tags: tags, Time: now, Value: float64(kv.n),
			})
		}
	}
	add(MetricEnqueued, s.Enqueued, "")
	add(MetricDropped, s.Dropped, "")
	for _, e := range s.Exporters {
		add(MetricExported, e.Exported, e.Name)
		add(MetricFailed, e.Failed, e.Name)
	}
	return out
}
