package report

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/gpu"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// hostileName is program text that a page which failed to escape it would
// run as a script.
const hostileName = `<script>alert("x")</script>`

// fixtureHTMLDetail is fixtureDetail with what only the HTML report draws
// fully: a trace tree with an error span and an open span, GPU series and
// devices, session errors, and program text that must be escaped.
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
		P95: 40 * time.Millisecond, P99: 40 * time.Millisecond, Max: 40 * time.Millisecond})
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
	return d
}

func TestShowHTMLContent(t *testing.T) {
	var out bytes.Buffer
	if err := ShowHTML(&out, fixtureHTMLDetail(), Options{Location: time.UTC}); err != nil {
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
		{"GPU line", "NVIDIA H100 80GB HBM3 · utilization avg 50%, peak 95%"},
		{"CPU chart", "<b>CPU</b> · min 0% · avg 17.5% · max 49% · last 49%"},
		{"memory chart dot", `<circle class="dot"`},
		{"GPU chart", "<b>GPU 1 utilization</b>"},
		{"GPU chart downsampled by the store", "30 of 300 points"},
		{"span stats row", `<td class="mono">generate</td><td class="num">101 (1 open)</td>`},
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
// span names, spans spans in traces of 100, series series of points points
// (the first a chart's) and a stderr tail of stderr bytes; the session has
// errors errors of messages of message bytes.
type bigSession struct {
	runs, names, spans, series, points, stderr, errors, message int
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
			r.Spans = append(r.Spans, store.SpanStats{Name: fmt.Sprintf("name-%d", k), Count: 10, P50: time.Millisecond,
				P95: 2 * time.Millisecond, P99: 3 * time.Millisecond, Max: 4 * time.Millisecond})
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
			points: 1000, stderr: 100 << 10, errors: store.MaxErrors, message: 100 << 10}, maxHTMLSpanRows,
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
