package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// traceFixture is a run of session job-1 (run_id r1) whose program sent:
// in the run's trace, warmup (job-1), handle > generate (chat-42) and
// handle (chat-43); in two traces of its own sharing a prefix, sdk.root >
// sdk.llm (chat-42, the llm span failed, with payloads, usage and scores)
// and a slow batch span (job-1).
type traceFixture struct {
	run                telemetry.Span
	sdk, slow          telemetry.TraceID
	warmup, handle     telemetry.Span
	generate, handle43 telemetry.Span
	root, llm, batch   telemetry.Span
	traceScore         telemetry.Score
}

func newTraceFixture(t *testing.T, s *Store) traceFixture {
	t.Helper()
	var f traceFixture
	f.run = runSpan("job-1", 0, time.Minute)
	f.run.Tags[telemetry.TagRunID] = "r1"
	f.sdk = mustTraceID(t, "5bf92f3577b34da6a3ce929d0e0e4736")
	f.slow = mustTraceID(t, "5bf92f3577b34da6a3ce929d0e0e4799")
	tagged := func(sp telemetry.Span, session string) telemetry.Span {
		sp.Tags = telemetry.Tags{telemetry.TagSessionID: session}
		return sp
	}
	f.warmup = tagged(childSpan(&f.run, "warmup", time.Second, time.Second), "job-1")
	f.handle = tagged(childSpan(&f.run, "handle", 2*time.Second, 3*time.Second), "chat-42")
	f.generate = tagged(childSpan(&f.handle, "generate", 0, time.Second), "chat-42")
	f.generate.ParentSpanID, f.generate.Start, f.generate.End = f.handle.SpanID, f.handle.Start.Add(time.Second),
		f.handle.Start.Add(2*time.Second)
	f.handle43 = tagged(childSpan(&f.run, "handle", 6*time.Second, time.Second), "chat-43")
	f.handle43.Tags[telemetry.TagUserID] = "bob"

	f.root = tagged(childSpan(&f.run, "sdk.root", 10*time.Second, 4*time.Second), "chat-42")
	f.root.TraceID, f.root.ParentSpanID = f.sdk, telemetry.SpanID{}
	f.root.Tags[telemetry.TagRunID] = "r1"
	f.llm = tagged(childSpan(&f.root, "sdk.llm", 11*time.Second, 2*time.Second), "chat-42")
	f.llm.Start, f.llm.End = f.root.Start.Add(time.Second), f.root.Start.Add(3*time.Second)
	f.llm.Tags[telemetry.TagRunID] = "r1"
	f.llm.Status, f.llm.StatusMessage = telemetry.StatusError, "rate limited"
	f.llm.Attributes = map[string]any{"model": "gpt-4o", "temperature": 0.2, "n": int64(2)}
	f.llm.Exceptions = []telemetry.Exception{{Type: "RateLimit", Message: "slow down",
		StackTrace: "Traceback:\n  File \"a.py\", line 1", Time: f.llm.End}}
	f.llm.Payloads = []telemetry.Payload{
		{Name: "input", ContentType: "application/json", Data: []byte(`{"messages":[{"role":"user","content":"hi"}]}`)},
		{Name: "image", ContentType: "image/png", Data: []byte{0x89, 'P', 'N', 'G', 0, 0xff}},
	}
	f.llm.Usage = []telemetry.Usage{{PayloadName: "input", Name: "token_count", Value: 12}, {Name: "cost", Value: 0.5}}
	f.llm.Scores = []telemetry.Score{{Name: "relevance", Value: 0.9, Comment: "good", Time: f.llm.End}}

	f.batch = tagged(childSpan(&f.run, "batch", 20*time.Second, 30*time.Second), "job-1")
	f.batch.TraceID, f.batch.ParentSpanID = f.slow, telemetry.SpanID{}
	f.batch.Tags[telemetry.TagRunID] = "r1"

	f.traceScore = telemetry.Score{Name: "feedback", Value: 1, TraceID: f.sdk, Time: f.root.End,
		Tags: telemetry.Tags{telemetry.TagSessionID: "chat-42"}}
	spanScore := telemetry.Score{Name: "toxicity", Value: math.NaN(), TraceID: f.sdk, SpanID: f.llm.SpanID,
		Time: f.root.End.Add(time.Second), Tags: telemetry.Tags{telemetry.TagSessionID: "chat-42"}}
	write(t, s, telemetry.Batch{
		Spans:  []telemetry.Span{f.run, f.warmup, f.handle, f.generate, f.handle43, f.root, f.llm, f.batch},
		Scores: []telemetry.Score{f.traceScore, spanScore},
	})
	return f
}

func mustTraceID(t testing.TB, s string) telemetry.TraceID {
	t.Helper()
	id, err := telemetry.ParseTraceID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestResolveTrace(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	f := newTraceFixture(t, s)
	tests := []struct {
		session, ref string
		want         telemetry.TraceID
		// wantErr: "" for none, "ambiguous", "not found", "no session".
		wantErr    string
		candidates []telemetry.TraceID
	}{
		{session: "job-1", ref: TraceSlowest, want: f.slow},
		{session: "job-1", ref: TraceFailed, want: f.sdk},
		{session: "chat-42", ref: TraceSlowest, want: f.sdk},
		{session: "chat-42", ref: TraceFailed, want: f.sdk},
		{session: "chat-43", ref: TraceSlowest, want: f.run.TraceID},
		{session: "chat-43", ref: TraceFailed, wantErr: "not found", candidates: []telemetry.TraceID{f.run.TraceID}},
		{session: "job-1", ref: f.run.TraceID.String(), want: f.run.TraceID},
		{session: "job-1", ref: f.run.TraceID.String()[:6], want: f.run.TraceID},
		{session: "job-1", ref: "5BF92F3577B34DA6A3CE929D0E0E47", want: f.sdk, wantErr: "ambiguous",
			candidates: []telemetry.TraceID{f.sdk, f.slow}},
		{session: "job-1", ref: "5bf92f3577b34da6a3ce929d0e0e4736", want: f.sdk},
		{session: "chat-42", ref: "5bf9", want: f.sdk}, // the slow trace is not chat-42's
		{session: "chat-43", ref: "5bf9", wantErr: "not found", candidates: []telemetry.TraceID{f.run.TraceID}},
		// Whole ids: one the session lists (in capitals), one it does not.
		{session: "chat-42", ref: "5BF92F3577B34DA6A3CE929D0E0E4736", want: f.sdk},
		{session: "chat-43", ref: f.sdk.String(), wantErr: "not found", candidates: []telemetry.TraceID{f.run.TraceID}},
		{session: "job-1", ref: "zz", wantErr: "not found",
			candidates: []telemetry.TraceID{f.run.TraceID, f.sdk, f.slow}},
		{session: "nosuch", ref: TraceSlowest, wantErr: "no session"},
	}
	for _, tt := range tests {
		t.Run(tt.session+"/"+tt.ref, func(t *testing.T) {
			got, err := s.ResolveTrace(ctx, tt.session, tt.ref)
			var lookup *TraceLookupError
			switch tt.wantErr {
			case "":
				if err != nil || got != tt.want {
					t.Fatalf("ResolveTrace(%q, %q) = %v, %v; want %v", tt.session, tt.ref, got, err, tt.want)
				}
				return
			case "no session":
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("ResolveTrace(%q, %q) = %v, want ErrNotFound", tt.session, tt.ref, err)
				}
				return
			case "ambiguous":
				if !errors.As(err, &lookup) || !lookup.Ambiguous || errors.Is(err, ErrTraceNotFound) {
					t.Fatalf("ResolveTrace(%q, %q) = %v, want an ambiguous TraceLookupError", tt.session, tt.ref, err)
				}
			case "not found":
				if !errors.As(err, &lookup) || lookup.Ambiguous || !errors.Is(err, ErrTraceNotFound) {
					t.Fatalf("ResolveTrace(%q, %q) = %v, want a TraceLookupError wrapping ErrTraceNotFound",
						tt.session, tt.ref, err)
				}
			}
			var ids []telemetry.TraceID
			for _, c := range lookup.Candidates {
				ids = append(ids, c.TraceID)
			}
			if diff := cmp.Diff(tt.candidates, ids); diff != "" {
				t.Errorf("candidates (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSessionTraces(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	f := newTraceFixture(t, s)
	ss, err := querySessionScope(ctx, s.db, "job-1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := querySessionTraces(ctx, s.db, ss, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []TraceSummary{
		{TraceID: f.run.TraceID, Start: f.warmup.Start, End: f.handle43.End, Duration: 6 * time.Second, Spans: 4},
		{TraceID: f.sdk, Start: f.root.Start, End: f.root.End, Duration: 4 * time.Second, Spans: 2, Errors: 1},
		{TraceID: f.slow, Start: f.batch.Start, End: f.batch.End, Duration: 30 * time.Second, Spans: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("querySessionTraces(job-1) (-want +got):\n%s", diff)
	}
}

func TestTrace(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	f := newTraceFixture(t, s)
	node := func(sp telemetry.Span, depth int) SpanNode {
		n := SpanNode{SpanID: sp.SpanID, ParentSpanID: sp.ParentSpanID, Name: sp.Name, Start: sp.Start, End: sp.End,
			Duration: sp.End.Sub(sp.Start), Status: sp.Status, StatusMessage: sp.StatusMessage,
			SessionID: sp.Tags[telemetry.TagSessionID], Depth: depth}
		if sp.Status == telemetry.StatusError {
			n.Error = "RateLimit: slow down"
		}
		return n
	}
	plain := func(sp telemetry.Span, depth int) TraceSpan {
		return TraceSpan{SpanNode: node(sp, depth), RunID: sp.Tags[telemetry.TagRunID], Tags: sp.Tags, Detailed: true}
	}
	// undetailed is a span past DetailFirst's: tree, timing, status and
	// error text only.
	undetailed := func(ts TraceSpan) TraceSpan {
		return TraceSpan{SpanNode: ts.SpanNode, RunID: ts.RunID, Scores: ts.Scores}
	}
	llm := plain(f.llm, 1)
	llm.Attributes, llm.Exceptions, llm.Payloads, llm.Usage = f.llm.Attributes, f.llm.Exceptions, f.llm.Payloads, f.llm.Usage
	llm.Scores = []Score{
		{Name: "relevance", Value: 0.9, Comment: "good", TraceID: f.sdk, SpanID: f.llm.SpanID, Tags: f.llm.Tags,
			Time: f.llm.End},
		{Name: "toxicity", Value: math.NaN(), TraceID: f.sdk, SpanID: f.llm.SpanID,
			Tags: telemetry.Tags{telemetry.TagSessionID: "chat-42"}, Time: f.root.End.Add(time.Second)},
	}
	tests := []struct {
		session string
		trace   telemetry.TraceID
		opts    []TraceOption
		want    *TraceDetail
	}{
		{"job-1", f.run.TraceID, nil, &TraceDetail{SessionID: "job-1", TraceID: f.run.TraceID, Start: f.warmup.Start,
			End: f.handle43.End, Duration: 6 * time.Second,
			Spans: []TraceSpan{plain(f.warmup, 0), plain(f.handle, 0), plain(f.generate, 1), plain(f.handle43, 0)}}},
		// A session the run served among others: its spans only.
		{"chat-42", f.run.TraceID, nil, &TraceDetail{SessionID: "chat-42", TraceID: f.run.TraceID, Start: f.handle.Start,
			End: f.handle.End, Duration: 3 * time.Second, Spans: []TraceSpan{plain(f.handle, 0), plain(f.generate, 1)}}},
		{"chat-42", f.sdk, nil, &TraceDetail{SessionID: "chat-42", TraceID: f.sdk, Start: f.root.Start, End: f.root.End,
			Duration: 4 * time.Second, Spans: []TraceSpan{plain(f.root, 0), llm},
			Scores: []Score{{Name: "feedback", Value: 1, TraceID: f.sdk, Tags: f.traceScore.Tags, Time: f.root.End}}}},
		// Details of the first span only: the failed one keeps its
		// error text (from its exception) and scores.
		{"chat-42", f.sdk, []TraceOption{DetailFirst(1)}, &TraceDetail{SessionID: "chat-42", TraceID: f.sdk,
			Start: f.root.Start, End: f.root.End, Duration: 4 * time.Second, Spans: []TraceSpan{plain(f.root, 0), undetailed(llm)},
			Scores: []Score{{Name: "feedback", Value: 1, TraceID: f.sdk, Tags: f.traceScore.Tags, Time: f.root.End}}}},
		{"chat-42", f.sdk, []TraceOption{DetailFirst(0)}, &TraceDetail{SessionID: "chat-42", TraceID: f.sdk,
			Start: f.root.Start, End: f.root.End, Duration: 4 * time.Second,
			Spans:  []TraceSpan{undetailed(plain(f.root, 0)), undetailed(llm)},
			Scores: []Score{{Name: "feedback", Value: 1, TraceID: f.sdk, Tags: f.traceScore.Tags, Time: f.root.End}}}},
		{"job-1", f.run.TraceID, []TraceOption{DetailFirst(99)}, &TraceDetail{SessionID: "job-1", TraceID: f.run.TraceID,
			Start: f.warmup.Start, End: f.handle43.End, Duration: 6 * time.Second,
			Spans: []TraceSpan{plain(f.warmup, 0), plain(f.handle, 0), plain(f.generate, 1), plain(f.handle43, 0)}}},
		{"chat-43", f.sdk, nil, nil},
		{"job-1", mustTraceID(t, "00000000000000000000000000000001"), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.session+"/"+tt.trace.String(), func(t *testing.T) {
			got, err := s.Trace(ctx, tt.session, tt.trace, tt.opts...)
			if tt.want == nil {
				if !errors.Is(err, ErrTraceNotFound) {
					t.Fatalf("Trace(%q, %v) = %v, want ErrTraceNotFound", tt.session, tt.trace, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Trace(%q, %v) = %v", tt.session, tt.trace, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateNaNs(), cmpopts.IgnoreUnexported(TraceSpan{})); diff != "" {
				t.Errorf("Trace(%q, %v) (-want +got):\n%s", tt.session, tt.trace, diff)
			}
		})
	}
	if _, err := s.Trace(ctx, "nosuch", f.sdk); !errors.Is(err, ErrNotFound) {
		t.Errorf("Trace(nosuch) = %v, want ErrNotFound", err)
	}
}

// bigTrace writes a run of session "big" whose trace holds n spans (but
// the run): a root, 99 children of it, and the others under those, each
// with tags, attributes, usage and a JSON payload.
func bigTrace(t testing.TB, s *Store, n int) telemetry.Span {
	t.Helper()
	run := runSpan("big", 0, time.Hour)
	root := childSpan(&run, "root", 0, 50*time.Minute)
	spans := []telemetry.Span{run, root}
	parents := []telemetry.SpanID{root.SpanID}
	for i := 1; i < n; i++ {
		sp := childSpan(&run, fmt.Sprintf("step-%d", i%7), time.Duration(i)*time.Millisecond, time.Millisecond)
		sp.ParentSpanID = parents[i%len(parents)]
		if i < 100 {
			sp.ParentSpanID = root.SpanID
			parents = append(parents, sp.SpanID)
		}
		sp.Attributes = map[string]any{"model": "gpt-4o", "temperature": 0.2, "i": int64(i)}
		sp.Usage = []telemetry.Usage{{PayloadName: "input", Name: "token_count", Value: 120}}
		sp.Payloads = []telemetry.Payload{{Name: "input", ContentType: "application/json",
			Data: []byte(`{"messages":[{"role":"user","content":"what is the weather like today?"}]}`)}}
		spans = append(spans, sp)
	}
	if err := s.Write(context.Background(), telemetry.Batch{Spans: spans}); err != nil {
		t.Fatal(err)
	}
	return run
}

func TestTraceBound(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	run := bigTrace(t, s, MaxTraceSpans+5)
	d, err := s.Trace(ctx, "big", run.TraceID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Spans) != MaxTraceSpans || d.SpansOmitted != 5 {
		t.Errorf("Trace(big) lists %d spans, omits %d; want %d and 5", len(d.Spans), d.SpansOmitted, MaxTraceSpans)
	}
	if d.Spans[0].Name != "root" || d.Spans[1].Depth != 1 || len(d.Spans[1].Payloads) != 1 {
		t.Errorf("Trace(big) starts %+v, %+v; want root then a child with its payload", d.Spans[0], d.Spans[1])
	}
}

// BenchmarkTrace measures Trace on a trace of MaxTraceSpans spans, each
// with tags, attributes, usage and a payload (docs/json.md, "show
// --trace").
// BenchmarkTrace reads a 10,000-span trace as `show --trace` does: named
// by its id or as the slowest, its spans detailed as the text view details
// them (the first 200) or all of them (JSON).
func BenchmarkTrace(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	run := bigTrace(b, s, MaxTraceSpans)
	for _, bc := range []struct {
		name, ref string
		opts      []TraceOption
	}{
		{"id/text", run.TraceID.String(), []TraceOption{DetailFirst(200)}},
		{"id/json", run.TraceID.String(), nil},
		{"slowest/text", TraceSlowest, []TraceOption{DetailFirst(200)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				id, err := s.ResolveTrace(ctx, "big", bc.ref)
				if err != nil {
					b.Fatal(err)
				}
				d, err := s.Trace(ctx, "big", id, bc.opts...)
				if err != nil {
					b.Fatal(err)
				}
				if len(d.Spans) != MaxTraceSpans {
					b.Fatalf("Trace lists %d spans, want %d", len(d.Spans), MaxTraceSpans)
				}
			}
		})
	}
}

// TestTraceReadsIndex checks that Trace finds a trace's spans through the
// trace_id index rather than by scanning the table.
func TestTraceReadsIndex(t *testing.T) {
	s := openStore(t, t.TempDir())
	joined := queryPlan(t, s, `SELECT rowid `+traceSpansSQL, "t", "[]", false, "[]", false, "s")
	if !strings.Contains(joined, "USING COVERING INDEX spans_trace_name (trace_id=?)") ||
		strings.Contains(joined, "SCAN spans") {
		t.Errorf("trace spans query plan:\n%s\nwant a search of the trace_id index, no scan", joined)
	}
}
