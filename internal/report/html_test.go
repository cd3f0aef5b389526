package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/gpu"
	"github.com/graphsignal/graphsignal/internal/pricing"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// hostileName is program text that a page which failed to escape it would
// run as a script.
const hostileName = `<script>alert("x")</script>`

// fixtureHTMLDetail is fixtureDetail with what only the HTML report draws
// fully: a trace tree with an error span and an open span, GPU series and
// devices, session errors, errors by type and logs, a history that makes
// the first run's duration an anomaly, and program text that must be
// escaped.
func fixtureHTMLDetail() *store.SessionDetail {
	d := fixtureDetail()
	r := &d.Runs[0]
	span := func(id, parent, name string, start, dur time.Duration, depth int) store.SpanNode {
		s := store.SpanNode{SpanID: mustSpan(id), Name: name, Start: t0.Add(start), Depth: depth}
		if parent != "" {
			s.ParentSpanID = mustSpan(parent)
		}
		if dur > 0 {
			s.End, s.Duration = s.Start.Add(dur), dur
		}
		return s
	}
	spans := []store.SpanNode{
		span("1000000000000001", "b7ad6b7169203331", "train_epoch", 100*time.Millisecond, 9*time.Second, 0),
		span("1000000000000002", "1000000000000001", "embed", 200*time.Millisecond, 5*time.Millisecond, 1),
		span("1000000000000003", "1000000000000001", "generate", 300*time.Millisecond, 1500*time.Millisecond, 1),
		span("1000000000000004", "1000000000000001", hostileName, 2*time.Second, 40*time.Millisecond, 1),
		span("1000000000000005", "1000000000000001", "checkpoint", 11*time.Second, 0, 1),
	}
	spans[2].Status, spans[2].Error = telemetry.StatusError, "ValueError: prompt too long <b>4097</b> tokens"
	r.Traces = []store.Trace{{TraceID: r.TraceID, Spans: spans}}
	r.Spans = append(r.Spans, store.SpanStats{Name: hostileName, Count: 1, P50: 40 * time.Millisecond,
		P90: 40 * time.Millisecond, P95: 40 * time.Millisecond, P99: 40 * time.Millisecond, Max: 40 * time.Millisecond,
		Histogram: [store.HistogramBuckets]int{6: 1}, SelfTime: 40 * time.Millisecond})
	util := make([]store.Point, 30)
	for i := range util {
		util[i] = store.Point{Time: t0.Add(time.Duration(i) * 400 * time.Millisecond), Value: 50 + 45*math.Sin(float64(i)/3)}
	}
	r.Metrics = append(r.Metrics,
		store.MetricSummary{Name: "gpu.utilization", Unit: "%", Kind: telemetry.Gauge,
			Tags: telemetry.Tags{"device.index": "1"}, Count: 300, Min: 5, Avg: 50, Max: 95, Last: 60, Points: util},
		store.MetricSummary{Name: "gpu.memory.usage", Unit: "By", Kind: telemetry.Gauge,
			Tags: telemetry.Tags{"device.index": "1"}, Count: 2, Min: 1 << 30, Avg: 3 << 29, Max: 2 << 30, Last: 2 << 30,
			Points: []store.Point{{Time: t0, Value: 1 << 30}, {Time: t0.Add(12 * time.Second), Value: 2 << 30}}})
	r.GPUs = []gpu.DeviceResult{{Device: gpu.Device{Index: 1, UUID: "GPU-5e3c", Name: "NVIDIA H100 80GB HBM3",
		MemoryTotal: 80 << 30}, Samples: 300, UtilizationAvg: 50, UtilizationPeak: 95, HaveUtilization: true,
		MemoryPeak: 2 << 30}}
	d.Errors = []store.ErrorRecord{
		{Time: t0.Add(1800 * time.Millisecond), Kind: "span", Name: "generate",
			Message: "ValueError: prompt too long <b>4097</b> tokens", TraceID: r.TraceID, SpanID: spans[2].SpanID},
		{Time: t0.Add(12 * time.Second), Kind: "log", Name: "error",
			Message: "Traceback (most recent call last):\n  File \"train.py\", line 3\nRuntimeError: CUDA out of memory"},
	}
	d.MoreErrors = 3
	d.ErrorGroups = []store.ErrorGroup{
		{Kind: "span", Type: "ValueError", Message: "prompt too long <b>4097</b> tokens", Count: 10, First: t0, Last: t0},
		{Kind: "log", Message: "Traceback (most recent call last):\nRuntimeError: CUDA out of memory", Count: 1},
	}
	d.MoreErrorGroups = 2
	d.LogLines = []store.LogLine{
		{Time: t0.Add(12 * time.Second), Kind: "log", Level: "warning", Message: "retrying " + hostileName},
		{Time: t0.Add(1800 * time.Millisecond), Kind: "exception", Type: "ValueError", Message: "prompt too long",
			SpanName: "generate", TraceID: r.TraceID, SpanID: spans[2].SpanID},
	}
	d.MoreLogLines = 7
	d.History = map[telemetry.SpanID][]store.PastRun{r.SpanID: {{Duration: time.Second}, {Duration: time.Second},
		{Duration: time.Second}, {Duration: time.Second}, {Duration: time.Second}}}
	return d
}

func TestShowHTMLContent(t *testing.T) {
	var out bytes.Buffer
	if err := ShowHTML(&out, fixtureHTMLDetail(), Options{Location: time.UTC, Costs: fixtureCosts("model")}); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	for _, tc := range []struct {
		what string
		want string
	}{
		{"session id", "<code>s-42</code>"},
		{"run status", `<span class="status failed">exit 3</span>`},
		{"stderr without escapes", "ValueError: bad input</pre>"},
		{"GPU row", `<td class="mono">GPU 1</td><td>NVIDIA H100 80GB HBM3</td><td class="num">avg 50%, peak 95%</td>`},
		{"GPU memory", `<td class="num">2 GiB of 80 GiB</td><td><span class="share"><div style="width:2.5%">`},
		{"CPU chart", "<b>CPU</b> · min 0% · avg 17.5% · max 49% · last 49%"},
		{"memory chart dot", `<circle class="dot"`},
		{"GPU chart", "<b>GPU 1 utilization</b>"},
		{"GPU chart downsampled by the store", "30 of 300 points"},
		{"span stats row", `<td class="mono">generate</td><td class="num">101 (1 open)</td><td class="num">10</td>` +
			`<td class="num">50ms</td><td class="num">90ms</td><td class="num">95ms</td><td class="num">99ms</td>` +
			`<td class="num">1.5s</td><td class="num">4.2s</td>`},
		{"TTFT", `<td class="num" title="time to first token of 90 spans: p50 20ms, p90 40ms, p99 60ms, max 70ms">20ms</td>`},
		{"no TTFT", `<td class="num">5ms</td><td class="num">-</td>`},
		{"histogram", `<span class="hist" title="≤1ms: 1, ≤2ms: 1, ≤4ms: 2, ≤8ms: 4, ≤16ms: 8, ≤32ms: 16, ≤64ms: 32, ` +
			`≤128ms: 35, ≤2.05s: 1">0<svg width="59" aria-hidden="true">` +
			`<path d="M2 20v-1M7 20v-1M12 20v-1M17 20v-2M22 20v-4M27 20v-9M32 20v-18M37 20v-20M57 20v-1"/></svg>2.05s</span>`},
		{"one-bucket histogram", `<span class="hist" title="≤8ms: 1">4ms<svg width="4"`},
		{"time by span", "<h3>Time by span (self time, of 12.5s)</h3>"},
		{"time by span row", `<td class="mono">generate</td><td class="num">4.2s</td><td class="num">33.6%</td>` +
			`<td><span class="share"><div style="width:33.6%">`},
		{"time outside spans", `<td class="mono">(no span)</td><td class="num">8.29s</td><td class="num">66.4%</td>`},
		{"anomaly", `<tr><td>run duration</td><td>run python took 12.5s (12.5× the median 1s of the deployment&#39;s ` +
			`last 5 runs)</td><td>Run 1: python</td><td class="mono">0af7651916cd43dd8448eb211c80319c</td>` +
			`<td class="mono">b7ad6b7169203331</td></tr>`},
		{"costs date", "prices as of " + pricing.AsOf},
		{"costs row", `<tr><td>gpt-4o-2024-08-06</td><td>openai</td><td class="num">3</td><td class="num">12000</td>` +
			`<td class="num">3400</td><td class="num">2000</td><td class="num">0</td><td class="num">$0.0512</td>` +
			`<td class="num">59.7%</td><td>gpt-4o</td></tr>`},
		{"costs unknown price", `<td class="num">price unknown</td><td class="num">-</td><td>-</td>`},
		{"costs total", `<tr class="total"><td>Total</td><td></td><td class="num">6</td><td class="num">14300</td>` +
			`<td class="num">4300</td><td class="num">42000</td><td class="num">2000</td><td class="num">$0.0857&#43;</td>` +
			`<td class="num">100.0%</td><td></td></tr>`},
		{"unpriced tokens", "1000 tokens of models without a known price are not in the costs."},
		{"error group", `<td class="num">10</td><td>span</td><td class="mono">ValueError</td>` +
			`<td>prompt too long &lt;b&gt;4097&lt;/b&gt; tokens</td>`},
		{"more error groups", "2 more error types (see show --json)"},
		{"log line", `<td class="mono">2026-11-20 10:00:12 UTC</td><td>warning</td><td class="mono">-</td>` +
			`<td>retrying &lt;script&gt;`},
		{"exception line", `<td>exception</td><td class="mono">generate</td><td>ValueError: prompt too long</td>`},
		{"more log lines", "7 more log lines (see show --json)"},
		{"latency bar", `<div class="max" style="width:100%"></div><div class="p95" style="width:6.33%">`},
		{"waterfall error row", `<tr class="err" title="generate: &#43;200ms, 1.5s">`},
		{"waterfall open row", `<td class="num">open</td>`},
		{"error span note", `<td class="note">ValueError: prompt too long &lt;b&gt;4097&lt;/b&gt; tokens</td>`},
		{"multi-line error folded", "<summary>Traceback (most recent call last):</summary>"},
		{"more errors", "3 more errors (see show --json)"},
		{"escaped program text", "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"},
		{"no fetch", `content="default-src 'none'; style-src 'unsafe-inline'"`},
	} {
		if !strings.Contains(page, tc.want) {
			t.Errorf("%s: page lacks %q", tc.what, tc.want)
		}
	}
	if strings.Contains(page, hostileName) || strings.Contains(page, "<b>4097") {
		t.Errorf("program text reached the page unescaped")
	}
	if strings.Contains(page, "<script") {
		t.Errorf("page holds a script element")
	}
}

// bigSession is the size of a synthetic session: its runs each have names
// span names (each with every histogram bucket and a time to first
// token), spans spans in traces of 100, series series of points points
// (the first a chart's) and a stderr tail of stderr bytes; the session has
// errors errors, logs log lines and groups errors by type, each with a
// message of message bytes.
type bigSession struct {
	runs, names, spans, series, points, stderr, errors, logs, groups, message int
}

func (b bigSession) detail() *store.SessionDetail {
	d := &store.SessionDetail{Summary: store.SessionSummary{ID: "big", FirstStart: t0, Runs: b.runs}}
	for i := range b.runs {
		r := store.Run{Name: fmt.Sprintf("run-%d", i), TraceID: telemetry.NewTraceID(), SpanID: telemetry.NewSpanID(),
			Start: t0, End: t0.Add(time.Hour), Duration: time.Hour, StderrTail: strings.Repeat("stderr line\n", b.stderr/12)}
		for s := 0; s < b.spans; s += 100 {
			tr := store.Trace{TraceID: telemetry.NewTraceID()}
			for k := range min(100, b.spans-s) {
				start := time.Duration(s+k) * 30 * time.Millisecond
				tr.Spans = append(tr.Spans, store.SpanNode{SpanID: telemetry.NewSpanID(), Name: fmt.Sprintf("op-%d", k%50),
					Start: t0.Add(start), End: t0.Add(start + 25*time.Millisecond), Duration: 25 * time.Millisecond,
					Depth: min(k, 1), Status: telemetry.Status(k % 3), Error: strings.Repeat("e", k%3*100)})
			}
			r.Traces = append(r.Traces, tr)
		}
		for k := range b.names {
			st := store.SpanStats{Name: fmt.Sprintf("name-%d", k), Count: 10, P50: time.Millisecond,
				P95: 2 * time.Millisecond, P99: 3 * time.Millisecond, Max: 4 * time.Millisecond, SelfTime: time.Second,
				TTFT: &store.TTFTStats{Count: 10, P50: time.Millisecond, P90: time.Millisecond, P99: time.Millisecond,
					Max: time.Millisecond}}
			for i := range st.Histogram {
				st.Histogram[i] = 1000 + i
			}
			r.Spans = append(r.Spans, st)
		}
		for k := range b.series {
			m := store.MetricSummary{Name: "gpu.utilization", Unit: "%", Count: b.points, Max: 100,
				Tags: telemetry.Tags{"device.index": strconv.Itoa(k)}}
			if k == 0 {
				m.Name, m.Tags = "process.cpu.usage", nil
			}
			for p := range b.points {
				m.Points = append(m.Points, store.Point{Time: t0.Add(time.Duration(p) * time.Second), Value: float64(p % 100)})
			}
			r.Metrics = append(r.Metrics, m)
		}
		d.Runs = append(d.Runs, r)
	}
	for k := range b.errors {
		d.Errors = append(d.Errors, store.ErrorRecord{Time: t0, Kind: "log", Name: "error",
			Message: strconv.Itoa(k) + strings.Repeat("m", b.message)})
	}
	for k := range b.logs {
		d.LogLines = append(d.LogLines, store.LogLine{Time: t0, Kind: "log", Level: "info",
			Message: strconv.Itoa(k) + strings.Repeat("m", b.message)})
	}
	for k := range b.groups {
		d.ErrorGroups = append(d.ErrorGroups, store.ErrorGroup{Kind: "log", Count: k,
			Message: strconv.Itoa(k) + strings.Repeat("m", b.message)})
	}
	return d
}

func TestShowHTMLBounds(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		size                 bigSession
		wantRows, wantPoints int
		wantMore             []string
	}{
		{"small", bigSession{runs: 1, names: 3, spans: 300, series: 1, points: 40}, 300, 40, nil},
		{"one run of 100000 spans", bigSession{runs: 1, names: 300, spans: 100000, series: 1, points: 10000},
			maxHTMLSpanRows, maxHTMLPoints, []string{"98000 more spans not drawn"}},
		{"rows shared by runs", bigSession{runs: 3, spans: 1500, series: 1, points: 10}, maxHTMLSpanRows, 10,
			[]string{`<p class="more">1000 more spans not drawn`, `<p class="more">1500 more spans not drawn`}},
		{"too many runs", bigSession{runs: maxHTMLRuns + 5, series: 1, points: 2}, 0, 2, []string{"5 more runs"}},
		{"every bound reached", bigSession{runs: maxHTMLRuns + 1, names: 300, spans: 3000, series: 40,
			points: 1000, stderr: 100 << 10, errors: store.MaxErrors, logs: store.MaxLogLines,
			groups: store.MaxErrorGroups, message: 100 << 10}, maxHTMLSpanRows,
			maxHTMLPoints, []string{"300 more span names", "more charts", "more metrics", "earlier bytes not shown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := ShowHTML(&out, tc.size.detail(), Options{}); err != nil {
				t.Fatal(err)
			}
			page := out.String()
			if rows := strings.Count(page, `<td class="track">`); rows != tc.wantRows {
				t.Errorf("waterfall rows = %d, want %d", rows, tc.wantRows)
			}
			_, line, _ := strings.Cut(page, `<polyline class="line" points="`)
			line, _, _ = strings.Cut(line, `"`)
			if n := len(strings.Fields(line)); n != tc.wantPoints {
				t.Errorf("first chart's points = %d, want %d", n, tc.wantPoints)
			}
			for _, want := range tc.wantMore {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if out.Len() > 5<<20 {
				t.Errorf("page is %d bytes, want at most 5 MiB", out.Len())
			}
			t.Logf("%d bytes", out.Len())
		})
	}
}

func TestDownsample(t *testing.T) {
	pts := func(vs ...float64) []store.Point {
		out := make([]store.Point, len(vs))
		for i, v := range vs {
			out[i] = store.Point{Time: t0.Add(time.Duration(i) * time.Second), Value: v}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		in   []store.Point
		n    int
		want []float64
		last []int // index of the input point each output point is stamped with
	}{
		{"fits", pts(1, 2, 3), 5, []float64{1, 2, 3}, []int{0, 1, 2}},
		{"halved", pts(1, 3, 5, 7), 2, []float64{2, 6}, []int{1, 3}},
		{"uneven", pts(1, 2, 3, 4, 5), 2, []float64{1.5, 4}, []int{1, 4}},
		{"NaN skipped", pts(math.NaN(), 4, 2, 2), 2, []float64{4, 2}, []int{1, 3}},
	} {
		got := downsample(tc.in, tc.n)
		if len(got) != len(tc.want) {
			t.Fatalf("%s: downsample to %d = %d points, want %d", tc.name, tc.n, len(got), len(tc.want))
		}
		for i := range got {
			if got[i].Value != tc.want[i] || !got[i].Time.Equal(tc.in[tc.last[i]].Time) {
				t.Errorf("%s: point %d = %v at %v, want %v at %v", tc.name, i, got[i].Value, got[i].Time,
					tc.want[i], tc.in[tc.last[i]].Time)
			}
		}
	}
}

func TestShowHTMLWriteError(t *testing.T) {
	for _, okN := range []int{0, 20} {
		if err := ShowHTML(&failWriter{n: okN}, fixtureHTMLDetail(), Options{}); !errors.Is(err, errWrite) {
			t.Errorf("ShowHTML to a writer failing after %d writes = %v, want %v", okN, err, errWrite)
		}
	}
	if err := ShowHTML(&bytes.Buffer{}, nil, Options{}); err == nil {
		t.Error("ShowHTML(nil) = nil, want an error")
	}
}

// TestHTMLChartPointsFromStore draws a series of 1,000 recorded points
// from the store: a sparkline's 40 by default, HTMLChartPoints when the
// page asks for them (store.ChartPoints), never more than a chart's bound.
func TestHTMLChartPointsFromStore(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := telemetry.Span{TraceID: telemetry.NewTraceID(), SpanID: telemetry.NewSpanID(), Name: "train",
		Start: t0, End: t0.Add(1000 * time.Second), Tags: telemetry.Tags{telemetry.TagSessionID: "charts"},
		Attributes: map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun}}
	b := telemetry.Batch{Spans: []telemetry.Span{run}}
	for i := range 1000 {
		b.Metrics = append(b.Metrics, telemetry.Metric{TraceID: run.TraceID, Name: "process.cpu.usage", Unit: "%",
			Kind: telemetry.Gauge, Time: t0.Add(time.Duration(i) * time.Second), Value: float64(i % 100)})
	}
	if err := st.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts []store.SessionOption
		want int
	}{
		{"default", nil, store.DefaultSparkPoints},
		{"the page's", []store.SessionOption{store.ChartPoints(HTMLChartPoints)}, HTMLChartPoints},
		{"past a chart's bound", []store.SessionOption{store.ChartPoints(5000)}, maxHTMLPoints},
	} {
		d, err := st.Session(ctx, "charts", tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := ShowHTML(&out, d, Options{}); err != nil {
			t.Fatal(err)
		}
		_, line, _ := strings.Cut(out.String(), `<polyline class="line" points="`)
		line, _, _ = strings.Cut(line, `"`)
		if n := len(strings.Fields(line)); n != tc.want {
			t.Errorf("%s: chart of %d points, want %d", tc.name, n, tc.want)
		}
		if caption := fmt.Sprintf("%d of 1000 points", tc.want); !strings.Contains(out.String(), caption) {
			t.Errorf("%s: page lacks %q", tc.name, caption)
		}
	}
}

// TestShowHTMLSectionLinks: served pages link the anomalies' traces and
// the log lines' spans to the trace's page (Options.TraceURL).
func TestShowHTMLSectionLinks(t *testing.T) {
	d := fixtureHTMLDetail()
	id := d.Runs[0].TraceID.String()
	link := func(id telemetry.TraceID) string { return "/sessions/s-42/traces/" + id.String() }
	var b bytes.Buffer
	if err := ShowHTML(&b, d, Options{Location: time.UTC, TraceURL: link}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<td>Run 1: python</td><td class="mono"><a href="/sessions/s-42/traces/` + id + `">` + id + `</a></td>`,
		`<td>exception</td><td class="mono"><a href="/sessions/s-42/traces/` + id + `">generate</a></td>`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestHistogramHTML(t *testing.T) {
	var last [store.HistogramBuckets]int
	last[store.HistogramBuckets-1] = 2
	for _, tc := range []struct {
		name string
		h    [store.HistogramBuckets]int
		want htmlHistogram
	}{
		{"no span ended", [store.HistogramBuckets]int{}, htmlHistogram{}},
		{"first bucket", [store.HistogramBuckets]int{3}, htmlHistogram{Lo: "0", Hi: "1ms", Path: "M2 20v-20",
			Hint: "≤1ms: 3", Width: 4}},
		{"gap, a bucket of a tenth", [store.HistogramBuckets]int{2: 1, 4: 10}, htmlHistogram{Lo: "2ms", Hi: "16ms",
			Path: "M2 20v-2M12 20v-20", Hint: "≤4ms: 1, ≤16ms: 10", Width: 14}},
		{"a tiny bucket still shows", [store.HistogramBuckets]int{0: 1, 1: 100}, htmlHistogram{Lo: "0", Hi: "2ms",
			Path: "M2 20v-1M7 20v-20", Hint: "≤1ms: 1, ≤2ms: 100", Width: 9}},
		{"past the last bound", last, htmlHistogram{Lo: "2m11s", Hi: "+Inf", Path: "M2 20v-20", Hint: ">2m11s: 2",
			Width: 4}},
	} {
		if got := histogramHTML(tc.h); got != tc.want {
			t.Errorf("%s: histogramHTML(%v) = %+v, want %+v", tc.name, tc.h, got, tc.want)
		}
	}
}

func TestSelfTimeHTML(t *testing.T) {
	ss := []store.SpanStats{{Name: "embed", SelfTime: time.Second}, {Name: "idle"},
		{Name: "llm", SelfTime: 3 * time.Second}}
	finished := store.Run{SessionID: "s", Duration: 10 * time.Second, End: t0.Add(10 * time.Second),
		OutsideSpans: 6 * time.Second}
	open := finished
	open.End = time.Time{}
	for _, tc := range []struct {
		name    string
		r       store.Run
		ss      []store.SpanStats
		session string
		want    []string
		wantOf  string
	}{
		{"largest first, then outside spans", finished, ss, "s",
			[]string{"llm 3s 30.0% 30", "embed 1s 10.0% 10", "(no span) 6s 60.0% 60"}, "10s"},
		{"in progress", open, ss, "s", nil, ""},
		{"another session's", finished, ss, "other", nil, ""},
		{"no self time", finished, ss[1:2], "s", nil, ""},
	} {
		rows, of := selfTimeHTML(&tc.r, tc.ss, tc.session)
		var got []string
		for _, r := range rows {
			got = append(got, fmt.Sprintf("%s %s %s %v", r.Name, r.Self, r.Share, r.Bar))
		}
		if strings.Join(got, "; ") != strings.Join(tc.want, "; ") || of != tc.wantOf {
			t.Errorf("%s: selfTimeHTML = %q of %q, want %q of %q", tc.name, got, of, tc.want, tc.wantOf)
		}
	}
}
