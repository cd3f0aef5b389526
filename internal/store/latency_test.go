package store

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestHistogramBucket(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want int
	}{
		{0, 0},
		{time.Millisecond, 0},
		{time.Millisecond + 1, 1},
		{3 * time.Millisecond, 2},
		{64 * time.Millisecond, 6},
		{65 * time.Millisecond, 7},
		{HistogramBound(HistogramBuckets - 2), HistogramBuckets - 2},
		{HistogramBound(HistogramBuckets-2) + 1, HistogramBuckets - 1},
		{time.Hour, HistogramBuckets - 1},
	}
	for _, tt := range tests {
		if got := histogramBucket(tt.d); got != tt.want {
			t.Errorf("histogramBucket(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
	if got := HistogramBound(HistogramBuckets - 1); got != 0 {
		t.Errorf("HistogramBound(last) = %v, want 0 (unbounded)", got)
	}
}

func TestSelfTimes(t *testing.T) {
	const s = int64(time.Second)
	span := func(id, parent, name string, start, end int64) timedSpan {
		return timedSpan{key: spanKey{"t", id}, parent: spanKey{"t", parent}, name: name, start: start * s, end: end * s}
	}
	tests := []struct {
		name        string
		spans       []timedSpan
		runEnd      int64
		want        map[string]time.Duration
		wantOutside time.Duration
	}{
		{"nested chain", []timedSpan{
			span("a", "run", "agent", 0, 6), span("b", "a", "llm", 1, 4), span("c", "b", "tool", 2, 3),
		}, 10, map[string]time.Duration{"agent": 3 * time.Second, "llm": 2 * time.Second, "tool": time.Second}, 4 * time.Second},
		{"parallel children are united", []timedSpan{
			span("a", "run", "agent", 0, 6), span("b", "a", "llm", 1, 4), span("c", "a", "llm", 3, 5),
		}, 10, map[string]time.Duration{"agent": 2 * time.Second, "llm": 5 * time.Second}, 4 * time.Second},
		{"a child past its parent's end is clipped", []timedSpan{
			span("a", "run", "agent", 0, 2), span("b", "a", "llm", 1, 5),
		}, 10, map[string]time.Duration{"agent": time.Second, "llm": 4 * time.Second}, 8 * time.Second},
		{"children covering their parent leave it none", []timedSpan{
			span("a", "", "agent", 2, 4), span("b", "a", "llm", 1, 3), span("c", "a", "llm", 3, 5),
		}, 10, map[string]time.Duration{"agent": 0, "llm": 4 * time.Second}, 8 * time.Second},
		{"overlapping roots count once outside", []timedSpan{
			span("a", "", "x", 0, 5), span("b", "", "x", 4, 8), span("c", "", "y", 20, 30),
		}, 10, map[string]time.Duration{"x": 9 * time.Second, "y": 10 * time.Second}, 2 * time.Second},
		{"run in progress: no outside", []timedSpan{span("a", "", "x", 0, 5)}, 0,
			map[string]time.Duration{"x": 5 * time.Second}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, outside := selfTimes(tt.spans, 0, tt.runEnd*s)
			if diff := cmp.Diff(tt.want, got); diff != "" || outside != tt.wantOutside {
				t.Errorf("selfTimes() outside = %v, want %v; self (-want +got):\n%s", outside, tt.wantOutside, diff)
			}
		})
	}
}

// TestSessionLatency: self times, the run's time outside spans and the time
// to first token, through the store.
func TestSessionLatency(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	run := runSpan("lat", 0, 10*time.Second)
	agent := childSpan(&run, "agent", 0, 6*time.Second)
	llm1 := childSpan(&run, "llm", time.Second, 3*time.Second)
	llm1.ParentSpanID = agent.SpanID
	llm1.Events = []telemetry.Event{{Name: "retry", Time: llm1.Start.Add(time.Millisecond)},
		{Name: "first_token", Time: llm1.Start.Add(300 * time.Millisecond)},
		{Name: "first_token", Time: llm1.Start.Add(900 * time.Millisecond)}}
	llm2 := childSpan(&run, "llm", 3*time.Second, 2*time.Second)
	llm2.ParentSpanID = agent.SpanID
	llm2.Attributes = map[string]any{"gen_ai.response.time_to_first_chunk": 0.5}
	open := childSpan(&run, "llm", 9*time.Second, 0)
	open.End = time.Time{}
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{run, agent, llm1, llm2, open}})

	d, err := s.Session(ctx, "lat")
	if err != nil {
		t.Fatal(err)
	}
	r := d.Runs[0]
	if r.OutsideSpans != 4*time.Second {
		t.Errorf("OutsideSpans = %v, want 4s", r.OutsideSpans)
	}
	got := map[string]SpanStats{}
	for _, st := range r.Spans {
		got[st.Name] = st
	}
	if a := got["agent"]; a.SelfTime != 2*time.Second || a.TTFT != nil {
		t.Errorf("agent: self %v, TTFT %+v; want 2s, none", a.SelfTime, a.TTFT)
	}
	l := got["llm"]
	if l.SelfTime != 5*time.Second || l.Count != 3 || l.InProgress != 1 {
		t.Errorf("llm: self %v, count %d (%d open); want 5s, 3 (1 open)", l.SelfTime, l.Count, l.InProgress)
	}
	want := &TTFTStats{Count: 2, P50: 300 * time.Millisecond, P90: 500 * time.Millisecond, P99: 500 * time.Millisecond,
		Max: 500 * time.Millisecond}
	if diff := cmp.Diff(want, l.TTFT); diff != "" {
		t.Errorf("llm TTFT (-want +got):\n%s", diff)
	}
	if l.Histogram[11] != 1 || l.Histogram[12] != 1 { // 2s in (1.024s, 2.048s], 3s in (2.048s, 4.096s]
		t.Errorf("llm histogram = %v, want one span in buckets 11 and 12", l.Histogram)
	}
}
