package rundigest

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/anomaly"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Bounds on what a Digest keeps for the anomaly rules (docs/ci.md,
// "Anomalies"): at most maxNames span names × latencySample durations
// (1 MiB) and anomaly.MaxSlowSpans spans each, and maxErrorTimes times.
const (
	// maxNames bounds the span names whose latency is kept; spans of
	// further names are not judged.
	maxNames = 256
	// latencySample bounds the durations kept per name: up to this many
	// spans of a name its median and p99 are exact, past it they are
	// estimated from a uniform sample of this size (reservoir sampling).
	latencySample = 512
	// maxErrorTimes bounds the error times kept for error bursts: the
	// earliest, as many as `graphsignal show` judges (store.MaxErrors).
	maxErrorTimes = 100
)

// latency is what a Digest keeps of one span name.
type latency struct {
	count   int
	sample  []time.Duration
	slowest []anomaly.Span // the slowest spans of the name, slowest first
}

// addLatency counts sp's duration under its name and keeps it among the
// name's slowest.
func (d *Digest) addLatency(sp *telemetry.Span, dur time.Duration) {
	l := d.names[sp.Name]
	if l == nil {
		if len(d.names) >= maxNames {
			return
		}
		l = &latency{}
		d.names[sp.Name] = l
	}
	l.count++
	if len(l.sample) < latencySample {
		l.sample = append(l.sample, dur)
	} else if j := d.rng.IntN(l.count); j < latencySample {
		l.sample[j] = dur
	}
	s := anomaly.Span{Name: sp.Name, Duration: dur, TraceID: sp.TraceID, SpanID: sp.SpanID,
		RunID: sp.Tags[telemetry.TagRunID]}
	i, _ := slices.BinarySearchFunc(l.slowest, s, func(a, b anomaly.Span) int {
		return -compareDur(a.Duration, b.Duration) // slowest first
	})
	if i < anomaly.MaxSlowSpans {
		l.slowest = slices.Insert(l.slowest, i, s)
		l.slowest = l.slowest[:min(len(l.slowest), anomaly.MaxSlowSpans)]
	}
}

// addErrorTime keeps t among the maxErrorTimes earliest error times, in
// order.
func (d *Digest) addErrorTime(t time.Time) {
	i, _ := slices.BinarySearchFunc(d.errTimes, t, func(a, b time.Time) int { return a.Compare(b) })
	if i >= maxErrorTimes {
		return
	}
	d.errTimes = slices.Insert(d.errTimes, i, t)
	d.errTimes = d.errTimes[:min(len(d.errTimes), maxErrorTimes)]
}

// anomalies applies the rules of package anomaly to what d kept: the
// slowest spans against their name's latency, then error bursts.
func (d *Digest) anomalies() []anomaly.Anomaly {
	var cands []anomaly.Span
	for _, l := range d.names {
		sorted := slices.Clone(l.sample)
		slices.Sort(sorted)
		lat := anomaly.Latency{Count: l.count, P50: anomaly.Percentile(sorted, 50), P99: anomaly.Percentile(sorted, 99)}
		for _, s := range l.slowest {
			s.Latency = lat
			cands = append(cands, s)
		}
	}
	// Names come out of the map in any order: order the candidates so
	// that ties keep one order.
	slices.SortFunc(cands, func(a, b anomaly.Span) int {
		return cmp.Or(-compareDur(a.Duration, b.Duration), strings.Compare(a.Name, b.Name))
	})
	out := anomaly.SlowSpans(cands)
	return append(out, anomaly.ErrorBursts(d.errTimes)...)
}

func newRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }
