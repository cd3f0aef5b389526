package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// chatServer is one run of a program serving two chat sessions for two
// users: spans tagged per request (socket context tags), an SDK's spans in
// traces of their own, scores and an error log. It returns the run span.
func chatServer(t *testing.T) (telemetry.Span, telemetry.Batch) {
	t.Helper()
	run := runSpan("job-7", 0, time.Minute)
	run.Tags[telemetry.TagRunID] = run.SpanID.String()
	req := func(session, user, name string, offset, d time.Duration) telemetry.Span {
		sp := childSpan(&run, name, offset, d)
		sp.Tags[telemetry.TagSessionID] = session
		sp.Tags[telemetry.TagUserID] = user
		return sp
	}
	// chat-42 (alice): a request in the run's trace with a child, and an
	// SDK span in a trace of its own, with a child that failed.
	a := req("chat-42", "alice", "handle", time.Second, 300*time.Millisecond)
	a1 := req("chat-42", "alice", "generate", 1100*time.Millisecond, 100*time.Millisecond)
	a1.ParentSpanID = a.SpanID
	sdk := req("chat-42", "alice", "sdk.root", 2*time.Second, 500*time.Millisecond)
	sdk.TraceID, sdk.ParentSpanID = telemetry.NewTraceID(), telemetry.SpanID{}
	sdkChild := req("chat-42", "alice", "sdk.llm", 2100*time.Millisecond, 200*time.Millisecond)
	sdkChild.TraceID, sdkChild.ParentSpanID = sdk.TraceID, sdk.SpanID
	sdkChild.Status = telemetry.StatusError
	sdkChild.Exceptions = []telemetry.Exception{{Type: "RateLimit", Message: "slow down"}}
	// chat-43 (bob): one request, tagged team=red.
	b := req("chat-43", "bob", "handle", 3*time.Second, 100*time.Millisecond)
	b.Tags["team"] = "red"
	// Untagged work of the run itself.
	own := childSpan(&run, "warmup", 0, 10*time.Millisecond)
	batch := telemetry.Batch{
		Spans: []telemetry.Span{run, a, a1, sdk, sdkChild, b, own},
		Scores: []telemetry.Score{{Name: "thumbs", Value: 1, Time: t0.Add(4 * time.Second), TraceID: run.TraceID,
			Tags: telemetry.Tags{telemetry.TagSessionID: "chat-42", telemetry.TagUserID: "alice",
				telemetry.TagRunID: run.SpanID.String()}}},
		Logs: []telemetry.Log{{Time: t0.Add(5 * time.Second), Level: "ERROR", Message: "upstream 502", TraceID: run.TraceID,
			Tags: telemetry.Tags{telemetry.TagSessionID: "chat-43", telemetry.TagUserID: "bob",
				telemetry.TagRunID: run.SpanID.String()}}},
	}
	return run, batch
}

func TestSessionsFromRecords(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	run, batch := chatServer(t)
	write(t, s, batch)
	// chat-42 goes on in a second process (another run of another
	// program, another job).
	run2 := runSpan("job-8", time.Hour, time.Minute)
	run2.Name = "serve.py"
	run2.Tags[telemetry.TagRunID] = run2.SpanID.String()
	later := childSpan(&run2, "handle", time.Second, time.Second)
	later.Tags[telemetry.TagSessionID], later.Tags[telemetry.TagUserID] = "chat-42", "alice"
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{run2, later}})

	got, err := s.Sessions(ctx, SessionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// Newest first start first. job-7, the run's own session, holds the
	// run's untagged work; the requests are chat-42's and chat-43's. A
	// session's programs are its runs' names.
	want := []SessionSummary{
		{ID: "job-8", FirstStart: run2.Start, LastEnd: run2.End, Duration: time.Minute, Runs: 1,
			Deployments: []string{"train"}, Programs: []string{"serve.py"}},
		{ID: "chat-43", FirstStart: t0.Add(3 * time.Second), LastEnd: t0.Add(5 * time.Second),
			Duration: 2 * time.Second, Runs: 1, Errors: 1, Deployments: []string{"train"}, Users: []string{"bob"},
			Programs: []string{"python"}},
		{ID: "chat-42", FirstStart: t0.Add(time.Second), LastEnd: later.End, Duration: later.End.Sub(t0.Add(time.Second)),
			Runs: 2, Errors: 1, Deployments: []string{"train"}, Users: []string{"alice"},
			Programs: []string{"python", "serve.py"}},
		{ID: "job-7", FirstStart: run.Start, LastEnd: run.End, Duration: time.Minute, Runs: 1,
			Deployments: []string{"train"}, Programs: []string{"python"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sessions() (-want +got):\n%s", diff)
	}

	filters := []struct {
		f    SessionFilter
		want []string
	}{
		{SessionFilter{User: "alice"}, []string{"chat-42"}},
		{SessionFilter{User: "bob"}, []string{"chat-43"}},
		{SessionFilter{User: "carol"}, nil},
		{SessionFilter{Deployment: "train"}, []string{"job-8", "chat-43", "chat-42", "job-7"}},
		{SessionFilter{Deployment: "eval"}, nil},
		{SessionFilter{Tags: telemetry.Tags{"team": "red"}}, []string{"chat-43"}},
		{SessionFilter{Tags: telemetry.Tags{"team": "red", telemetry.TagUserID: "alice"}}, nil},
		{SessionFilter{Tags: telemetry.Tags{telemetry.TagRunID: run2.SpanID.String()}}, []string{"job-8", "chat-42"}},
		{SessionFilter{Failed: true}, []string{"chat-43", "chat-42"}},
		{SessionFilter{Since: t0.Add(30 * time.Minute)}, []string{"job-8", "chat-42"}},
		{SessionFilter{Since: t0.Add(30 * time.Minute), User: "bob"}, nil},
	}
	for _, tt := range filters {
		got, err := s.Sessions(ctx, tt.f)
		if err != nil {
			t.Fatalf("Sessions(%+v) = %v", tt.f, err)
		}
		var ids []string
		for _, g := range got {
			ids = append(ids, g.ID)
		}
		if diff := cmp.Diff(tt.want, ids); diff != "" {
			t.Errorf("Sessions(%+v) (-want +got):\n%s", tt.f, diff)
		}
	}
}

func TestShowSessionFromRecords(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	run, batch := chatServer(t)
	write(t, s, batch)

	d, err := s.Session(ctx, "chat-42")
	if err != nil {
		t.Fatalf("Session(chat-42) = %v", err)
	}
	if len(d.Runs) != 1 || d.Runs[0].SpanID != run.SpanID || d.Runs[0].SessionID != "job-7" {
		t.Fatalf("runs = %+v, want the job-7 run", d.Runs)
	}
	r := d.Runs[0]
	type node struct {
		Name  string
		Depth int
		Dur   time.Duration
	}
	var trees [][]node
	for _, tr := range r.Traces {
		var ns []node
		for _, n := range tr.Spans {
			ns = append(ns, node{n.Name, n.Depth, n.Duration})
		}
		trees = append(trees, ns)
	}
	wantTrees := [][]node{
		{{"handle", 0, 300 * time.Millisecond}, {"generate", 1, 100 * time.Millisecond}},
		{{"sdk.root", 0, 500 * time.Millisecond}, {"sdk.llm", 1, 200 * time.Millisecond}},
	}
	if diff := cmp.Diff(wantTrees, trees); diff != "" {
		t.Errorf("chat-42 traces (-want +got):\n%s", diff)
	}
	if r.Traces[0].TraceID != run.TraceID {
		t.Errorf("first trace = %s, want the run's %s", r.Traces[0].TraceID, run.TraceID)
	}
	var names []string
	for _, st := range r.Spans {
		names = append(names, st.Name)
	}
	if diff := cmp.Diff([]string{"generate", "handle", "sdk.llm", "sdk.root"}, names); diff != "" {
		t.Errorf("chat-42 span stats (-want +got):\n%s", diff)
	}
	if len(d.Scores) != 1 || d.Scores[0].Name != "thumbs" {
		t.Errorf("chat-42 scores = %+v, want thumbs", d.Scores)
	}
	wantErrs := []ErrorRecord{{Time: t0.Add(2300 * time.Millisecond), Kind: "span", Name: "sdk.llm",
		Message: "RateLimit: slow down", TraceID: r.Traces[1].TraceID, SpanID: r.Traces[1].Spans[1].SpanID}}
	if diff := cmp.Diff(wantErrs, d.Errors); diff != "" {
		t.Errorf("chat-42 errors (-want +got):\n%s", diff)
	}

	// The run's own session shows everything received during the run,
	// whatever its trace or session.
	d, err = s.Session(ctx, "job-7")
	if err != nil {
		t.Fatal(err)
	}
	r = d.Runs[0]
	n := 0
	for _, tr := range r.Traces {
		n += len(tr.Spans)
	}
	if len(r.Traces) != 2 || n != 6 {
		t.Errorf("job-7: %d traces, %d spans, want 2 and 6", len(r.Traces), n)
	}
	if len(d.Scores) != 1 || len(d.Errors) != 2 {
		t.Errorf("job-7: scores %+v errors %+v, want the run's thumbs score and two errors", d.Scores, d.Errors)
	}
	if len(d.Logs) != 1 || d.Logs[0] != (Count{Name: "ERROR", Value: 1}) {
		t.Errorf("job-7 logs = %+v", d.Logs)
	}

	d, err = s.Session(ctx, "chat-43")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Errors) != 1 || d.Errors[0].Kind != "log" || d.Errors[0].Message != "upstream 502" {
		t.Errorf("chat-43 errors = %+v, want the error log", d.Errors)
	}
	if len(d.Scores) != 0 || len(d.Runs[0].Traces) != 1 || len(d.Runs[0].Traces[0].Spans) != 1 {
		t.Errorf("chat-43 = scores %+v traces %+v, want its one span only", d.Scores, d.Runs[0].Traces)
	}
}

func TestResolveSession(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	_, batch := chatServer(t)
	write(t, s, batch)
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{runSpan("chat-4", time.Hour, time.Second)}})
	tests := []struct {
		in, want  string
		ambiguous []string
		notFound  bool
	}{
		{in: "chat-42", want: "chat-42"},
		{in: "chat-4", want: "chat-4"}, // an exact id wins over the ids it starts
		{in: "job", want: "job-7"},
		{in: "chat-43", want: "chat-43"},
		{in: "chat", ambiguous: []string{"chat-4", "chat-42", "chat-43"}},
		{in: "nope", notFound: true},
		{in: "", notFound: true},
	}
	for _, tt := range tests {
		got, err := s.ResolveSession(ctx, tt.in)
		var amb *AmbiguousError
		switch {
		case tt.notFound:
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("ResolveSession(%q) = %q, %v, want ErrNotFound", tt.in, got, err)
			}
		case tt.ambiguous != nil:
			if !errors.As(err, &amb) || !cmp.Equal(amb.Candidates, tt.ambiguous) {
				t.Errorf("ResolveSession(%q) = %q, %v, want ambiguous %v", tt.in, got, err, tt.ambiguous)
			}
		case err != nil || got != tt.want:
			t.Errorf("ResolveSession(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestMigrateSessionIndex opens a version 3 database holding a chat
// server's run: the migration indexes the sessions of its records.
func TestMigrateSessionIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", dsn(filepath.Join(dir, FileName), time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, migrations[:3]); err != nil {
		t.Fatalf("migrate to v3: %v", err)
	}
	_, batch := chatServer(t)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Version 3 wrote spans and scores as today, and logs without run_id.
	if err := writeSpans(ctx, tx, batch.Spans, newSessionIndex()); err != nil {
		t.Fatal(err)
	}
	if err := writeScores(ctx, tx, batch.Scores, newSessionIndex()); err != nil {
		t.Fatal(err)
	}
	l := batch.Logs[0]
	if _, err := tx.Exec(`INSERT INTO logs (trace_id, ts_ns, level, message, tags, session_id) VALUES (?, ?, ?, ?, ?, ?)`,
		l.TraceID.String(), telemetry.UnixNano(l.Time), l.Level, l.Message, tagsText(l.Tags), "chat-43"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := openStore(t, dir)
	got, err := s.Sessions(ctx, SessionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID     string
		Runs   int
		Errors int
		Users  []string
	}
	var rows []row
	for _, g := range got {
		rows = append(rows, row{g.ID, g.Runs, g.Errors, g.Users})
	}
	want := []row{{"chat-43", 1, 1, []string{"bob"}}, {"chat-42", 1, 1, []string{"alice"}}, {"job-7", 1, 0, nil}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("migrated sessions (-want +got):\n%s", diff)
	}
	d, err := s.Session(ctx, "job-7")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Logs) != 1 {
		t.Errorf("job-7 logs after migration = %+v, want the run's error log (logs.run_id backfilled)", d.Logs)
	}
}

// TestPruneRecordSessions: retention deletes a session the program set
// like any other, with its index rows, and keeps the run that served it
// while the run's own session is kept.
func TestPruneRecordSessions(t *testing.T) {
	ctx := context.Background()
	now := t0.Add(40 * 24 * time.Hour)
	s := openStore(t, t.TempDir(), WithClock(func() time.Time { return now }))
	_, batch := chatServer(t) // all at t0: older than 30 days
	write(t, s, batch)
	recent := runSpan("job-new", 39*24*time.Hour, time.Minute)
	recent.Tags[telemetry.TagRunID] = recent.SpanID.String()
	req := childSpan(&recent, "handle", time.Second, time.Second)
	req.Tags[telemetry.TagSessionID] = "chat-new"
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{recent, req}})
	if err := s.Prune(ctx, 30*24*time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"chat-new", "job-new"}, sessionIDs(t, s)); diff != "" {
		t.Errorf("sessions after prune (-want +got):\n%s", diff)
	}
	for _, q := range []string{
		`SELECT count(*) FROM session_links WHERE session_id IN ('job-7', 'chat-42', 'chat-43')`,
		`SELECT count(*) FROM session_tags WHERE session_id IN ('job-7', 'chat-42', 'chat-43')`,
		`SELECT count(*) FROM spans WHERE session_id IN ('job-7', 'chat-42', 'chat-43')`,
	} {
		if n := count(t, s, q); n != 0 {
			t.Errorf("%s = %d, want 0", q, n)
		}
	}
}
