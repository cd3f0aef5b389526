package forward

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/ipc"
	"github.com/graphsignal/graphsignal/internal/sockmsg"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// outer is a real intake standing for the enclosing run.
type outer struct {
	srv *ipc.Server
	mu  sync.Mutex
	got telemetry.Batch
}

func startOuter(t *testing.T, trace telemetry.TraceID, span telemetry.SpanID) *outer {
	t.Helper()
	o := &outer{}
	srv, err := ipc.Bind(context.Background(), ipc.Config{
		TraceID: trace, SpanID: span, Tags: telemetry.Tags{"run_id": "outer"}, RecordPayloads: true,
		Consumer: ipc.ConsumerFunc(func(b telemetry.Batch) {
			o.mu.Lock()
			defer o.mu.Unlock()
			o.got.Spans = append(o.got.Spans, b.Spans...)
			o.got.Logs = append(o.got.Logs, b.Logs...)
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve()
	o.srv = srv
	return o
}

// forward sends b to o and waits until o has read everything.
func (o *outer) forward(t *testing.T, b telemetry.Batch) telemetry.Batch {
	t.Helper()
	f, err := Dial(context.Background(), o.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Export(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := o.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if st := o.srv.Stats(); st.BadTotal() != 0 {
		t.Errorf("bad lines = %v, want none", st.BadLines)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.got
}

// TestForwardKeepsSpanScoresAndEvents: what a nested run received on a
// span (its scores, events, the times of its exceptions) and the ids of its
// logs reach the enclosing run, with the nested run's own run_id.
func TestForwardKeepsSpanScoresAndEvents(t *testing.T) {
	trace, outerSpan := telemetry.NewTraceID(), telemetry.NewSpanID()
	o := startOuter(t, trace, outerSpan)
	end := time.Now().Add(-time.Second)
	inner := telemetry.NewSpanID()
	tags := telemetry.Tags{"run_id": "inner", "parent_run_id": "outer"}
	span := telemetry.Span{
		TraceID: trace, SpanID: inner, ParentSpanID: outerSpan, Name: "generate", Start: end.Add(-time.Second), End: end, Tags: tags,
		Events:     []telemetry.Event{{Name: "retry", Time: end.Add(-time.Millisecond), Attributes: map[string]any{"attempt": int64(2)}}},
		Exceptions: []telemetry.Exception{{Type: "E", Message: "m", Time: end.Add(-2 * time.Millisecond)}},
		Scores: []telemetry.Score{{Name: "quality", Value: 0.75, Comment: "ok", Tags: tags.Merge(telemetry.Tags{"user_id": "u"}),
			TraceID: trace, SpanID: inner, Time: end.Add(time.Millisecond)}},
		Status: telemetry.StatusError,
	}
	log := telemetry.Log{Message: "hi", Level: "warn", TraceID: trace, SpanID: inner, Time: end, Tags: tags}
	got := o.forward(t, telemetry.Batch{Spans: []telemetry.Span{span}, Logs: []telemetry.Log{log}})
	if len(got.Spans) != 1 || len(got.Logs) != 1 {
		t.Fatalf("got %d spans, %d logs; want 1 and 1", len(got.Spans), len(got.Logs))
	}
	s := got.Spans[0]
	if len(s.Scores) != 1 || s.Scores[0].Name != "quality" || s.Scores[0].Value != 0.75 || s.Scores[0].SpanID != inner ||
		s.Scores[0].Tags["run_id"] != "inner" || s.Scores[0].Tags["user_id"] != "u" || !s.Scores[0].Time.Equal(span.Scores[0].Time) {
		t.Errorf("span scores = %+v, want the nested run's quality score", s.Scores)
	}
	if s.Tags["run_id"] != "inner" || s.Tags["parent_run_id"] != "outer" {
		t.Errorf("span tags = %v, want the nested run's run_id over the outer's", s.Tags)
	}
	if len(s.Events) != 1 || s.Events[0].Name != "retry" || s.Events[0].Attributes["attempt"] != int64(2) {
		t.Errorf("events = %+v", s.Events)
	}
	if len(s.Exceptions) != 1 || !s.Exceptions[0].Time.Equal(span.Exceptions[0].Time) {
		t.Errorf("exceptions = %+v, want the time kept", s.Exceptions)
	}
	if l := got.Logs[0]; l.SpanID != inner || l.Level != "warn" {
		t.Errorf("log = %+v, want tied to the span", l)
	}
}

// TestForwardOversizeSpan: a span over the line limit arrives without its
// payloads rather than not at all.
func TestForwardOversizeSpan(t *testing.T) {
	trace, outerSpan := telemetry.NewTraceID(), telemetry.NewSpanID()
	o := startOuter(t, trace, outerSpan)
	now := time.Now()
	span := telemetry.Span{TraceID: trace, SpanID: telemetry.NewSpanID(), Name: "big", Start: now, End: now,
		Payloads: []telemetry.Payload{{Name: "input", ContentType: "text/plain", Data: []byte(strings.Repeat("x", sockmsg.MaxLineBytes))}},
		Usage:    []telemetry.Usage{{PayloadName: "input", Name: "token_count", Value: 5}}}
	got := o.forward(t, telemetry.Batch{Spans: []telemetry.Span{span}})
	if len(got.Spans) != 1 || len(got.Spans[0].Payloads) != 0 || len(got.Spans[0].Usage) != 1 {
		t.Fatalf("spans = %d, want the span without payloads, usage kept", len(got.Spans))
	}
}
