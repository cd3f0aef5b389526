package cli

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/pipeline"
	"github.com/graphsignal/graphsignal/internal/report"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// gated holds every Export until open is closed.
type gated struct {
	pipeline.Exporter
	open chan struct{}
}

func (g gated) Export(ctx context.Context, b telemetry.Batch) error {
	select {
	case <-g.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Exporter.Export(ctx, b)
}

// TestDropsReachShow: records the pipeline drops under overload are in the
// store and in `show`, text and JSON (docs/protocol.md, "Drops"), through
// the same journal and self counters a run uses; before, they were only in
// a warning on stderr.
func TestDropsReachShow(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	exp, err := openJournalExporter(data, "0001-flood")(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g := gated{Exporter: exp, open: make(chan struct{})}
	trace, runSpan := telemetry.NewTraceID(), telemetry.NewSpanID()
	tags := telemetry.Tags{telemetry.TagSessionID: "s-flood"}
	var counted selfCounters
	pipe := pipeline.New(pipeline.Config{QueueBytes: 256 << 10, Interval: time.Millisecond,
		SelfMetrics: counted.metrics(trace, tags)}, g)
	now := time.Now()
	pipe.Enqueue(telemetry.Batch{Spans: []telemetry.Span{{TraceID: trace, SpanID: runSpan, Name: "flood",
		Start: now, End: now.Add(time.Second), Tags: tags,
		Attributes: map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun}}}})
	var wg sync.WaitGroup
	for range 4 { // four producers, like four connections
		wg.Go(func() {
			for range 200 {
				b := telemetry.Batch{Spans: make([]telemetry.Span, 50)}
				for i := range b.Spans {
					b.Spans[i] = telemetry.Span{TraceID: trace, SpanID: telemetry.NewSpanID(), ParentSpanID: runSpan,
						Name: "llm.generate", Start: now, End: now, Tags: tags}
				}
				pipe.Enqueue(b)
			}
		})
	}
	wg.Wait()
	close(g.open)
	if err := pipe.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	dropped := pipe.Stats().Dropped.Spans
	if dropped == 0 {
		t.Fatal("no span dropped: the test does not overload the pipeline")
	}

	st, err := openStoreForRead(ctx, data, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.Session(ctx, "s-flood")
	if err != nil {
		t.Fatal(err)
	}
	var text, js strings.Builder
	if err := report.Show(&text, d, report.Options{}); err != nil {
		t.Fatal(err)
	}
	want := "graphsignal.pipeline.dropped=" + report.Number(float64(dropped))
	if !strings.Contains(text.String(), want) {
		t.Errorf("show text lacks %q:\n%s", want, text.String())
	}
	if err := report.Show(&js, d, report.Options{Format: report.JSON}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Intake map[string]float64 `json:"intake"`
	}
	if err := json.Unmarshal([]byte(js.String()), &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Intake[pipeline.MetricDropped]; got != float64(dropped) {
		t.Errorf("show --json intake[%q] = %v, want %d", pipeline.MetricDropped, got, dropped)
	}
}
