package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Set GRAPHSIGNAL_UPDATE_GOLDEN=1 to rewrite testdata/*.golden from the
// current output (then review the diff).
const updateEnv = "GRAPHSIGNAL_UPDATE_GOLDEN"

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 123456789, time.UTC)

func mustTrace(s string) telemetry.TraceID {
	id, err := telemetry.ParseTraceID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func mustSpan(s string) telemetry.SpanID {
	id, err := telemetry.ParseSpanID(s)
	if err != nil {
		panic(err)
	}
	return id
}

func fixtureSessions() []store.SessionSummary {
	return []store.SessionSummary{
		{ID: "s-43", FirstStart: t0.Add(time.Hour), Runs: 1, InProgress: 1, Deployments: []string{"serve"}},
		{ID: "s-42", FirstStart: t0, LastEnd: t0.Add(80 * time.Second), Duration: 80 * time.Second, Runs: 12,
			Failures: 3, Deployments: []string{"eval", "train"}, Users: []string{"bob"}, Programs: []string{"python3", "train"}},
	}
}

func fixtureDetail() *store.SessionDetail {
	stderr := make([]string, 15)
	for i := range stderr {
		stderr[i] = "line " + string(rune('a'+i))
	}
	stderr[14] = "\x1b[31mValueError: bad input\x1b[0m"
	cpuPoints := make([]store.Point, 8)
	for i := range cpuPoints {
		cpuPoints[i] = store.Point{Time: t0.Add(time.Duration(i) * time.Second), Value: float64(i * i)}
	}
	trace := mustTrace("0af7651916cd43dd8448eb211c80319c")
	return &store.SessionDetail{
		Summary: store.SessionSummary{ID: "s-42", FirstStart: t0, LastEnd: t0.Add(80 * time.Second),
			Duration: 80 * time.Second, Runs: 5, Failures: 4, InProgress: 1, Deployments: []string{"train"},
			Users: []string{"bob"}, Programs: []string{"python3", "train"}},
		Runs: []store.Run{
			{
				Name: "python", TraceID: trace, SpanID: mustSpan("b7ad6b7169203331"),
				Start: t0, End: t0.Add(12500 * time.Millisecond), Duration: 12500 * time.Millisecond,
				Status: telemetry.StatusError, HasExitCode: true, ExitCode: 3, ErrorKind: telemetry.ErrorKindExitCode,
				ErrorMessage: "exited with code 3", StderrTail: strings.Join(stderr, "\n") + "\n",
				Resources: store.Resources{Known: true, CPUUser: 1500 * time.Millisecond, CPUSystem: 200 * time.Millisecond,
					PeakRSS: 512 << 20, ReadBytes: 1258291, WriteBytes: 3072, PeakThreads: 12, PeakProcs: 3},
				Tags: telemetry.Tags{"session_id": "s-42", "deployment": "train", "user_id": "bob"},
				CI:   map[string]string{"cicd.pipeline.run.id": "991"},
				Attributes: map[string]any{
					telemetry.AttrCommandArgs: []string{"python", "train.py", "--epochs", "3"},
					telemetry.AttrHostName:    "box",
					telemetry.AttrExitCode:    int64(3),
				},
				Metrics: []store.MetricSummary{
					{Name: "gpu.utilization", Unit: "%", Kind: telemetry.Gauge, Tags: telemetry.Tags{"gpu": "0"},
						Count: 2, Min: 10, Avg: 15, Max: 20, Last: 20,
						Points: []store.Point{{Time: t0, Value: 10}, {Time: t0.Add(time.Second), Value: 20}}},
					{Name: "process.cpu.usage", Unit: "%", Kind: telemetry.Gauge, Count: 8, Min: 0, Avg: 17.5, Max: 49,
						Last: 49, Points: cpuPoints},
					{Name: "process.memory.usage", Unit: "By", Kind: telemetry.Gauge, Count: 1, Min: 1 << 20,
						Avg: 1 << 20, Max: 1 << 20, Last: 1 << 20, Points: []store.Point{{Time: t0, Value: 1 << 20}}},
				},
				Spans: []store.SpanStats{
					{Name: "embed", Count: 1, P50: 5 * time.Millisecond, P90: 5 * time.Millisecond, P95: 5 * time.Millisecond,
						P99: 5 * time.Millisecond, Max: 5 * time.Millisecond, Histogram: [store.HistogramBuckets]int{3: 1},
						SelfTime: 5 * time.Millisecond},
					{Name: "generate", Count: 101, Errors: 10, InProgress: 1, P50: 50 * time.Millisecond,
						P90: 90 * time.Millisecond, P95: 95 * time.Millisecond, P99: 99 * time.Millisecond,
						Max: 1500 * time.Millisecond, Histogram: [store.HistogramBuckets]int{1, 1, 2, 4, 8, 16, 32, 35, 11: 1},
						SelfTime: 4200 * time.Millisecond, TTFT: &store.TTFTStats{Count: 90, P50: 20 * time.Millisecond,
							P90: 40 * time.Millisecond, P99: 60 * time.Millisecond, Max: 70 * time.Millisecond}},
				},
				OutsideSpans: 8295 * time.Millisecond,
				Intake:       []store.Count{{Name: "graphsignal.intake.bad_lines", Value: 4}},
			},
			{Name: "sleep", TraceID: mustTrace("1af7651916cd43dd8448eb211c80319c"), SpanID: mustSpan("c7ad6b7169203331"),
				Start: t0.Add(20 * time.Second), End: t0.Add(21 * time.Second), Duration: time.Second,
				Status: telemetry.StatusError, HasExitCode: true, ExitCode: 137, Signal: "SIGKILL",
				ErrorKind: telemetry.ErrorKindSignal},
			{Name: "hog", TraceID: mustTrace("2af7651916cd43dd8448eb211c80319c"), SpanID: mustSpan("d7ad6b7169203331"),
				Start: t0.Add(30 * time.Second), End: t0.Add(31 * time.Second), Duration: time.Second,
				Status: telemetry.StatusError, HasExitCode: true, ExitCode: 137, Signal: "SIGKILL",
				ErrorKind: telemetry.ErrorKindOOMKill},
			{Name: "nosuch", TraceID: mustTrace("3af7651916cd43dd8448eb211c80319c"), SpanID: mustSpan("e7ad6b7169203331"),
				Start: t0.Add(40 * time.Second), End: t0.Add(40*time.Second + time.Millisecond), Duration: time.Millisecond,
				Status: telemetry.StatusError, HasExitCode: true, ExitCode: 127, ErrorKind: telemetry.ErrorKindExecFailure,
				ErrorMessage: "executable file not found in $PATH"},
			{Name: "train", TraceID: mustTrace("4af7651916cd43dd8448eb211c80319c"), SpanID: mustSpan("f7ad6b7169203331"),
				ParentSpanID: mustSpan("b7ad6b7169203331"), Start: t0.Add(50 * time.Second),
				LastSeen: t0.Add(75 * time.Second)},
		},
		Scores: []store.Score{
			{Name: "user_feedback", Value: 1, Comment: "thumbs up", TraceID: trace, Time: t0.Add(5 * time.Second),
				Tags: telemetry.Tags{"run_id": "abc"}},
			{Name: "prompt_injection", Value: 0.7, Unit: "p", Severity: 2, TraceID: trace,
				SpanID: mustSpan("a7ad6b7169203331"), Time: t0.Add(6 * time.Second)},
			{Name: "broken", Value: math.NaN(), Time: t0.Add(7 * time.Second)},
		},
		ScoreSummaries: []store.ScoreSummary{
			{Name: "broken", Count: 1},
			{Name: "prompt_injection", Unit: "p", Count: 1, Valued: 1, Mean: 0.7, Min: 0.7, P50: 0.7, Max: 0.7,
				Distribution: []store.ScoreBucket{{Low: 0.7, High: 0.7, Count: 1}}},
			{Name: "user_feedback", Count: 3, Valued: 3, Mean: 1.0 / 3, Min: 0, P50: 0, Max: 1,
				Distribution: []store.ScoreBucket{{Low: 0, High: 0, Count: 2}, {Low: 1, High: 1, Count: 1}},
				Worst: []store.WorstScore{{Score: store.Score{Name: "user_feedback", Value: 0, Comment: "thumbs down",
					TraceID: trace, SpanID: mustSpan("a7ad6b7169203331"), Time: t0.Add(8 * time.Second)}, SpanName: "generate"}}},
		},
		Intake: []store.Count{{Name: "graphsignal.intake.bad_lines", Value: 4}},
		Logs:   []store.Count{{Name: "error", Value: 2}, {Name: "info", Value: 5}},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if os.Getenv(updateEnv) != "" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (set %s=1 to create it): %v", updateEnv, err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// fixtureDeliveries says where fixtureDetail's runs went: one run to two
// destinations (delivered, pending with records refused), one dropped at
// one and refused in part at another, the others nowhere.
func fixtureDeliveries() Deliveries {
	return Deliveries{
		mustSpan("b7ad6b7169203331"): {
			{Destination: "Graphsignal API https://api.graphsignal.com", State: DeliveryDelivered, Acknowledged: 52_000},
			{Destination: "OTLP http://collector:4318", State: DeliveryPending, Acknowledged: 20_480, Size: 52_000,
				Refused: 3, Why: "partial success: 3 spans without a name"},
		},
		mustSpan("c7ad6b7169203331"): {
			{Destination: "Graphsignal API https://api.graphsignal.com", State: DeliveryRefused, Acknowledged: 9_000,
				Refused: 16, Why: "400: bad request"},
			{Destination: "OTLP http://collector:4318", State: DeliveryDropped, Why: "older than 168h0m0s"},
		},
	}
}

func TestGolden(t *testing.T) {
	text := Options{Location: time.UTC, Deliveries: fixtureDeliveries()}
	term := Options{Location: time.UTC, Terminal: true}
	jsonOpts := Options{Format: JSON, Deliveries: fixtureDeliveries()}
	tests := []struct {
		name   string
		render func(w *bytes.Buffer) error
	}{
		{"sessions.txt", func(w *bytes.Buffer) error { return Sessions(w, fixtureSessions(), text) }},
		{"sessions_empty.txt", func(w *bytes.Buffer) error { return Sessions(w, nil, text) }},
		{"sessions.json", func(w *bytes.Buffer) error { return Sessions(w, fixtureSessions(), jsonOpts) }},
		{"sessions_empty.json", func(w *bytes.Buffer) error { return Sessions(w, nil, jsonOpts) }},
		{"show.txt", func(w *bytes.Buffer) error { return Show(w, fixtureDetail(), text) }},
		{"show_terminal.txt", func(w *bytes.Buffer) error { return Show(w, fixtureDetail(), term) }},
		{"show.json", func(w *bytes.Buffer) error { return Show(w, fixtureDetail(), jsonOpts) }},
		{"show_minimal.json", func(w *bytes.Buffer) error {
			return Show(w, &store.SessionDetail{Summary: store.SessionSummary{ID: "x", Runs: 1},
				Runs: []store.Run{{Name: "true"}}}, jsonOpts)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.render(&b); err != nil {
				t.Fatalf("render = %v", err)
			}
			golden(t, tt.name, b.Bytes())
		})
	}
}

type failWriter struct{ n int }

var errWrite = errors.New("disk full")

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errWrite
	}
	f.n--
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name   string
		okN    int // writes that succeed before the failure
		render func(w *failWriter) error
	}{
		{"sessions text", 0, func(w *failWriter) error { return Sessions(w, fixtureSessions(), Options{}) }},
		{"sessions json", 0, func(w *failWriter) error { return Sessions(w, fixtureSessions(), Options{Format: JSON}) }},
		{"show json", 0, func(w *failWriter) error { return Show(w, fixtureDetail(), Options{Format: JSON}) }},
		{"show text", 0, func(w *failWriter) error { return Show(w, fixtureDetail(), Options{}) }},
		{"show text, late failure", 5, func(w *failWriter) error { return Show(w, fixtureDetail(), Options{}) }},
	}
	for _, tt := range tests {
		if err := tt.render(&failWriter{n: tt.okN}); !errors.Is(err, errWrite) {
			t.Errorf("%s to a writer failing after %d writes = %v, want %v", tt.name, tt.okN, err, errWrite)
		}
	}
	if err := Show(io.Discard, nil, Options{}); err == nil {
		t.Error("Show(nil detail) = nil, want an error")
	}
}

// TestStoreToJSON renders a real store's query result and reads the JSON
// back as a script would.
func TestStoreToJSON(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run := telemetry.Span{TraceID: telemetry.NewTraceID(), SpanID: telemetry.NewSpanID(), Name: "make",
		Start: t0, End: t0.Add(2 * time.Second), Status: telemetry.StatusError,
		Tags: telemetry.Tags{telemetry.TagSessionID: "ci-7"},
		Attributes: map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun, telemetry.AttrExitCode: int64(2),
			telemetry.AttrErrorKind: telemetry.ErrorKindExitCode}}
	b := telemetry.Batch{Spans: []telemetry.Span{run}}
	for i := 1; i <= 20; i++ {
		b.Spans = append(b.Spans, telemetry.Span{TraceID: run.TraceID, SpanID: telemetry.NewSpanID(),
			ParentSpanID: run.SpanID, Name: "step", Start: t0, End: t0.Add(time.Duration(i) * time.Millisecond)})
	}
	if err := st.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	d, err := st.Session(ctx, "ci-7")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Show(&out, d, Options{Format: JSON}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		SchemaVersion int `json:"schema_version"`
		Runs          []struct {
			TraceID  string `json:"trace_id"`
			Outcome  string `json:"outcome"`
			ExitCode *int   `json:"exit_code"`
			Start    string `json:"start"`
			Spans    []struct {
				Name       string  `json:"name"`
				Count      int     `json:"count"`
				P95Seconds float64 `json:"p95_seconds"`
			} `json:"spans"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("decode show JSON: %v\n%s", err, out.Bytes())
	}
	if doc.SchemaVersion != SchemaVersion || len(doc.Runs) != 1 {
		t.Fatalf("doc = %+v", doc)
	}
	r := doc.Runs[0]
	if r.TraceID != run.TraceID.String() || r.Outcome != "exit 2" || r.ExitCode == nil || *r.ExitCode != 2 {
		t.Errorf("run = %+v", r)
	}
	if start, err := time.Parse(time.RFC3339Nano, r.Start); err != nil || !start.Equal(t0) {
		t.Errorf("start = %q (%v), want %v", r.Start, err, t0)
	}
	if len(r.Spans) != 1 || r.Spans[0].Count != 20 || r.Spans[0].P95Seconds != 0.019 {
		t.Errorf("spans = %+v, want step x20 with p95 0.019s", r.Spans)
	}
}
