package gsapi

import (
	"bytes"
	"context"
	"encoding/hex"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/graphsignal/graphsignal/internal/gpu"
	"github.com/graphsignal/graphsignal/internal/procmon"
	gen "github.com/graphsignal/graphsignal/internal/signalspb/signalspbgen"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func genTags(kv ...string) []*gen.Tag {
	var out []*gen.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, &gen.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

func genAttrs(kv ...string) []*gen.Attribute {
	var out []*gen.Attribute
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, &gen.Attribute{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func resID(parts ...string) string { return hex.EncodeToString(digest(parts...)[:16]) }

const stderrTail = "Traceback (most recent call last):\n  File \"train.py\", line 3\nValueError: bad ✗\n"

// failedRun is a run span that exited with code 3, with host, process and
// CI attributes.
func failedRun() telemetry.Span {
	return telemetry.Span{
		TraceID: testTrace, SpanID: runSpanID, Name: "python train.py",
		Start: t0, End: t0.Add(3 * time.Second), Tags: runTags.Clone(),
		Attributes: map[string]any{
			telemetry.AttrSpanKind: telemetry.SpanKindRun, telemetry.AttrExecutableName: "python",
			telemetry.AttrCommandArgs: []string{"python", "train.py", "--lr=0.1"}, telemetry.AttrPID: int64(42),
			telemetry.AttrExitCode: int64(3), telemetry.AttrCoreDumped: false,
			telemetry.AttrErrorKind: telemetry.ErrorKindExitCode, telemetry.AttrStderrTail: stderrTail,
			telemetry.AttrCPUUserTime: 1.5, telemetry.AttrHostName: "h1", "host.arch": "amd64", "os.type": "linux",
			"host.cpu.count": int64(2), "ci.provider": "github", "cicd.pipeline.run.id": "77", "vcs.ref.head.revision": "abc",
		},
		Status: telemetry.StatusError, StatusMessage: "exit code 3",
		Exceptions: []telemetry.Exception{{Type: telemetry.ErrorKindExitCode, Message: "exited with code 3", StackTrace: stderrTail, Time: t0.Add(3 * time.Second)}},
	}
}

func failedRunWant() *gen.UploadRequest {
	end := ns(3 * time.Second)
	trace, span := testTrace.String(), runSpanID.String()
	tags := genTags("deployment", "test", "run_id", "r-1", "session_id", "s-1")
	return &gen.UploadRequest{
		Spans: []*gen.Span{{
			SpanId: span, TraceId: trace, StartTs: ns(0), EndTs: end, Name: "python train.py",
			Tags: genTags("deployment", "test", "exception.name", "exit_code", "run_id", "r-1", "session_id", "s-1", "span.status", "error"),
			Attributes: genAttrs("ci.provider", "github", "cicd.pipeline.run.id", "77",
				"graphsignal.error.kind", "exit_code", "graphsignal.span.kind", "run", "graphsignal.stderr.tail", stderrTail,
				"host.arch", "amd64", "host.cpu.count", "2", "host.name", "h1", "os.type", "linux",
				"process.command_args", `["python","train.py","--lr=0.1"]`, "process.cpu.user_time", "1.5",
				"process.executable.name", "python", "process.exit.code", "3", "process.exit.core_dumped", "false",
				"process.pid", "42", "span.status.message", "exit code 3", "vcs.ref.head.revision", "abc"),
			Events: []*gen.SpanEvent{{Name: "exception", EventTs: end, Attributes: genAttrs(
				"exception.type", "exit_code", "exception.message", "exited with code 3", "exception.stacktrace", stderrTail)}},
		}},
		Issues: []*gen.Issue{{IssueId: trace + "-" + span, Tags: tags, Name: "exit_code", Severity: "error",
			Title: "python: exited with code 3", Description: stderrTail, IssueTs: end}},
		LogBatches: []*gen.LogBatch{{Tags: tags, LogEntries: []*gen.LogEntry{{
			Level: gen.LogEntry_ERROR_LEVEL, Message: "python: exited with code 3", Exception: stderrTail, LogTs: end}}}},
		Resources: []*gen.Resource{
			{ResourceId: resID("host", "host.name", "h1"), Kind: "host", Tags: genTags("host.name", "h1"),
				Attributes:  genAttrs("host.arch", "amd64", "host.cpu.count", "2", "host.name", "h1", "os.type", "linux"),
				FirstSeenTs: ns(0), LastSeenTs: end},
			{ResourceId: resID("process", trace, "host.name", "h1", "process.pid", "42"), Kind: "process", Tags: tags,
				Attributes: genAttrs("process.command_args", `["python","train.py","--lr=0.1"]`, "process.cpu.user_time", "1.5",
					"process.executable.name", "python", "process.exit.code", "3", "process.exit.core_dumped", "false", "process.pid", "42"),
				FirstSeenTs: ns(0), LastSeenTs: end},
			{ResourceId: resID("ci", "ci.provider", "github", "cicd.pipeline.run.id", "77"), Kind: "ci", Tags: tags,
				Attributes:  genAttrs("ci.provider", "github", "cicd.pipeline.run.id", "77", "vcs.ref.head.revision", "abc"),
				FirstSeenTs: ns(0), LastSeenTs: end},
		},
	}
}

// programSpan has every part a program's span can have.
func programSpan() telemetry.Span {
	return telemetry.Span{
		TraceID: testTrace, SpanID: telemetry.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, ParentSpanID: runSpanID,
		Name: "generate", Start: t0.Add(time.Second), End: t0.Add(2 * time.Second),
		Tags: telemetry.Tags{"model_type": "chat", "session_id": "s-1"},
		Attributes: map[string]any{"model": "gpt-4o", "temperature": 0.2, "stream": true, "n": int64(2),
			"big": 1e21, "stop": []string{"\n", "END"}, "graphsignal.linked_span_ids": []string{"0102030405060709"}},
		Status: telemetry.StatusError,
		Events: []telemetry.Event{{Name: "first_token", Time: t0.Add(1500 * time.Millisecond), Attributes: map[string]any{"n": int64(1), "a": "x"}}},
		Exceptions: []telemetry.Exception{
			{Type: "RateLimitError", Message: "429", StackTrace: "tb1", Time: t0.Add(1900 * time.Millisecond)},
			{Type: "ValueError"},
		},
		Payloads: []telemetry.Payload{
			{Name: "input", ContentType: "application/json", Data: []byte(`{"messages":[{"role":"user","content":"hi"}]}`)},
			{Name: "output", ContentType: "text/plain", Data: []byte("hello")},
			{Name: "blob", ContentType: "application/octet-stream", Data: []byte{0xff, 0x00, 0xfe}},
		},
		Usage:  []telemetry.Usage{{PayloadName: "input", Name: "token_count", Value: 12}, {Name: "cost_usd", Value: 0.25}},
		Scores: []telemetry.Score{{Name: "prompt_injection", Value: 0.7, Severity: 2, Time: t0.Add(1950 * time.Millisecond)}, {Name: "ok", Value: 1, Unit: "bool", Comment: "fine"}},
	}
}

func programSpanWant() *gen.UploadRequest {
	end := ns(2 * time.Second)
	tags := genTags("model_type", "chat", "session_id", "s-1")
	return &gen.UploadRequest{
		Spans: []*gen.Span{{
			SpanId: "0102030405060708", TraceId: testTrace.String(), ParentSpanId: runSpanID.String(),
			LinkedSpanIds: []string{"0102030405060709"}, StartTs: ns(time.Second), EndTs: end, Name: "generate",
			Tags: genTags("exception.name", "ValueError", "model_type", "chat", "session_id", "s-1", "span.status", "error"),
			Attributes: genAttrs("big", "1e+21", "model", "gpt-4o", "n", "2",
				"payload.blob", "/wD+", "payload.blob.content_type", "application/octet-stream;base64",
				"payload.input", `{"messages":[{"role":"user","content":"hi"}]}`,
				"payload.output", "hello", "payload.output.content_type", "text/plain",
				"stop", `["\n","END"]`, "stream", "true", "temperature", "0.2"),
			Counters: []*gen.Counter{{Name: "input.token_count", Value: 12}, {Name: "cost_usd", Value: 0.25}},
			Events: []*gen.SpanEvent{
				{Name: "first_token", EventTs: ns(1500 * time.Millisecond), Attributes: genAttrs("a", "x", "n", "1")},
				{Name: "exception", EventTs: ns(1900 * time.Millisecond), Attributes: genAttrs("exception.type", "RateLimitError", "exception.message", "429", "exception.stacktrace", "tb1")},
				{Name: "exception", EventTs: end, Attributes: genAttrs("exception.type", "ValueError")},
				{Name: "score", EventTs: ns(1950 * time.Millisecond), Attributes: genAttrs("name", "prompt_injection", "score", "0.7", "severity", "2")},
				{Name: "score", EventTs: end, Attributes: genAttrs("name", "ok", "score", "1", "unit", "bool", "comment", "fine")},
			},
		}},
		LogBatches: []*gen.LogBatch{{Tags: tags, LogEntries: []*gen.LogEntry{
			{Level: gen.LogEntry_ERROR_LEVEL, Message: "generate: RateLimitError: 429", Exception: "tb1", LogTs: end},
			{Level: gen.LogEntry_ERROR_LEVEL, Message: "generate: ValueError", LogTs: end},
		}}},
	}
}

func scoresCase() (telemetry.Batch, *gen.UploadRequest) {
	scored := telemetry.Score{Name: "user_feedback", Value: 1, Comment: "thumbs up", Tags: telemetry.Tags{"run_id": "r-1"},
		TraceID: testTrace, SpanID: telemetry.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, Time: t0.Add(5 * time.Second)}
	loose := telemetry.Score{Name: "eval", Value: -0.5, Unit: "points", Severity: 1, TraceID: testTrace}
	b := telemetry.Batch{Scores: []telemetry.Score{scored, loose}}
	at := ns(5 * time.Second)
	want := &gen.UploadRequest{Spans: []*gen.Span{
		{SpanId: scoreSpanID(&scored).String(), TraceId: testTrace.String(), ParentSpanId: "0102030405060708",
			StartTs: at, EndTs: at, Name: "score", Tags: genTags("run_id", "r-1"),
			Attributes: genAttrs("graphsignal.span.kind", "score"),
			Events:     []*gen.SpanEvent{{Name: "score", EventTs: at, Attributes: genAttrs("name", "user_feedback", "score", "1", "comment", "thumbs up")}}},
		{SpanId: scoreSpanID(&loose).String(), TraceId: testTrace.String(),
			StartTs: fixedNow.UnixNano(), EndTs: fixedNow.UnixNano(), Name: "score",
			Attributes: genAttrs("graphsignal.span.kind", "score"),
			Events:     []*gen.SpanEvent{{Name: "score", EventTs: fixedNow.UnixNano(), Attributes: genAttrs("name", "eval", "score", "-0.5", "unit", "points", "severity", "1")}}},
	}}
	return b, want
}

func metricsCase() (telemetry.Batch, *gen.UploadRequest) {
	m := func(name string, kind telemetry.MetricKind, unit string, d time.Duration, v float64) telemetry.Metric {
		return telemetry.Metric{TraceID: testTrace, Name: name, Kind: kind, Unit: unit, Tags: runTags, Time: t0.Add(d), Value: v}
	}
	hist := telemetry.Metric{TraceID: testTrace, Name: "latency", Kind: telemetry.Histogram, Unit: "s", Tags: runTags, Time: t0,
		Buckets: []float64{1, 10}, Counts: []uint64{1, 2, 3}, Count: 6, Sum: 50}
	hist2 := hist
	hist2.Time, hist2.Counts, hist2.Count, hist2.Sum = t0.Add(time.Second), []uint64{1, 4, 3}, 8, 60
	summary := telemetry.Metric{TraceID: testTrace, Name: "batch_size", Kind: telemetry.Histogram, Tags: runTags, Time: t0,
		Counts: []uint64{4}, Count: 4, Sum: 8}
	neg := telemetry.Metric{TraceID: testTrace, Name: "temp", Kind: telemetry.Histogram, Time: t0,
		Buckets: []float64{-10, 0, 10}, Counts: []uint64{1, 0, 0, 1}, Count: 2, Sum: -5}
	b := telemetry.Batch{Metrics: []telemetry.Metric{
		m("process.cpu.usage", telemetry.Gauge, "%", 0, 200),
		m("process.memory.usage", telemetry.Gauge, "By", 0, 1e6),
		m("process.threads", telemetry.Gauge, "{count}", 0, 7),
		m("process.cpu.usage", telemetry.Gauge, "%", time.Second, 100),
		m("process.cpu.user_time", telemetry.Counter, "s", 0, 10),
		m("process.cpu.user_time", telemetry.Counter, "s", time.Second, 25),
		hist, hist2, summary, neg,
		{Name: "sdk.metric", Kind: telemetry.Gauge, Value: 1, InSDKUpload: true},
		{Name: "bad kind", Kind: 0},
	}}
	tags := genTags("deployment", "test", "run_id", "r-1", "session_id", "s-1")
	gauge := func(d time.Duration, v float64) *gen.DataPoint {
		return &gen.DataPoint{MeasurementTs: ns(d), Value: &gen.DataPoint_Gauge{Gauge: v}}
	}
	total := func(d time.Duration, v float64) *gen.DataPoint {
		return &gen.DataPoint{MeasurementTs: ns(d), Value: &gen.DataPoint_Total{Total: v}}
	}
	hdp := func(d time.Duration, bins []float64, counts []int64) *gen.DataPoint {
		return &gen.DataPoint{MeasurementTs: ns(d), Value: &gen.DataPoint_Histogram_{Histogram: &gen.DataPoint_Histogram{Bins: bins, Counts: counts}}}
	}
	want := &gen.UploadRequest{Metrics: []*gen.Metric{
		{Name: "process.cpu.usage", Tags: tags, Type: gen.Metric_GAUGE_METRIC, Unit: "%", Datapoints: []*gen.DataPoint{gauge(0, 50), gauge(time.Second, 25)}},
		{Name: "process.memory.usage", Tags: tags, Type: gen.Metric_GAUGE_METRIC, Datapoints: []*gen.DataPoint{gauge(0, 1e6)}},
		{Name: "process.threads", Tags: tags, Type: gen.Metric_GAUGE_METRIC, Unit: "{count}", Datapoints: []*gen.DataPoint{gauge(0, 7)}},
		{Name: "process.cpu.user_time", Tags: tags, Type: gen.Metric_COUNTER_METRIC, Unit: "s", Datapoints: []*gen.DataPoint{total(0, 10), total(time.Second, 15)}},
		{Name: "latency", Tags: tags, Type: gen.Metric_HISTOGRAM_METRIC, Unit: "s", Datapoints: []*gen.DataPoint{
			hdp(0, []float64{0, 1, 10}, []int64{1, 2, 3}), hdp(time.Second, []float64{0, 1, 10}, []int64{0, 2, 0})}},
		{Name: "batch_size", Tags: tags, Type: gen.Metric_SUMMARY_METRIC, Datapoints: []*gen.DataPoint{{MeasurementTs: ns(0),
			Value: &gen.DataPoint_Summary_{Summary: &gen.DataPoint_Summary{Count: 4, Sum: 8}}}}},
		{Name: "temp", Type: gen.Metric_HISTOGRAM_METRIC, Datapoints: []*gen.DataPoint{hdp(0, []float64{-20, -10, 0, 10}, []int64{1, 0, 0, 1})}},
	}}
	return b, want
}

func logsCase() (telemetry.Batch, *gen.UploadRequest) {
	a, b := telemetry.Tags{"logger": "app", "session_id": "s-1"}, telemetry.Tags{"session_id": "s-1"}
	batch := telemetry.Batch{Logs: []telemetry.Log{
		{Time: t0, Level: "warning", Message: "slow", Tags: a, TraceID: testTrace},
		{Time: t0.Add(time.Second), Level: "INFO", Message: "step 1", Tags: b},
		{Time: t0.Add(2 * time.Second), Level: "error", Message: "boom", Exception: "Traceback", Tags: a},
		{Time: t0.Add(3 * time.Second), Level: "fatal", Message: "dead", Tags: b},
		{Time: t0.Add(4 * time.Second), Level: "verbose", Message: "odd level", Tags: b},
		{Time: t0.Add(5 * time.Second), Level: "trace", Message: "t", Tags: a},
		{Time: t0.Add(6 * time.Second), Level: "debug", Message: "d", Tags: a},
		{Message: "from the sdk", InSDKUpload: true},
	}}
	want := &gen.UploadRequest{LogBatches: []*gen.LogBatch{
		{Tags: genTags("logger", "app", "session_id", "s-1"), LogEntries: []*gen.LogEntry{
			{Level: gen.LogEntry_WARNING_LEVEL, Message: "slow", LogTs: ns(0)},
			{Level: gen.LogEntry_ERROR_LEVEL, Message: "boom", Exception: "Traceback", LogTs: ns(2 * time.Second)},
			{Level: gen.LogEntry_TRACE_LEVEL, Message: "t", LogTs: ns(5 * time.Second)},
			{Level: gen.LogEntry_DEBUG_LEVEL, Message: "d", LogTs: ns(6 * time.Second)},
		}},
		{Tags: genTags("session_id", "s-1"), LogEntries: []*gen.LogEntry{
			{Level: gen.LogEntry_INFO_LEVEL, Message: "step 1", LogTs: ns(time.Second)},
			{Level: gen.LogEntry_CRITICAL_LEVEL, Message: "dead", LogTs: ns(3 * time.Second)},
			{Level: gen.LogEntry_UNSPECIFIED_LEVEL, Message: "odd level", LogTs: ns(4 * time.Second)},
		}},
	}}
	return batch, want
}

// sdkBody is a serialized UploadRequest as the SDK sends it, followed by a
// field this schema does not know (number 99, a varint) that must reach the
// API as it is.
func sdkBody(t testing.TB, spanID string) []byte {
	t.Helper()
	body, err := proto.Marshal(&gen.UploadRequest{
		Spans: []*gen.Span{{SpanId: spanID, TraceId: "0123456789ab", Name: "openai.chat", StartTs: ns(0), EndTs: ns(time.Second),
			Tags: genTags("session_id", "s-1")}},
		Metrics: []*gen.Metric{{Name: "span.call.count", Type: gen.Metric_COUNTER_METRIC,
			Datapoints: []*gen.DataPoint{{Value: &gen.DataPoint_Total{Total: 1}, MeasurementTs: ns(0)}}}},
		UploadTs: ns(0),
	})
	if err != nil {
		t.Fatal(err)
	}
	body = protowire.AppendTag(body, 99, protowire.VarintType)
	return protowire.AppendVarint(body, 12345)
}

func TestSendMapping(t *testing.T) {
	srv := newAPIServer(t)
	scores, scoresWant := scoresCase()
	metrics, metricsWant := metricsCase()
	logs, logsWant := logsCase()
	sdkSpan := programSpan()
	sdkSpan.InSDKUpload = true
	tests := []struct {
		name  string
		batch telemetry.Batch
		want  *gen.UploadRequest
	}{
		{"failed run", telemetry.Batch{Spans: []telemetry.Span{failedRun()}}, failedRunWant()},
		{"program span", telemetry.Batch{Spans: []telemetry.Span{programSpan()}}, programSpanWant()},
		{"scores", scores, scoresWant},
		{"metrics", metrics, metricsWant},
		{"logs", logs, logsWant},
		{"records of SDK uploads are not mapped", telemetry.Batch{Spans: []telemetry.Span{sdkSpan}}, &gen.UploadRequest{}},
		{"empty", telemetry.Batch{}, &gen.UploadRequest{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSender(t, srv.URL, nil) // fresh counter state
			res, err := s.Send(context.Background(), tt.batch)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.last(t)
			tt.want.UploadTs = fixedNow.UnixNano()
			if diff := cmp.Diff(tt.want, got.req, protocmp.Transform()); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			if res.Bytes != len(got.gz) {
				t.Errorf("Result.Bytes = %d, want the %d bytes received", res.Bytes, len(got.gz))
			}
		})
	}
}

func TestSendHeaders(t *testing.T) {
	srv := newAPIServer(t)
	s := newSender(t, srv.URL+"/prefix/", nil)
	if _, err := s.Send(context.Background(), telemetry.Batch{Spans: []telemetry.Span{programSpan()}}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.last(t)
	want := map[string]string{
		"X-Api-Key": testKey, "Content-Type": "application/octet-stream",
		"Content-Encoding": "gzip", "User-Agent": "graphsignal/1.2.3",
	}
	for k, v := range want {
		if g := got.header.Get(k); g != v {
			t.Errorf("header %s = %q, want %q", k, g, v)
		}
	}
	if got.path != "/prefix/api/v1/signals/" {
		t.Errorf("path %q, want /prefix/api/v1/signals/", got.path)
	}
	if !bytes.HasPrefix(got.gz, []byte{0x1f, 0x8b}) {
		t.Errorf("body is not gzip: % x", got.gz[:min(len(got.gz), 4)])
	}
}

// TestSendSDKUploads checks that SDK bodies arrive byte for byte after the
// mapped records, so that one request carries both, unknown fields included.
func TestSendSDKUploads(t *testing.T) {
	srv := newAPIServer(t)
	s := newSender(t, srv.URL, nil)
	bodies := [][]byte{sdkBody(t, "a1b2c3d4e5f6"), sdkBody(t, "b1b2c3d4e5f6")}
	b := telemetry.Batch{
		Spans:      []telemetry.Span{failedRun(), {Name: "decoded from the sdk", InSDKUpload: true}},
		Metrics:    []telemetry.Metric{{Name: "span.call.count", Kind: telemetry.Counter, Value: 1, InSDKUpload: true}},
		Logs:       []telemetry.Log{{Message: "sdk log", InSDKUpload: true}},
		SDKUploads: []telemetry.SDKUpload{{Time: t0, Body: bodies[0]}, {Time: t0, Body: bodies[1]}},
	}
	if _, err := s.Send(context.Background(), b); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.last(t)
	joined := slices.Concat(bodies...)
	if !bytes.HasSuffix(got.raw, joined) {
		t.Fatalf("the request body does not end with the SDK bodies as sent")
	}
	var names []string
	for _, sp := range got.req.GetSpans() {
		names = append(names, sp.GetName()+"/"+sp.GetSpanId())
	}
	wantNames := []string{"python train.py/" + runSpanID.String(), "openai.chat/a1b2c3d4e5f6", "openai.chat/b1b2c3d4e5f6"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("spans %q, want %q", names, wantNames)
	}
	if n := len(got.req.GetMetrics()); n != 2 {
		t.Errorf("%d metrics, want the 2 of the SDK bodies", n)
	}
	if got.req.GetUploadTs() != ns(0) {
		// The last upload_ts in the body wins: the SDK's own.
		t.Errorf("upload_ts %d, want the last body's %d", got.req.GetUploadTs(), ns(0))
	}
	unknown := got.req.ProtoReflect().GetUnknown()
	want := protowire.AppendVarint(protowire.AppendTag(nil, 99, protowire.VarintType), 12345)
	if !bytes.Equal(unknown, slices.Concat(want, want)) {
		t.Errorf("unknown fields % x, want the SDK's field 99 twice", unknown)
	}
}

// TestSendCounterDeltas checks that cumulative counters become per-upload
// deltas across requests, and that a refused request does not advance them.
func TestSendCounterDeltas(t *testing.T) {
	srv := newAPIServer(t)
	s := newSender(t, srv.URL, nil)
	point := func(v float64) telemetry.Batch {
		return telemetry.Batch{Metrics: []telemetry.Metric{{TraceID: testTrace, Name: "requests", Kind: telemetry.Counter, Time: t0, Value: v}}}
	}
	steps := []struct {
		value  float64
		status int
		want   float64
	}{
		{10, 200, 10},
		{25, 503, 15},
		{30, 200, 20}, // the 503 did not count
		{32, 200, 2},
		{5, 200, 5}, // a reset
	}
	for _, st := range steps {
		srv.answer(st.status, nil, "")
		_, err := s.Send(context.Background(), point(st.value))
		if (err == nil) != (st.status == 200) {
			t.Fatalf("Send(%v) with %d: %v", st.value, st.status, err)
		}
		got := srv.last(t).req.GetMetrics()[0].GetDatapoints()[0].GetTotal()
		if got != st.want {
			t.Errorf("counter %v sent as total %v, want %v", st.value, got, st.want)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	tests := []struct{ base, want string }{
		{"", `api base "": scheme must be http or https`},
		{"ftp://api.graphsignal.com", `api base "ftp://api.graphsignal.com": scheme must be http or https`},
		{"https://", `api base "https:": no host`},
		{"https://api.graphsignal.com/?key=" + testKey, `api base "https://api.graphsignal.com/": a query or fragment is not allowed`},
		{"https://user:" + testKey + "@api.graphsignal.com", `api base "https://redacted@api.graphsignal.com": credentials in the URL are not allowed (the key is sent as a header)`},
		{"https://api.graphsignal.com:99999", `api base "https://api.graphsignal.com:99999": bad port`},
		{"https://u:" + testKey + "@[::1", `api base "https://redacted@[::1": not a URL`},
	}
	for _, tt := range tests {
		_, err := New(Config{APIBase: tt.base, APIKey: testKey})
		if err == nil || err.Error() != tt.want {
			t.Errorf("New(%q) = %v, want %s", tt.base, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), testKey) {
			t.Errorf("New(%q) error shows the key: %v", tt.base, err)
		}
	}
	for _, key := range []string{"", testKey + "\n", "gs key", "gs\x00key", "clé"} {
		_, err := New(Config{APIBase: "https://api.graphsignal.com", APIKey: key})
		if err == nil {
			t.Errorf("New with the key %q succeeded", key)
		} else if key != "" && strings.Contains(err.Error(), key) {
			t.Errorf("New with a bad key shows it: %v", err)
		}
	}
}

func TestNameAndInsecureKey(t *testing.T) {
	tests := []struct {
		base, name string
		insecure   bool
	}{
		{"https://api.graphsignal.com", "Graphsignal API https://api.graphsignal.com", false},
		{"https://api.graphsignal.com/", "Graphsignal API https://api.graphsignal.com", false},
		{"http://api.example.com:8080/gs", "Graphsignal API http://api.example.com:8080/gs", true},
		{"http://127.0.0.1:5000", "Graphsignal API http://127.0.0.1:5000", false},
		{"http://[::1]:5000", "Graphsignal API http://[::1]:5000", false},
		{"http://localhost:5000", "Graphsignal API http://localhost:5000", false},
		{"http://LOCALHOST:9", "Graphsignal API http://LOCALHOST:9", false},
		{"http://web.Localhost.:9", "Graphsignal API http://web.Localhost.:9", false},
		{"http://10.0.0.1", "Graphsignal API http://10.0.0.1", true},
		{"HTTPS://API.example.com//", "Graphsignal API https://API.example.com", false},
	}
	for _, tt := range tests {
		s := newSender(t, tt.base, nil)
		if s.Name() != tt.name || s.InsecureKey() != tt.insecure {
			t.Errorf("New(%q): Name %q InsecureKey %v, want %q %v", tt.base, s.Name(), s.InsecureKey(), tt.name, tt.insecure)
		}
	}
}

func TestSendNoRedirect(t *testing.T) {
	target := newAPIServer(t)
	srv := newAPIServer(t)
	srv.answer(http.StatusTemporaryRedirect, http.Header{"Location": {target.URL + "/api/v1/signals/"}}, "")
	s := newSender(t, srv.URL, nil)
	_, err := s.Send(context.Background(), telemetry.Batch{})
	want := "upload rejected by Graphsignal API " + srv.URL + ": redirected, not followed (check --api-base) (307)"
	if err == nil || err.Error() != want {
		t.Errorf("Send = %v, want %s", err, want)
	}
	target.mu.Lock()
	defer target.mu.Unlock()
	if len(target.got) != 0 {
		t.Errorf("the redirect was followed with the key")
	}
}

// TestSDKMetricNames keeps the SDK's metric names here and in the process
// monitor the same.
func TestSDKMetricNames(t *testing.T) {
	pairs := [][2]string{
		{metricCPUUsage, procmon.MetricCPUUsage}, {metricMemoryUsage, procmon.MetricMemoryUsage},
		{metricMemoryVirtual, procmon.MetricMemoryVirtual}, {metricHostMemoryUsage, procmon.MetricHostMemoryUsage},
	}
	for _, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("gsapi maps %q, procmon emits %q", p[0], p[1])
		}
	}
}

// TestSendGPUResources: each GPU the run sampled is a resource of kind
// "gpu" with its facts and the driver's, identified by host and UUID; the
// run's GPU figures stay on the run span.
func TestSendGPUResources(t *testing.T) {
	srv := newAPIServer(t)
	run := failedRun()
	g := gpu.Result{System: gpu.System{DriverVersion: "550.54.15", CUDAVersion: "12.4"}, Devices: []gpu.DeviceResult{{
		Device: gpu.Device{Index: 3, UUID: "GPU-abc", Name: "NVIDIA H100 80GB HBM3", BusID: "00000000:18:00.0",
			Architecture: "Hopper", ComputeCapability: "9.0", MemoryTotal: 80 << 30, MIG: "disabled"},
		HaveUtilization: true, UtilizationAvg: 50, UtilizationPeak: 90}}}
	maps.Copy(run.Attributes, g.Attributes())
	s := newSender(t, srv.URL, nil)
	if _, err := s.Send(context.Background(), telemetry.Batch{Spans: []telemetry.Span{run}}); err != nil {
		t.Fatal(err)
	}
	var got []*gen.Resource
	for _, r := range srv.last(t).req.Resources {
		if r.Kind == "gpu" {
			got = append(got, r)
		}
	}
	want := []*gen.Resource{{ResourceId: resID("gpu", "h1", "GPU-abc"), Kind: "gpu",
		Tags: genTags("device.uuid", "GPU-abc", "host.name", "h1"),
		Attributes: genAttrs("device.architecture", "Hopper", "device.bus_id", "00000000:18:00.0",
			"device.compute_capability", "9.0", "device.index", "3", "device.memory.total", "85899345920",
			"device.mig", "disabled", "device.name", "NVIDIA H100 80GB HBM3",
			"gpu.cuda.version", "12.4", "gpu.driver.version", "550.54.15"),
		FirstSeenTs: ns(0), LastSeenTs: ns(3 * time.Second)}}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("gpu resources (-want +got):\n%s", diff)
	}
}

func TestCheckKey(t *testing.T) {
	for _, tt := range []struct {
		key string
		ok  bool
	}{{"sk-abc_123.XYZ", true}, {"", false}, {"sk abc", false}, {"sk-abc\n", false}, {"sk-tëst", false}, {"sk\x7f", false}} {
		err := CheckKey(tt.key)
		if (err == nil) != tt.ok {
			t.Errorf("CheckKey(%q) = %v, want ok %v", tt.key, err, tt.ok)
		}
		if err != nil && tt.key != "" && strings.Contains(err.Error(), tt.key) {
			t.Errorf("CheckKey(%q) = %v quotes the key", tt.key, err)
		}
	}
}
