package httpintake

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/graphsignal/graphsignal/internal/signalspb/signalspbgen"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func sdkHeaders(key string) map[string]string {
	h := map[string]string{"Content-Type": "application/octet-stream", "Content-Encoding": "gzip"}
	if key != "" {
		h["X-API-Key"] = key
	}
	return h
}

func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sdkUpload is what the Graphsignal SDK sends: ids of 12 hex digits, tags,
// attributes, counters, an exception event, metrics and a log batch.
func sdkUpload(counter float64) *signalspbgen.UploadRequest {
	ns := t0.UnixNano()
	return &signalspbgen.UploadRequest{
		UploadTs: ns,
		Spans: []*signalspbgen.Span{{
			SpanId: "a1b2c3d4e5f6", TraceId: "0123456789ab", ParentSpanId: "ffeeddccbbaa",
			LinkedSpanIds: []string{"not-hex"},
			StartTs:       ns, EndTs: ns + 5e6, Name: "openai.chat.completions.create",
			Tags:       []*signalspbgen.Tag{{Key: "model_type", Value: "chat"}, {Key: "session_id", Value: "sdk-session"}, {Key: "span.status", Value: "error"}},
			Attributes: []*signalspbgen.Attribute{{Name: "model", Value: "gpt-4o"}, {Name: "gen_ai.input.messages", Value: "[secret]"}},
			Counters:   []*signalspbgen.Counter{{Name: "prompt_tokens", Value: 12}, {Name: "span.duration", Value: 5e6}},
			Events: []*signalspbgen.SpanEvent{
				{Name: "exception", EventTs: ns + 4e6, Attributes: []*signalspbgen.Attribute{
					{Name: "exception.type", Value: "RateLimitError"}, {Name: "exception.message", Value: "429"}, {Name: "exception.stacktrace", Value: "tb"}}},
				{Name: "first_token", EventTs: ns + 1e6, Attributes: []*signalspbgen.Attribute{{Name: "n", Value: "1"}}},
			},
		}},
		Metrics: []*signalspbgen.Metric{
			{Name: "process.cpu.usage", Type: signalspbgen.Metric_GAUGE_METRIC, Unit: "percent",
				Tags:       []*signalspbgen.Tag{{Key: "host", Value: "h"}},
				Datapoints: []*signalspbgen.DataPoint{{Value: &signalspbgen.DataPoint_Gauge{Gauge: 12.5}, MeasurementTs: ns}}},
			{Name: "span.call.count", Type: signalspbgen.Metric_COUNTER_METRIC,
				Datapoints: []*signalspbgen.DataPoint{{Value: &signalspbgen.DataPoint_Total{Total: counter}, MeasurementTs: ns}}},
			{Name: "span.duration", Type: signalspbgen.Metric_HISTOGRAM_METRIC,
				Datapoints: []*signalspbgen.DataPoint{{Value: &signalspbgen.DataPoint_Histogram_{Histogram: &signalspbgen.DataPoint_Histogram{
					Bins: []float64{100, 10}, Counts: []int64{1, 2}}}, MeasurementTs: ns}}},
			{Name: "gpu.profile", Type: signalspbgen.Metric_PROFILE_METRIC,
				Datapoints: []*signalspbgen.DataPoint{{Value: &signalspbgen.DataPoint_Profile_{Profile: &signalspbgen.DataPoint_Profile{}}}}},
		},
		LogBatches: []*signalspbgen.LogBatch{{
			Tags:       []*signalspbgen.Tag{{Key: "logger", Value: "app"}},
			LogEntries: []*signalspbgen.LogEntry{{Level: signalspbgen.LogEntry_WARNING_LEVEL, Message: "slow", Exception: "tb", LogTs: ns}},
		}},
	}
}

func TestSignalsUpload(t *testing.T) {
	for _, payloads := range []bool{true, false} {
		s, col := startIntake(t, func(c *Config) { c.RecordPayloads = payloads })
		c := newClient(t)
		for _, v := range []float64{3, 4} {
			resp := do(t, c, "POST", s.Endpoint()+"/api/v1/signals/", sdkHeaders(testKey), gz(t, marshal(t, sdkUpload(v))))
			if resp.code != 200 || proto.Unmarshal(resp.body, &signalspbgen.UploadResponse{}) != nil {
				t.Fatalf("status %d body %q, want 200 with an UploadResponse", resp.code, resp.body)
			}
		}
		got := col.all()
		attrs := map[string]any{"model": "gpt-4o", attrIntake: sdkIntakeValue,
			attrLinkedSpanIDs: []string{sdkSpanID("not-hex").String()}}
		if payloads {
			attrs["gen_ai.input.messages"] = "[secret]"
		}
		wantSpan := telemetry.Span{
			TraceID:      telemetry.TraceID{10: 0x01, 11: 0x23, 12: 0x45, 13: 0x67, 14: 0x89, 15: 0xab},
			SpanID:       telemetry.SpanID{2: 0xa1, 3: 0xb2, 4: 0xc3, 5: 0xd4, 6: 0xe5, 7: 0xf6},
			ParentSpanID: telemetry.SpanID{2: 0xff, 3: 0xee, 4: 0xdd, 5: 0xcc, 6: 0xbb, 7: 0xaa},
			Name:         "openai.chat.completions.create",
			Start:        t0, End: t0.Add(5 * time.Millisecond),
			Tags:       testTags.Merge(telemetry.Tags{"model_type": "chat", "span.status": "error", "session_id": "sdk-session"}),
			Attributes: attrs,
			Status:     telemetry.StatusError,
			Events:     []telemetry.Event{{Name: "first_token", Time: t0.Add(time.Millisecond), Attributes: map[string]any{"n": "1"}}},
			Exceptions: []telemetry.Exception{{Type: "RateLimitError", Message: "429", StackTrace: "tb", Time: t0.Add(4 * time.Millisecond)}},
			Usage:      []telemetry.Usage{{Name: "prompt_tokens", Value: 12}, {Name: "span.duration", Value: 5e6}},
		}
		if len(got.Spans) != 2 {
			t.Fatalf("got %d spans, want 2", len(got.Spans))
		}
		if diff := cmp.Diff(wantSpan, got.Spans[1], spanCmp); diff != "" {
			t.Errorf("payloads=%v span (-want +got):\n%s", payloads, diff)
		}
		if wantSpan.TraceID.String() != "000000000000000000000123456789ab" {
			t.Errorf("trace id %s: want the SDK's 12 hex digits left-padded", wantSpan.TraceID)
		}
		hist := telemetry.Metric{TraceID: testTrace, Name: "span.duration", Kind: telemetry.Histogram, Tags: testTags, Time: t0,
			Buckets: []float64{100}, Counts: []uint64{4, 2}, Count: 6, Sum: 2*10 + 2*100 + 2*10}
		want := []telemetry.Metric{
			{TraceID: testTrace, Name: "process.cpu.usage", Kind: telemetry.Gauge, Unit: "percent", Tags: testTags.Merge(telemetry.Tags{"host": "h"}), Time: t0, Value: 12.5},
			{TraceID: testTrace, Name: "span.call.count", Kind: telemetry.Counter, Tags: testTags, Time: t0, Value: 7},
			hist,
		}
		if diff := cmp.Diff(want, got.Metrics[3:], spanCmp); diff != "" {
			t.Errorf("second upload's metrics (-want +got):\n%s", diff)
		}
		wantLog := telemetry.Log{Time: t0, Level: "warning", Message: "slow", Exception: "tb", Tags: testTags.Merge(telemetry.Tags{"logger": "app"}), TraceID: testTrace}
		if len(got.Logs) != 2 || !cmp.Equal(wantLog, got.Logs[0], spanCmp) {
			t.Errorf("logs = %+v, want twice %+v", got.Logs, wantLog)
		}
		if st := s.Stats(); st.Spans != 2 || st.Metrics != 6 || st.Logs != 2 || st.Dropped != 2 || st.Requests[routeSignals] != 2 {
			t.Errorf("Stats() = %+v", st)
		}
	}
}

// TestSignalsRootJoinsRun: an SDK span in the run's trace without a parent
// becomes a child of the run span.
func TestSignalsRootJoinsRun(t *testing.T) {
	s, col := startIntake(t, nil)
	req := &signalspbgen.UploadRequest{Spans: []*signalspbgen.Span{{SpanId: "0000aaaabbbbcccc", TraceId: testTrace.String(), Name: "root"}}}
	resp := do(t, newClient(t), "POST", s.Endpoint()+"/api/v1/signals/", sdkHeaders(testKey), gz(t, marshal(t, req)))
	if resp.code != 200 {
		t.Fatalf("status %d", resp.code)
	}
	sp := col.all().Spans
	if len(sp) != 1 || sp[0].TraceID != testTrace || sp[0].ParentSpanID != testRunSpan || sp[0].SpanID.String() != "0000aaaabbbbcccc" {
		t.Errorf("spans = %+v, want one in the run's trace under the run span", sp)
	}
}

func TestSignalsErrors(t *testing.T) {
	good := gz(t, marshal(t, sdkUpload(1)))
	tests := []struct {
		name   string
		apiKey string // server's
		method string
		path   string
		hdr    map[string]string
		body   []byte
		code   int
	}{
		{"wrong key", testKey, "POST", "/api/v1/signals/", sdkHeaders("wrong"), good, 401},
		{"key prefix", testKey, "POST", "/api/v1/signals/", sdkHeaders(testKey[:5]), good, 401},
		{"missing key", testKey, "POST", "/api/v1/signals/", sdkHeaders(""), good, 401},
		{"no key configured", "", "POST", "/api/v1/signals/", sdkHeaders(""), good, 401},
		{"config without key", testKey, "GET", "/api/v1/sdk_config/", nil, nil, 401},
		{"bad gzip", testKey, "POST", "/api/v1/signals/", sdkHeaders(testKey), []byte("\x1f\x8b garbage"), 400},
		{"garbage proto", testKey, "POST", "/api/v1/signals/", sdkHeaders(testKey), gz(t, []byte{0x0a, 0xff, 0x01}), 400},
		{"GET signals", testKey, "GET", "/api/v1/signals/", sdkHeaders(testKey), nil, 405},
		{"too large", testKey, "POST", "/api/v1/signals/", sdkHeaders(testKey), gz(t, make([]byte, 8192)), 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, col := startIntake(t, func(c *Config) { c.APIKey = tt.apiKey; c.MaxBodyBytes = 4096 })
			resp := do(t, newClient(t), tt.method, s.Endpoint()+tt.path, tt.hdr, tt.body)
			if resp.code != tt.code {
				t.Errorf("%s %s = %d %q, want %d", tt.method, tt.path, resp.code, resp.body, tt.code)
			}
			if n := col.all(); n.Len() != 0 {
				t.Errorf("consumed %d records from a refused request", n.Len())
			}
			st := s.Stats()
			if tt.code == 401 && st.Unauthorized != 1 || tt.code == 400 && st.BadRequests != 1 || tt.code == 413 && st.TooLarge != 1 {
				t.Errorf("Stats() = %+v, want the refusal counted", st)
			}
		})
	}
}

func TestSetTags(t *testing.T) {
	s, col := startIntake(t, nil)
	post := func() telemetry.Span {
		req := &signalspbgen.UploadRequest{Spans: []*signalspbgen.Span{{SpanId: "aa", Name: "x", Tags: []*signalspbgen.Tag{{Key: "user_id", Value: "sdk"}}}}}
		if r := do(t, newClient(t), "POST", s.Endpoint()+"/api/v1/signals/", sdkHeaders(testKey), gz(t, marshal(t, req))); r.code != 200 {
			t.Fatalf("status %d", r.code)
		}
		sp := col.all().Spans
		return sp[len(sp)-1]
	}
	if got := post().Tags; !cmp.Equal(got, testTags.Merge(telemetry.Tags{"user_id": "sdk"})) {
		t.Errorf("tags before SetTags = %v", got)
	}
	newTags := telemetry.Tags{"session_id": "s-2", "user_id": "run-user"}
	s.SetTags(newTags)
	newTags["session_id"] = "mutated by caller"
	if got, want := post().Tags, (telemetry.Tags{"session_id": "s-2", "user_id": "sdk"}); !cmp.Equal(got, want) {
		t.Errorf("tags after SetTags = %v, want %v (the record's own tag wins)", got, want)
	}
}

func TestSDKConfig(t *testing.T) {
	tests := []struct {
		rate float64
		want string
	}{{0, "1000"}, {2.5, "2.5"}}
	for _, tt := range tests {
		s, _ := startIntake(t, func(c *Config) { c.TracesPerSec = tt.rate })
		resp := do(t, newClient(t), "GET", s.Endpoint()+"/api/v1/sdk_config/?tags=a:b;c:d", map[string]string{"X-API-Key": testKey}, nil)
		var got struct {
			Options []struct{ Name, Value string } `json:"options"`
		}
		if err := json.Unmarshal(resp.body, &got); err != nil || resp.code != 200 || resp.ct != "application/json" ||
			len(got.Options) != 1 || got.Options[0].Name != "traces_per_sec" || got.Options[0].Value != tt.want {
			t.Errorf("TracesPerSec %v: sdk_config = %d %q (%v), want traces_per_sec %q", tt.rate, resp.code, resp.body, err, tt.want)
		}
	}
}

func TestSDKIDs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"a1b2c3d4e5f6", "0000a1b2c3d4e5f6"},
		{"00F067AA0BA902B7", "00f067aa0ba902b7"},
		{"0000000000000000", ""},
	}
	for _, tt := range tests {
		if got := sdkSpanID(tt.in).String(); got != tt.want {
			t.Errorf("sdkSpanID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	a, b := sdkSpanID("span-one"), sdkSpanID("span-two")
	if a.IsZero() || a == b || a != sdkSpanID("span-one") {
		t.Errorf("hashed ids %s %s: want non-zero, distinct and stable", a, b)
	}
	if got := sdkTraceID("0123456789abcdef0123456789abcdef0").String(); len(got) != 32 {
		t.Errorf("sdkTraceID(33 digits) = %q, want a hashed 32-digit id", got)
	}
}
