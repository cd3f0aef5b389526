package upload

import (
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Warmer is implemented by a Sender with one-time costs that it can pay
// before its first Send: encoders initialised on first use, compressor
// buffers, code run for the first time. The Shipper calls Warm once, from
// its goroutine, when it starts (after the program has started, while it
// runs), so that the run's exit does not pay them. Warm sends nothing and
// changes nothing that a Send would send.
type Warmer interface {
	Warm()
}

// warm calls the Sender's Warm, if it has one.
func (s *Shipper) warm() {
	if w, ok := s.cfg.Sender.(Warmer); ok {
		w.Warm()
	}
}

// SampleBatch is a small batch with a record of each kind (a span with an
// event, a gauge, a counter, an error log), at now, for a Warm to encode.
func SampleBatch(now time.Time) telemetry.Batch {
	trace := telemetry.TraceID{1}
	span := telemetry.SpanID{1}
	tags := telemetry.Tags{telemetry.TagDeployment: "warm"}
	return telemetry.Batch{
		Spans: []telemetry.Span{{
			TraceID: trace, SpanID: span, ParentSpanID: telemetry.SpanID{2}, Name: "warm",
			Start: now.Add(-time.Millisecond), End: now, Tags: tags,
			Attributes: map[string]any{"warm.int": int64(1), "warm.str": "x", "warm.float": 1.5, "warm.bool": true},
			Status:     telemetry.StatusError, StatusMessage: "warm",
			Events: []telemetry.Event{{Name: "warm", Time: now}},
		}},
		Metrics: []telemetry.Metric{
			{TraceID: trace, Name: "warm.gauge", Kind: telemetry.Gauge, Unit: telemetry.UnitBytes, Tags: tags, Time: now, Value: 1},
			{TraceID: trace, Name: "warm.counter", Kind: telemetry.Counter, Tags: tags, Time: now, Value: 1},
		},
		Logs: []telemetry.Log{{Time: now, Level: "ERROR", Message: "warm", Tags: tags, TraceID: trace, SpanID: span}},
	}
}
