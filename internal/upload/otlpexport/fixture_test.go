package otlpexport

import (
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Identifiers of the run in testBatch.
var (
	testTrace   = telemetry.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	testRunSpan = telemetry.SpanID{0xa1, 2, 3, 4, 5, 6, 7, 8}
	testOTel    = telemetry.SpanID{0xb1, 2, 3, 4, 5, 6, 7, 8}
	testSDK     = telemetry.SpanID{0xc1, 2, 3, 4, 5, 6, 7, 8}
	testStart   = time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	testTags    = telemetry.Tags{"session_id": "sess-1", "run_id": "run-1", "deployment": "train", "team": "ml"}
)

// testRunSpan is the run span as the recorder writes it at exit.
func testRun() telemetry.Span {
	return telemetry.Span{
		TraceID: testTrace, SpanID: testRunSpan, Name: "python train.py",
		Start: testStart, End: testStart.Add(3 * time.Second),
		Tags: testTags.Clone(),
		Attributes: map[string]any{
			telemetry.AttrSpanKind:       telemetry.SpanKindRun,
			telemetry.AttrExecutableName: "python",
			telemetry.AttrCommandArgs:    []string{"python", "train.py"},
			telemetry.AttrPID:            int64(4242),
			telemetry.AttrExitCode:       int64(1),
			telemetry.AttrHostName:       "builder-7",
			telemetry.AttrPeakRSS:        int64(1 << 30),
			"cicd.pipeline.run.id":       "99",
			"vcs.ref.head.revision":      "abc123",
		},
		Status: telemetry.StatusError, StatusMessage: "exit code 1",
		Exceptions: []telemetry.Exception{{Type: "exit_code", Message: "exited with code 1", StackTrace: "Traceback...", Time: testStart.Add(3 * time.Second)}},
	}
}

// testBatch is one run: its span, a span from the program's OpenTelemetry
// SDK (as the intake records it), a span from the Graphsignal SDK with
// usage, payloads, events and a score, metrics of the three kinds, a log,
// a standalone score and an SDK upload (skipped).
func testBatch() telemetry.Batch {
	otelSpan := telemetry.Span{
		TraceID: testTrace, SpanID: testOTel, ParentSpanID: testRunSpan, Name: "GET /predict",
		Start: testStart.Add(time.Second), End: testStart.Add(2 * time.Second),
		Tags: testTags.Merge(telemetry.Tags{"user_id": "u-9"}),
		Attributes: map[string]any{
			"resource.service.name": "predictor",
			"resource.host.arch":    "amd64",
			"otel.scope.name":       "net/http",
			"otel.scope.version":    "1.2.3",
			"otel.span.kind":        "server",
			"graphsignal.intake":    "otlp",
			"http.route":            "/predict",
			"http.status_code":      int64(200),
			"retry":                 false,
			"ratio":                 0.5,
		},
		Status: telemetry.StatusOK,
		Events: []telemetry.Event{{Name: "cache.miss", Time: testStart.Add(1500 * time.Millisecond), Attributes: map[string]any{"key": "k1"}}},
	}
	sdkSpan := telemetry.Span{
		TraceID: testTrace, SpanID: testSDK, ParentSpanID: testOTel, Name: "openai.chat",
		Start: testStart.Add(1100 * time.Millisecond), End: testStart.Add(1900 * time.Millisecond),
		Tags:       testTags.Clone(),
		Attributes: map[string]any{"graphsignal.intake": "graphsignal_sdk", "model": "gpt-4o"},
		Usage: []telemetry.Usage{
			{Name: "prompt_tokens", Value: 12},
			{Name: "completion_tokens", Value: 30},
			{Name: "token_count", PayloadName: "input", Value: 3},
			{Name: "cost", Value: 0.25},
			{Name: "chars", PayloadName: "output", Value: 99},
		},
		Payloads: []telemetry.Payload{
			{Name: "input", ContentType: "application/json", Data: []byte(`{"q":"hi"}`)},
			{Name: "blob", Data: []byte{0xff, 0xfe}},
		},
		Exceptions:  []telemetry.Exception{{Type: "ValueError", Message: "bad", Time: testStart.Add(1800 * time.Millisecond)}},
		Scores:      []telemetry.Score{{Name: "relevance", Value: 0.9, Unit: "ratio", Comment: "good", Severity: 2, TraceID: testTrace, SpanID: testSDK, Time: testStart.Add(1900 * time.Millisecond)}},
		InSDKUpload: true, // exported like the others
	}
	return telemetry.Batch{
		Spans: []telemetry.Span{testRun(), otelSpan, sdkSpan},
		Metrics: []telemetry.Metric{
			{TraceID: testTrace, Name: "process.cpu.utilization", Kind: telemetry.Gauge, Unit: "1", Tags: testTags.Clone(), Time: testStart.Add(time.Second), Value: 0.75},
			{TraceID: testTrace, Name: "process.cpu.utilization", Kind: telemetry.Gauge, Unit: "1", Tags: testTags.Clone(), Time: testStart.Add(2 * time.Second), Value: 0.5},
			{TraceID: testTrace, Name: "requests", Kind: telemetry.Counter, Unit: "{request}", Tags: testTags.Merge(telemetry.Tags{"service.name": "predictor", "route": "/p"}), Time: testStart.Add(2 * time.Second), Value: 7},
			{TraceID: testTrace, Name: "latency", Kind: telemetry.Histogram, Unit: "s", Tags: testTags.Clone(), Time: testStart.Add(2 * time.Second),
				Buckets: []float64{0.1, 1}, Counts: []uint64{1, 2, 0}, Count: 3, Sum: 1.4},
		},
		Logs: []telemetry.Log{{
			Time: testStart.Add(2500 * time.Millisecond), Level: "error", Message: "oom in worker",
			Exception: "MemoryError: out of memory\n  at worker.py:3", Tags: testTags.Clone(), TraceID: testTrace, SpanID: testSDK,
		}},
		Scores:     []telemetry.Score{{Name: "thumbs_up", Value: 1, Tags: testTags.Merge(telemetry.Tags{"user_id": "u-9"}), TraceID: testTrace, Time: testStart.Add(4 * time.Second)}},
		SDKUploads: []telemetry.SDKUpload{{Time: testStart, Body: []byte{1, 2, 3}}},
	}
}
