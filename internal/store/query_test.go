package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestSessions(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	if _, err := s.LastSessionID(ctx); !errors.Is(err, ErrNotFound) {
		t.Errorf("LastSessionID(empty) = %v, want ErrNotFound", err)
	}
	a1 := runSpan("a", 0, 10*time.Second)
	a2 := runSpan("a", time.Minute, 20*time.Second)
	a2.Status = telemetry.StatusError
	a2.Tags[telemetry.TagUserID] = "bob"
	a2.Tags[telemetry.TagDeployment] = "eval"
	a2.Name = "eval.py"
	b1 := runSpan("b", time.Hour, 0) // in progress
	c1 := runSpan("c", 2*time.Hour, time.Second)
	noSession := runSpan("", 3*time.Hour, time.Second)
	delete(noSession.Tags, telemetry.TagSessionID)
	child := childSpan(&a1, "generate", 0, time.Second) // not a run: no session row
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{a1, a2, b1, c1, noSession, child}})

	tests := []struct {
		since time.Time
		want  []SessionSummary
	}{
		{since: time.Time{}, want: []SessionSummary{
			{ID: noSession.TraceID.String(), FirstStart: noSession.Start, LastEnd: noSession.End, Duration: time.Second,
				Runs: 1, Deployments: []string{"train"}, Programs: []string{"python"}},
			{ID: "c", FirstStart: c1.Start, LastEnd: c1.End, Duration: time.Second, Runs: 1,
				Deployments: []string{"train"}, Programs: []string{"python"}},
			{ID: "b", FirstStart: b1.Start, Runs: 1, InProgress: 1, Deployments: []string{"train"},
				Programs: []string{"python"}},
			{ID: "a", FirstStart: a1.Start, LastEnd: a2.End, Duration: 80 * time.Second, Runs: 2, Failures: 1,
				Deployments: []string{"eval", "train"}, Users: []string{"bob"},
				Programs: []string{"eval.py", "python"}},
		}},
		{since: t0.Add(90 * time.Minute), want: []SessionSummary{
			{ID: noSession.TraceID.String(), FirstStart: noSession.Start, LastEnd: noSession.End, Duration: time.Second,
				Runs: 1, Deployments: []string{"train"}, Programs: []string{"python"}},
			{ID: "c", FirstStart: c1.Start, LastEnd: c1.End, Duration: time.Second, Runs: 1,
				Deployments: []string{"train"}, Programs: []string{"python"}},
		}},
		{since: t0.Add(80 * time.Second), want: []SessionSummary{
			{ID: noSession.TraceID.String(), FirstStart: noSession.Start, LastEnd: noSession.End, Duration: time.Second,
				Runs: 1, Deployments: []string{"train"}, Programs: []string{"python"}},
			{ID: "c", FirstStart: c1.Start, LastEnd: c1.End, Duration: time.Second, Runs: 1,
				Deployments: []string{"train"}, Programs: []string{"python"}},
			{ID: "b", FirstStart: b1.Start, Runs: 1, InProgress: 1, Deployments: []string{"train"},
				Programs: []string{"python"}},
			{ID: "a", FirstStart: a1.Start, LastEnd: a2.End, Duration: 80 * time.Second, Runs: 2, Failures: 1,
				Deployments: []string{"eval", "train"}, Users: []string{"bob"},
				Programs: []string{"eval.py", "python"}},
		}},
		{since: t0.Add(4 * time.Hour), want: nil},
	}
	for _, tt := range tests {
		got, err := s.Sessions(ctx, SessionFilter{Since: tt.since})
		if err != nil {
			t.Fatalf("Sessions(%v) = %v", tt.since, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Sessions(%v) (-want +got):\n%s", tt.since, diff)
		}
	}
	if id, err := s.LastSessionID(ctx); err != nil || id != noSession.TraceID.String() {
		t.Errorf("LastSessionID() = %q, %v; want %q", id, err, noSession.TraceID)
	}
	if _, err := s.Session(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Session(nope) = %v, want ErrNotFound", err)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2), 50, 1 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 95, 4 * time.Millisecond},
		{ms(hundred...), 50, 50 * time.Millisecond},
		{ms(hundred...), 95, 95 * time.Millisecond},
		{ms(hundred...), 99, 99 * time.Millisecond},
		{ms(hundred...), 100, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := Percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("Percentile(%d values, %v) = %v, want %v", len(tt.sorted), tt.p, got, tt.want)
		}
	}
}

func TestSessionDetail(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	run := runSpan("d", 0, time.Minute)
	run.Tags[telemetry.TagRunID] = "r1"
	run.Attributes["cicd.pipeline.run.id"] = int64(991)
	run.Attributes["vcs.ref.head.name"] = "main"
	var spans []telemetry.Span
	// "generate": 1..100 ms, every 10th an error, plus one in progress.
	for i := 1; i <= 100; i++ {
		sp := childSpan(&run, "generate", time.Duration(i)*time.Millisecond, time.Duration(i)*time.Millisecond)
		if i%10 == 0 {
			sp.Status = telemetry.StatusError
		}
		spans = append(spans, sp)
	}
	open := childSpan(&run, "generate", 0, 0)
	open.End = time.Time{}
	spans = append(spans, open, childSpan(&run, "embed", 0, 5*time.Millisecond))
	// A second run's trace nested in the first: listed, owns nothing.
	nested := runSpan("d", time.Second, time.Second)
	nested.TraceID, nested.ParentSpanID = run.TraceID, run.SpanID
	spans = append(spans, run, nested)

	metrics := points(run.TraceID, "process.cpu.usage", 100)
	metrics = append(metrics, telemetry.Metric{TraceID: run.TraceID, Name: "gpu.utilization", Kind: telemetry.Gauge,
		Tags: telemetry.Tags{"gpu": "1"}, Time: t0, Value: 5})
	metrics = append(metrics, telemetry.Metric{TraceID: run.TraceID, Name: "gpu.utilization", Kind: telemetry.Gauge,
		Tags: telemetry.Tags{"gpu": "0"}, Time: t0, Value: 7})
	for i, v := range []float64{1, 3, 4} { // cumulative counter: total 4
		metrics = append(metrics, telemetry.Metric{TraceID: run.TraceID, Name: "graphsignal.intake.bad_lines",
			Kind: telemetry.Counter, Time: t0.Add(time.Duration(i) * time.Second), Value: v})
	}
	for _, v := range []float64{2, 3} { // gauge: summed
		metrics = append(metrics, telemetry.Metric{TraceID: run.TraceID, Name: "graphsignal.intake.dropped",
			Kind: telemetry.Gauge, Time: t0, Value: v})
	}
	scores := []telemetry.Score{
		{Name: "by_run_id", Value: 1, Tags: telemetry.Tags{telemetry.TagRunID: "r1"}, Time: t0.Add(3 * time.Second)},
		{Name: "by_session", Value: 2, Tags: telemetry.Tags{telemetry.TagSessionID: "d"}, Time: t0.Add(2 * time.Second)},
		{Name: "elsewhere", Value: 3, Tags: telemetry.Tags{telemetry.TagSessionID: "other"}},
	}
	write(t, s, telemetry.Batch{Spans: spans, Metrics: metrics, Scores: scores})

	d, err := s.Session(ctx, "d")
	if err != nil {
		t.Fatalf("Session() = %v", err)
	}
	if len(d.Runs) != 2 {
		t.Fatalf("runs = %d, want 2", len(d.Runs))
	}
	r := d.Runs[0]
	// Buckets of 1ms << i: 1..100 ms puts 1, 1, 2, 4, ... 32 spans in the
	// buckets up to 64 ms and the other 36 in the 128 ms one.
	wantSpans := []SpanStats{
		{Name: "embed", Count: 1, P50: 5 * time.Millisecond, P90: 5 * time.Millisecond, P95: 5 * time.Millisecond,
			P99: 5 * time.Millisecond, Max: 5 * time.Millisecond, Histogram: [HistogramBuckets]int{3: 1},
			SelfTime: 5 * time.Millisecond},
		{Name: "generate", Count: 101, Errors: 10, InProgress: 1, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond,
			P95: 95 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond,
			Histogram: [HistogramBuckets]int{1, 1, 2, 4, 8, 16, 32, 36}, SelfTime: 5050 * time.Millisecond},
	}
	if diff := cmp.Diff(wantSpans, r.Spans); diff != "" {
		t.Errorf("span stats (-want +got):\n%s", diff)
	}
	if len(d.Runs[1].Spans) != 0 || len(d.Runs[1].Metrics) != 0 {
		t.Errorf("nested run owns spans %v / metrics %v, want none", d.Runs[1].Spans, d.Runs[1].Metrics)
	}
	if len(r.Metrics) != 3 {
		t.Fatalf("metrics = %+v, want 3 series", r.Metrics)
	}
	if g := r.Metrics[0]; g.Name != "gpu.utilization" || g.Tags["gpu"] != "0" || g.Last != 7 {
		t.Errorf("first series = %+v, want gpu.utilization{gpu=0}", g)
	}
	cpu := r.Metrics[2]
	if cpu.Name != "process.cpu.usage" || cpu.Count != 100 || cpu.Min != 0 || cpu.Max != 99 || cpu.Avg != 49.5 || cpu.Last != 99 {
		t.Errorf("cpu summary = %+v", cpu)
	}
	if len(cpu.Points) != DefaultSparkPoints {
		t.Fatalf("cpu points = %d, want %d", len(cpu.Points), DefaultSparkPoints)
	}
	// 100 points in 40 groups of 2 or 3, each averaged.
	if p := cpu.Points[0]; p.Value != 1 || !p.Time.Equal(t0.Add(2*time.Second)) {
		t.Errorf("first point = %+v, want mean of 0,1,2 at t0+2s", p)
	}
	if p := cpu.Points[len(cpu.Points)-1]; p.Value != 98.5 || !p.Time.Equal(t0.Add(99*time.Second)) {
		t.Errorf("last point = %+v, want mean of 98,99 at t0+99s", p)
	}
	wantIntake := []Count{{Name: "graphsignal.intake.bad_lines", Value: 4}, {Name: "graphsignal.intake.dropped", Value: 5}}
	if diff := cmp.Diff(wantIntake, d.Intake); diff != "" {
		t.Errorf("intake (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantIntake, r.Intake); diff != "" {
		t.Errorf("run intake (-want +got):\n%s", diff)
	}
	var names []string
	for _, sc := range d.Scores {
		names = append(names, sc.Name)
	}
	if diff := cmp.Diff([]string{"by_session", "by_run_id"}, names); diff != "" {
		t.Errorf("scores (-want +got):\n%s", diff)
	}
	wantCI := map[string]string{"cicd.pipeline.run.id": "991", "vcs.ref.head.name": "main"}
	if diff := cmp.Diff(wantCI, r.CI); diff != "" {
		t.Errorf("CI (-want +got):\n%s", diff)
	}
}
