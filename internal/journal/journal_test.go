package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

var (
	trace = telemetry.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	span  = telemetry.SpanID{1, 2, 3, 4, 5, 6, 7, 8}
	span2 = telemetry.SpanID{8, 7, 6, 5, 4, 3, 2, 1}
	t0    = time.Unix(1_790_000_000, 123_456_789)
)

func fullBatch() telemetry.Batch {
	return telemetry.Batch{
		Spans: []telemetry.Span{{
			TraceID: trace, SpanID: span2, ParentSpanID: span, Name: "llm.call",
			Start: t0, End: t0.Add(1500 * time.Microsecond),
			Tags: telemetry.Tags{"session_id": "s1", "user_id": "u1"},
			Attributes: map[string]any{
				"s": "text", "i": int64(math.MaxInt64), "neg": int64(-3), "f": 1.5, "nan": math.NaN(),
				"inf": math.Inf(1), "b": true, "a": []string{"x", "y"}, "empty": []string{},
			},
			Status: telemetry.StatusError, StatusMessage: "boom",
			Events:     []telemetry.Event{{Name: "e", Time: t0, Attributes: map[string]any{"k": int64(1)}}},
			Exceptions: []telemetry.Exception{{Type: "ValueError", Message: "bad", StackTrace: "line 1\nline 2", Time: t0}},
			Payloads:   []telemetry.Payload{{Name: "input", ContentType: "application/json", Data: []byte("{\"x\":\x00\xff}")}},
			Usage:      []telemetry.Usage{{PayloadName: "input", Name: "token_count", Value: 12}},
			Scores:     []telemetry.Score{{Name: "acc", Value: 0.5, Unit: "%", Comment: "ok", Severity: 2, Time: t0}},
		}, {TraceID: trace, SpanID: span, Name: "run in progress", Start: t0},
			{TraceID: trace, SpanID: span, Name: "from the SDK", Start: t0, InSDKUpload: true}},
		Metrics: []telemetry.Metric{
			{TraceID: trace, Name: "process.cpu.usage", Kind: telemetry.Gauge, Unit: "%", Time: t0, Value: math.Inf(-1)},
			{Name: "latency", Kind: telemetry.Histogram, Unit: "s", Tags: telemetry.Tags{"k": "v"}, Time: t0,
				Buckets: []float64{0.1, 1}, Counts: []uint64{1, 2, 3}, Count: 6, Sum: 7.25},
			{Name: "process.cpu.usage", Kind: telemetry.Gauge, Time: t0, Value: 1, InSDKUpload: true},
		},
		Scores: []telemetry.Score{{Name: "thumbs", Value: 1, Tags: telemetry.Tags{"run_id": "r"}, TraceID: trace, SpanID: span, Time: t0}},
		Logs: []telemetry.Log{{Time: t0, Level: "error", Message: "m", Exception: "x", Tags: telemetry.Tags{"a": "b"}, TraceID: trace, SpanID: span},
			{Time: t0, Message: "sdk", InSDKUpload: true}},
		SDKUploads: []telemetry.SDKUpload{{Time: t0, Body: []byte("\x0a\x02\x3a\x00\xff\x00\"\\\n")}, {Body: []byte{}}},
	}
}

// cmpBatch compares batches with NaN equal to NaN and times by instant.
var cmpBatch = []cmp.Option{cmpopts.EquateNaNs(), cmpopts.EquateEmpty()}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		b    telemetry.Batch
	}{
		{"every field", fullBatch()},
		{"one metric", telemetry.Batch{Metrics: []telemetry.Metric{{Name: "m", Kind: telemetry.Counter, Time: t0, Value: 3}}}},
		{"sdk upload alone", telemetry.Batch{SDKUploads: []telemetry.SDKUpload{{Time: t0, Body: bytes.Repeat([]byte{0, 0xff, '\n', '"'}, 1000)}}}},
		{"zero times and ids", telemetry.Batch{Spans: []telemetry.Span{{Name: "s"}}}},
		{"widened attribute types", telemetry.Batch{Spans: []telemetry.Span{{Name: "s", Attributes: map[string]any{"int": 7, "f32": float32(0.5)}}}}},
		{"strings that need escaping", telemetry.Batch{Logs: []telemetry.Log{{
			Message: "quote \" backslash \\ nul \x00 unit \x1f tab \t cr \r nl \n sep \u2028 é 😀 </script>",
			Tags:    telemetry.Tags{"k\"ey": "", "": "empty key"},
		}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := encodeBatch(&tt.b)
			if !json.Valid(line) {
				t.Fatalf("not JSON: %s", line)
			}
			if strings.Count(string(line), "\n") != 1 || !strings.HasSuffix(string(line), "\n") {
				t.Fatalf("not one line: %q", line)
			}
			got, err := decodeBatch(line[:len(line)-1])
			if err != nil {
				t.Fatal(err)
			}
			want := tt.b
			if tt.name == "widened attribute types" {
				want.Spans[0].Attributes = map[string]any{"int": int64(7), "f32": 0.5}
			}
			if d := cmp.Diff(want, got, cmpBatch...); d != "" {
				t.Errorf("round trip (-want +got):\n%s", d)
			}
		})
	}
}

func TestEncodeOddValues(t *testing.T) {
	b := telemetry.Batch{Spans: []telemetry.Span{{Name: "bad \xff utf8", Attributes: map[string]any{
		"big": uint64(math.MaxUint64), "u32": uint32(7), "other": struct{ A int }{3}, "nil": nil,
	}}}}
	line := encodeBatch(&b)
	if !json.Valid(line) {
		t.Fatalf("not JSON: %s", line)
	}
	got, err := decodeBatch(line[:len(line)-1])
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"big": float64(math.MaxUint64), "u32": int64(7), "other": "{3}", "nil": "<nil>"}
	if d := cmp.Diff(want, got.Spans[0].Attributes); d != "" || got.Spans[0].Name != "bad \ufffd utf8" {
		t.Errorf("name %q, attributes (-want +got):\n%s", got.Spans[0].Name, d)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, line := range []string{
		``, `{`, `[]`, `{"spans":[{"trace_id":"zz"}]}`, `{"spans":[{"span_id":"0000000000000000"}]}`,
		`{"metrics":[{"value":"many"}]}`, `{"logs":[{"span_id":"123"}]}`, `{"scores":[{"trace_id":1}]}`,
	} {
		if _, err := decodeBatch([]byte(line)); err == nil {
			t.Errorf("decodeBatch(%q) = nil error", line)
		}
	}
}

func TestWriterReaderLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	w, err := Create(dir, "0001-run", 0)
	if err != nil {
		t.Fatal(err)
	}
	b := fullBatch()
	if err := w.Append(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(telemetry.Batch{}); err != nil {
		t.Fatal(err)
	}
	names, err := List(dir)
	if err != nil || len(names) != 1 || names[0] != "0001-run" {
		t.Fatalf("List = %v, %v", names, err)
	}

	r, err := Open(dir, "0001-run")
	if err != nil {
		t.Fatal(err)
	}
	if r.Final() {
		t.Error("journal with a live writer is final")
	}
	c, err := r.Read(0, 0)
	if err != nil || len(c.Batches) != 1 || !c.EOF || c.Skipped != 0 {
		t.Fatalf("Read = %+v, %v", c, err)
	}
	// A live journal's incomplete last line waits for its end.
	f, err := os.OpenFile(w.Path(), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"spans":[`); err != nil {
		t.Fatal(err)
	}
	c2, err := r.Read(c.Next, 0)
	if err != nil || len(c2.Batches) != 0 || c2.Next != c.Next || !c2.EOF || c2.Skipped != 0 {
		t.Fatalf("Read of a half line = %+v, %v", c2, err)
	}
	_ = f.Close()
	_ = r.Close()

	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(b); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	r, err = Open(dir, "0001-run")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.Final() {
		t.Error("closed journal is not final")
	}
	// In a final journal the half line is a torn write: skipped.
	c3, err := r.Read(c.Next, 0)
	if err != nil || len(c3.Batches) != 0 || c3.Skipped != 1 || !c3.EOF {
		t.Fatalf("Read of a torn last line = %+v, %v", c3, err)
	}
	fi, _ := os.Stat(w.Path())
	if c3.Next != fi.Size() {
		t.Errorf("Next = %d, want the file size %d", c3.Next, fi.Size())
	}
	if err := Remove(dir, "0001-run"); err != nil {
		t.Fatal(err)
	}
	if err := Remove(dir, "0001-run"); err != nil {
		t.Errorf("second Remove = %v", err)
	}
}

func TestReadChunksAndDamage(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, "j", 0)
	if err != nil {
		t.Fatal(err)
	}
	one := telemetry.Batch{Metrics: []telemetry.Metric{{Name: "m", Kind: telemetry.Gauge, Time: t0, Value: 1}}}
	for i := 0; i < 100; i++ {
		if err := w.Append(one); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := os.OpenFile(w.Path(), os.O_WRONLY|os.O_APPEND, 0)
	_, _ = f.WriteString("not json\n\n" + strings.Repeat("x", 3000) + "\n")
	_ = f.Close()
	if err := w.Append(one); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()

	r, err := Open(dir, "j")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got, skipped, reads int
	var off int64
	for {
		c, err := r.Read(off, 1024) // smaller than the long line: it grows
		if err != nil {
			t.Fatal(err)
		}
		reads++
		got += len(c.Batches)
		skipped += c.Skipped
		off = c.Next
		if c.EOF {
			break
		}
	}
	if got != 101 || skipped != 2 || reads < 3 {
		t.Errorf("got %d batches, %d skipped in %d reads; want 101, 2, several", got, skipped, reads)
	}
}

func TestFull(t *testing.T) {
	w, err := Create(t.TempDir(), "j", runSpanReserve+300)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	b := fullBatch()
	if err := w.Append(b); !errors.Is(err, ErrFull) {
		t.Errorf("Append past the bound = %v, want ErrFull", err)
	}
	if err := w.Append(telemetry.Batch{Metrics: []telemetry.Metric{{Name: "m"}}}); err != nil {
		t.Errorf("small Append after a refused one = %v", err)
	}
	// The run span's final version still fits: it may use the reserve.
	run := telemetry.Batch{Spans: []telemetry.Span{{Name: "run", Attributes: map[string]any{
		telemetry.AttrSpanKind: telemetry.SpanKindRun, "pad": strings.Repeat("x", 2000)}}}}
	if err := w.Append(run); err != nil {
		t.Errorf("Append of a run span into the reserve = %v", err)
	}
	other := telemetry.Batch{Spans: []telemetry.Span{{Name: "other", Attributes: map[string]any{"pad": strings.Repeat("x", 2000)}}}}
	if err := w.Append(other); !errors.Is(err, ErrFull) {
		t.Errorf("Append of another span into the reserve = %v, want ErrFull", err)
	}
	// A run span that arrives in one batch with too much else is still
	// written on its own.
	mixed := other
	for range 1000 {
		mixed.Spans = append(mixed.Spans, other.Spans[0])
	}
	run.Spans[0].Name = "run-final"
	mixed.Spans = append(mixed.Spans, run.Spans[0])
	if err := w.Append(mixed); !errors.Is(err, ErrFull) {
		t.Errorf("Append of an oversized batch = %v, want ErrFull", err)
	}
	_ = w.Close()
	r, err := Open(filepath.Dir(w.Path()), "j")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, _ := r.Read(0, 0)
	last := c.Batches[len(c.Batches)-1]
	if len(last.Spans) != 1 || last.Spans[0].Name != "run-final" {
		t.Errorf("last line = %+v, want the run span alone", last)
	}
}

// TestTornWrite: after a write cut short mid-line, the next Append ends the
// torn line first, so readers skip one damaged line and read the next.
func TestTornWrite(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, "j", 0)
	if err != nil {
		t.Fatal(err)
	}
	one := telemetry.Batch{Metrics: []telemetry.Metric{{Name: "m", Time: t0, Value: 1}}}
	if err := w.Append(one); err != nil {
		t.Fatal(err)
	}
	// What a short write leaves: part of a line, and the writer told so.
	if _, err := w.f.Write([]byte(`{"metrics":[{"na`)); err != nil {
		t.Fatal(err)
	}
	w.torn = true
	if err := w.Append(one); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	r, err := Open(dir, "j")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := r.Read(0, 0)
	if err != nil || len(c.Batches) != 2 || c.Skipped != 1 {
		t.Errorf("Read = %d batches, %d skipped, %v; want 2 and 1", len(c.Batches), c.Skipped, err)
	}
}

func TestCreateErrors(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"", ".hidden", "a/b"} {
		if _, err := Create(dir, name, 0); err == nil {
			t.Errorf("Create(%q) = nil error", name)
		}
	}
	w, err := Create(dir, "dup", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// A temporary file of a journal being created is not listed.
	if err := os.WriteFile(filepath.Join(dir, ".x.tmp"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	names, _ := List(dir)
	if len(names) != 1 {
		t.Errorf("List = %v, want only dup", names)
	}
	notDir := filepath.Join(dir, "file")
	_ = os.WriteFile(notDir, nil, 0o600)
	if _, err := Create(notDir, "j", 0); err == nil {
		t.Error("Create under a regular file = nil error")
	}
	if _, err := Open(dir, "missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want ErrNotExist", err)
	}
}

// TestKilledWriterIsFinal: a writer process killed with SIGKILL leaves a
// final journal (the kernel releases its lock).
func TestKilledWriterIsFinal(t *testing.T) {
	if os.Getenv("JOURNAL_TEST_WRITER") != "" {
		w, err := Create(os.Getenv("JOURNAL_TEST_WRITER"), "killed", 0)
		if err != nil {
			os.Exit(2)
		}
		_ = w.Append(telemetry.Batch{Metrics: []telemetry.Metric{{Name: "m", Time: t0}}})
		os.Stdout.WriteString("ready\n")
		time.Sleep(time.Minute)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterIsFinal$")
	cmd.Env = append(os.Environ(), "JOURNAL_TEST_WRITER="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := out.Read(buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("writer: %q, %v", buf, err)
	}
	r, err := Open(dir, "killed")
	if err != nil {
		t.Fatal(err)
	}
	if r.Final() {
		t.Error("journal of a running writer is final")
	}
	_ = r.Close()
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	r, err = Open(dir, "killed")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := r.Read(0, 0)
	if !r.Final() || err != nil || len(c.Batches) != 1 {
		t.Errorf("after SIGKILL: final=%v, %d batches, %v", r.Final(), len(c.Batches), err)
	}
}

func FuzzDecodeBatch(f *testing.F) {
	b := fullBatch()
	line := encodeBatch(&b)
	f.Add(line[:len(line)-1])
	f.Add([]byte(`{"metrics":[{"value":"NaN","sum":"-Inf","buckets":[1,"+Inf"]}]}`))
	f.Add([]byte(`{"spans":[{"attributes":{"k":{"s":"x","i":1}}}]}`))
	f.Add([]byte(`{"sdk_uploads":[{"time":1,"body":"CgI6AA=="},{"body":null}],"logs":[{"in_sdk_upload":true}]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		got, err := decodeBatch(line)
		if err != nil {
			return
		}
		// Whatever decodes must encode to JSON and decode to the same batch.
		again := encodeBatch(&got)
		if !json.Valid(again) {
			t.Fatalf("re-encoded batch is not JSON: %s", again)
		}
		back, err := decodeBatch(again[:len(again)-1])
		if err != nil {
			t.Fatalf("decode of re-encoded: %v", err)
		}
		if d := cmp.Diff(got, back, cmpBatch...); d != "" {
			t.Fatalf("not stable (-first +second):\n%s", d)
		}
	})
}

// TestLongBatchSplit: a batch whose line would pass the line bound is
// written as several lines, all read back in order; a single record past
// twice the bound is refused, not written.
func TestLongBatchSplit(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, "j", 0)
	if err != nil {
		t.Fatal(err)
	}
	w.lineLimit = 2048
	var b telemetry.Batch
	for i := range 300 {
		b.Metrics = append(b.Metrics, telemetry.Metric{Name: "m", Kind: telemetry.Gauge, Time: t0, Value: float64(i)})
	}
	b.Spans = []telemetry.Span{{Name: "s", Payloads: []telemetry.Payload{{Name: "p", Data: make([]byte, 2000)}}}}
	for i := range 3 {
		b.SDKUploads = append(b.SDKUploads, telemetry.SDKUpload{Time: t0, Body: bytes.Repeat([]byte{byte(i)}, 1200)})
	}
	if err := w.Append(b); err != nil {
		t.Fatal(err)
	}
	// A record past twice the bound is left out; its neighbours are kept.
	huge := telemetry.Batch{
		Spans: []telemetry.Span{{Name: "huge", Payloads: []telemetry.Payload{{Name: "p", Data: make([]byte, 5000)}}}},
		Logs:  []telemetry.Log{{Message: "kept"}},
	}
	if err := w.Append(huge); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Append of a record past twice the bound = %v, want ErrTooLarge", err)
	}
	_ = w.Close()
	r, err := Open(dir, "j")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := r.Read(0, 0)
	if err != nil || !c.EOF || c.Skipped != 0 {
		t.Fatalf("Read = %+v, %v", c, err)
	}
	var values []float64
	var uploads []telemetry.SDKUpload
	spans, logs := 0, 0
	for _, got := range c.Batches {
		spans += len(got.Spans)
		logs += len(got.Logs)
		for _, m := range got.Metrics {
			values = append(values, m.Value)
		}
		uploads = append(uploads, got.SDKUploads...)
	}
	if d := cmp.Diff(b.SDKUploads, uploads); d != "" {
		t.Errorf("SDK uploads split across lines (-want +got):\n%s", d)
	}
	if len(c.Batches) < 5 || spans != 1 || logs != 1 || len(values) != 300 {
		t.Fatalf("%d lines, %d spans, %d logs, %d points; want several lines, 1 span, 1 log, 300 points",
			len(c.Batches), spans, logs, len(values))
	}
	for i, v := range values {
		if v != float64(i) {
			t.Fatalf("point %d = %v: order not kept", i, v)
		}
	}
}
