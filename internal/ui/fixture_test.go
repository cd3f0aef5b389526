package ui

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// The fixture's sessions, newest first: ok-1 (prod, bob), chat-42 (prod,
// alice; an error span in its run's trace and a trace of its own),
// batch-7 (staging; its run, of train.py, failed), "a/b c" (prod), then bulk-00 to
// bulk-59 (bulk), a minute apart.
const (
	fixtureSessions = 64
	chatRunTrace    = "c0000000000000000000000000000001"
	chatSDKTrace    = "5bf92f3577b34da6a3ce929d0e0e4736"
)

// testToken is the fixture's access token.
const testToken = "fixture-token-0123456789_ABCDEF"

// fixtureNow is the clock of the list's "active within" filter: ok-1
// alone is active within 15 minutes of it.
var fixtureNow = t0.Add(30 * time.Minute)

// writeFixture writes the fixture's sessions with the store's own writer
// into a new data directory and returns it, the store closed.
func writeFixture(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var b telemetry.Batch
	add := func(spans ...telemetry.Span) { b.Spans = append(b.Spans, spans...) }

	add(runSpan(t, "ok-1", "", 20*time.Minute, telemetry.Tags{"deployment": "prod", "user_id": "bob"}, 0))
	chat := runSpan(t, "chat-42", chatRunTrace, 10*time.Minute,
		telemetry.Tags{"deployment": "prod", "user_id": "alice", "run_id": "r-chat"}, 0)
	handle := childSpan(&chat, "handle", time.Second, 2*time.Second)
	llm := childSpan(&handle, "llm <b>", 500*time.Millisecond, time.Second)
	llm.Status, llm.StatusMessage = telemetry.StatusError, "rate limited"
	llm.Attributes = map[string]any{"model": "gpt-4o", "temperature": 0.2}
	llm.Exceptions = []telemetry.Exception{{Type: "RateLimit", Message: "slow down",
		StackTrace: "Traceback:\n  File \"app.py\", line 7\n\x1b[31mboom", Time: llm.End}}
	llm.Payloads = []telemetry.Payload{{Name: "input", ContentType: "application/json",
		Data: []byte(`{"messages":[{"role":"user","content":"hello"}]}`)}}
	llm.Usage = []telemetry.Usage{{PayloadName: "input", Name: "token_count", Value: 12}}
	llm.Scores = []telemetry.Score{{Name: "relevance", Value: 0.25, Comment: "off topic", Time: llm.End}}
	sdk := childSpan(&chat, "sdk.root", 5*time.Second, 3*time.Second)
	sdk.TraceID, sdk.ParentSpanID = mustTrace(t, chatSDKTrace), telemetry.SpanID{}
	add(chat, handle, llm, sdk)
	batch := runSpan(t, "batch-7", "", 5*time.Minute, telemetry.Tags{"deployment": "staging"}, 3)
	batch.Name = "train.py"
	add(batch)
	add(runSpan(t, "a/b c", "", time.Minute, telemetry.Tags{"deployment": "prod"}, 0))
	for i := range fixtureSessions - 4 {
		add(runSpan(t, fmt.Sprintf("bulk-%02d", i), "", -time.Duration(i)*time.Minute,
			telemetry.Tags{"deployment": "bulk"}, 0))
	}
	if err := st.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runSpan is a finished run of session (in trace, or a new one) at
// t0+offset lasting a minute, with the tags; a non-zero exit code fails
// it.
func runSpan(t testing.TB, session, trace string, offset time.Duration, tags telemetry.Tags, exit int64) telemetry.Span {
	t.Helper()
	sp := telemetry.Span{TraceID: telemetry.NewTraceID(), SpanID: telemetry.NewSpanID(), Name: "python",
		Start: t0.Add(offset), End: t0.Add(offset + time.Minute), Status: telemetry.StatusOK,
		Tags: telemetry.Tags{telemetry.TagSessionID: session},
		Attributes: map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun,
			telemetry.AttrExitCode: exit}}
	if trace != "" {
		sp.TraceID = mustTrace(t, trace)
	}
	for k, v := range tags {
		sp.Tags[k] = v
	}
	if exit != 0 {
		sp.Status, sp.StatusMessage = telemetry.StatusError, fmt.Sprintf("exit code %d", exit)
	}
	return sp
}

// childSpan is a span under parent, in its trace, starting offset after
// the parent's start and lasting d, with the parent's tags.
func childSpan(parent *telemetry.Span, name string, offset, d time.Duration) telemetry.Span {
	return telemetry.Span{TraceID: parent.TraceID, SpanID: telemetry.NewSpanID(), ParentSpanID: parent.SpanID,
		Name: name, Start: parent.Start.Add(offset), End: parent.Start.Add(offset + d), Status: telemetry.StatusOK,
		Tags: parent.Tags.Clone()}
}

func mustTrace(t testing.TB, s string) telemetry.TraceID {
	t.Helper()
	id, err := telemetry.ParseTraceID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// fixtureConfig reads the store in dir, opened for each request as
// graphsignal ui does, behind testToken.
func fixtureConfig(dir string) Config {
	return Config{
		Token:    testToken,
		Open:     func(ctx context.Context) (*store.Store, error) { return store.Open(ctx, dir) },
		Location: time.UTC,
		Now:      func() time.Time { return fixtureNow },
	}
}
