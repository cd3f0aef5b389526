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
// Shutdown gave up on them. Queued counts records waiting or in flight, QueuedBytes their
// estimated memory.
type ExporterStats struct {
	Name        string
	Exported    Counts
	Failed      Counts
	Queued      int
	QueuedBytes int64
}

// Stats is a snapshot of a pipeline's counters. Enqueued counts records
// accepted by Enqueue; Dropped counts records Enqueue refused (queue full,
// shut down) and records Shutdown abandoned before they reached any
// exporter. Exported and Failed are the sums over Exporters.
type Stats struct {
	Enqueued    Counts
	Dropped     Counts
	Exported    Counts
	Failed      Counts
	Queued      int   // records in the intake
	QueuedBytes int64 // their estimated memory
	Exporters   []ExporterStats
}

// Stats returns a snapshot of the counters. It is safe to call at any time,
// including after Shutdown.
func (p *Pipeline) Stats() Stats {
	p.mu.Lock()
	s := Stats{Enqueued: p.enqueued, Dropped: p.dropped, Queued: p.queued, QueuedBytes: p.queuedBytes}
	p.mu.Unlock()
	for _, w := range p.workers {
		es := w.stats()
		s.Exported.add(es.Exported)
		s.Failed.add(es.Failed)
		s.Exporters = append(s.Exporters, es)
	}
	return s
}

// Metric names produced by Stats.Metrics. Each is a cumulative counter with
// a "kind" tag (spans, metrics, scores, logs, sdk_uploads); failed is
// reported per exporter, with an "exporter" tag.
const (
	// MetricDropped counts records Enqueue refused (queue full, shut down)
	// or Shutdown abandoned before any exporter got them.
	MetricDropped = "graphsignal.pipeline.dropped"
	// MetricFailed counts records one exporter did not deliver: its queue
	// was full, its Export failed (the journal's size bound included), or
	// Shutdown gave up on them.
	MetricFailed = "graphsignal.pipeline.failed"
)

// Metrics renders the snapshot's drop counters as counters stamped now, in
// trace and with tags (the run's), so they are stored and shown like the
// intakes' counters (docs/protocol.md, "Drops"). Only non-zero counts are
// rendered: a clean run has none.
func (s Stats) Metrics(trace telemetry.TraceID, tags telemetry.Tags, now time.Time) []telemetry.Metric {
	var out []telemetry.Metric
	add := func(name string, c Counts, exporter string) {
		for _, kv := range [...]struct {
			kind string
			n    uint64
		}{{"spans", c.Spans}, {"metrics", c.Metrics}, {"scores", c.Scores}, {"logs", c.Logs}, {"sdk_uploads", c.SDKUploads}} {
			if kv.n == 0 {
				continue
			}
			t := telemetry.Tags{"kind": kv.kind}
			if exporter != "" {
				t["exporter"] = exporter
			}
			out = append(out, telemetry.Metric{
				TraceID: trace, Name: name, Kind: telemetry.Counter, Unit: telemetry.UnitCount,
				Tags: tags.Merge(t), Time: now, Value: float64(kv.n),
			})
		}
	}
	add(MetricDropped, s.Dropped, "")
	for _, e := range s.Exporters {
		add(MetricFailed, e.Failed, e.Name)
	}
	return out
}
