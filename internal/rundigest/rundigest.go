// Package rundigest keeps, in memory and bounded, what a run's end-of-run
// summaries say about the program's records: its slowest spans, its errors
// grouped by type and message, its token usage per model, and what the
// rules of package anomaly need to judge its spans and errors (each span
// name's latency, the earliest error times). A Digest is one of the run's
// pipeline exporters, so it sees every record the run keeps, as the
// journal does, and never makes the program wait; the run waits for it,
// bounded, only before recording its final run span (docs/ci.md, "Costs
// and anomalies").
package rundigest

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/graphsignal/graphsignal/internal/anomaly"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Bounds on what a Digest keeps.
const (
	// MaxSlowest is how many of the slowest spans are kept.
	MaxSlowest = 5
	// maxErrorKinds bounds the distinct errors counted; more are counted
	// in Summary.OtherErrors.
	maxErrorKinds = 100
	// maxMessage bounds an error message kept (runes).
	maxMessage = 200
)

// Span is one of the slowest spans.
type Span struct {
	Name     string
	Duration time.Duration
	TraceID  telemetry.TraceID
	Error    bool
}

// Error is one kind of error: its type and message, and how many times it
// happened (failed spans' exceptions, error logs).
type Error struct {
	Type, Message string
	Count         int
}

// Summary is what a Digest saw.
type Summary struct {
	// Spans counts the program's spans (run spans excepted), ErrorSpans
	// those with error status.
	Spans, ErrorSpans int
	// Slowest are the slowest spans, slowest first.
	Slowest []Span
	// Errors are the errors by count, then type and message; OtherErrors
	// counts those beyond the kinds kept.
	Errors      []Error
	OtherErrors int
	// Tokens totals the spans' tokens by kind (Usage.TokenKind): their
	// usage counters, and for each kind no counter of a span gives, its
	// GenAI attribute (gen_ai.usage.input_tokens, ...), as the store
	// counts them.
	Tokens map[string]float64
	// Models are the same tokens per model, in the order first seen.
	Models []ModelTokens
	// Anomalies are what the rules of package anomaly find in the spans
	// and errors seen: the slowest spans against their name's latency,
	// then error bursts (the run's own anomalies are the caller's).
	Anomalies []anomaly.Anomaly
}

// Digest is a pipeline exporter that summarises the records it is given.
// Its methods are safe for concurrent use.
type Digest struct {
	mu       sync.Mutex
	sum      Summary
	errIdx   map[[2]string]int // index in sum.Errors
	models   []ModelTokens
	modelIdx map[string]int // index in models
	names    map[string]*latency
	errTimes []time.Time // the earliest error times, in order
	rng      *rand.Rand  // picks the latency samples
}

// New returns an empty Digest.
func New() *Digest {
	return &Digest{errIdx: map[[2]string]int{}, sum: Summary{Tokens: map[string]float64{}},
		modelIdx: map[string]int{}, names: map[string]*latency{}, rng: newRand()}
}

// Name is the exporter's name in the pipeline's messages.
func (d *Digest) Name() string { return "run summary" }

// Export folds b in. It never fails.
func (d *Digest) Export(_ context.Context, b telemetry.Batch) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range b.Spans {
		d.span(&b.Spans[i])
	}
	for _, l := range b.Logs {
		if telemetry.IsErrorLevel(l.Level) {
			typ, msg := "log", l.Message
			if l.Exception != "" {
				typ, msg = "exception", firstLine(l.Exception)+": "+l.Message
			}
			d.addError(typ, msg)
			d.addErrorTime(l.Time)
		}
	}
	return nil
}

func (d *Digest) span(sp *telemetry.Span) {
	if sp.IsRun() || sp.End.IsZero() {
		return
	}
	d.sum.Spans++
	failed := sp.Status == telemetry.StatusError
	if failed {
		d.sum.ErrorSpans++
		if len(sp.Exceptions) == 0 {
			d.addError("span "+sp.Name, sp.StatusMessage)
		}
		for _, e := range sp.Exceptions {
			d.addError(e.Type, e.Message)
		}
		d.addErrorTime(sp.End)
	}
	d.addTokens(sp)
	d.addLatency(sp, sp.Duration())
	s := Span{Name: sp.Name, Duration: sp.Duration(), TraceID: sp.TraceID, Error: failed}
	i, _ := slices.BinarySearchFunc(d.sum.Slowest, s, func(a, b Span) int {
		return -compareDur(a.Duration, b.Duration) // slowest first
	})
	if i < MaxSlowest {
		d.sum.Slowest = slices.Insert(d.sum.Slowest, i, s)
		if len(d.sum.Slowest) > MaxSlowest {
			d.sum.Slowest = d.sum.Slowest[:MaxSlowest]
		}
	}
}

func compareDur(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (d *Digest) addError(typ, msg string) {
	msg = cut(strings.TrimSpace(msg), maxMessage)
	k := [2]string{typ, msg}
	if i, ok := d.errIdx[k]; ok {
		d.sum.Errors[i].Count++
		return
	}
	if len(d.sum.Errors) >= maxErrorKinds {
		d.sum.OtherErrors++
		return
	}
	d.errIdx[k] = len(d.sum.Errors)
	d.sum.Errors = append(d.sum.Errors, Error{Type: typ, Message: msg, Count: 1})
}

// Summary returns what the Digest saw so far. It judges the anomalies
// afresh: call it once the records that matter were exported to the
// Digest (pipeline.Pipeline.Flush).
func (d *Digest) Summary() Summary {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.sum
	s.Slowest = slices.Clone(s.Slowest)
	s.Errors = slices.Clone(s.Errors)
	slices.SortStableFunc(s.Errors, func(a, b Error) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
	s.Tokens = make(map[string]float64, len(d.sum.Tokens))
	for k, v := range d.sum.Tokens {
		s.Tokens[k] = v
	}
	s.Models = slices.Clone(d.models)
	s.Anomalies = d.anomalies()
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// cut returns s cut to n runes, marked with "…" when cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
