package store

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// helperEnv makes the test binary act as a second writer process (see
// TestConcurrentProcesses): its value is the data dir.
const helperEnv = "GRAPHSIGNAL_STORE_TEST_WRITER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(writerProcess(dir))
	}
	goleak.VerifyTestMain(m)
}

// t0 is the base time of the test data.
var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func openStore(t *testing.T, dir string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, opts...)
	if err != nil {
		t.Fatalf("Open(%q) = %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return s
}

func write(t *testing.T, s *Store, b telemetry.Batch) {
	t.Helper()
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatalf("Write() = %v", err)
	}
}

// runSpan is a finished run span of session at t0+offset lasting d (d == 0:
// in progress).
func runSpan(session string, offset, d time.Duration) telemetry.Span {
	sp := telemetry.Span{
		TraceID: telemetry.NewTraceID(),
		SpanID:  telemetry.NewSpanID(),
		Name:    "python",
		Start:   t0.Add(offset),
		Tags:    telemetry.Tags{telemetry.TagSessionID: session, telemetry.TagDeployment: "train"},
		Attributes: map[string]any{
			telemetry.AttrSpanKind:       telemetry.SpanKindRun,
			telemetry.AttrExecutableName: "python",
			telemetry.AttrPID:            int64(4242),
		},
	}
	if d > 0 {
		sp.End = sp.Start.Add(d)
		sp.Status = telemetry.StatusOK
		sp.Attributes[telemetry.AttrExitCode] = int64(0)
	}
	return sp
}

// childSpan is a span in run's trace starting at run.Start+offset lasting d.
func childSpan(run *telemetry.Span, name string, offset, d time.Duration) telemetry.Span {
	return telemetry.Span{
		TraceID:      run.TraceID,
		SpanID:       telemetry.NewSpanID(),
		ParentSpanID: run.SpanID,
		Name:         name,
		Start:        run.Start.Add(offset),
		End:          run.Start.Add(offset + d),
		Tags:         run.Tags.Clone(),
		Status:       telemetry.StatusOK,
	}
}

// writerProcess writes runs of session "proc" to dir; the parent test
// checks they all arrived.
func writerProcess(dir string) int {
	ctx := context.Background()
	s, err := Open(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	for i := range concurrentRuns {
		run := runSpan("proc", time.Duration(i)*time.Second, 0)
		if err := s.Write(ctx, telemetry.Batch{Spans: []telemetry.Span{run}, Metrics: points(run.TraceID, "cpu", 20)}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		run.End = run.Start.Add(time.Second)
		if err := s.Write(ctx, telemetry.Batch{Spans: []telemetry.Span{run}}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

const concurrentRuns = 50

// points returns n gauge points of name in trace, one a second from t0,
// valued 0..n-1.
func points(trace telemetry.TraceID, name string, n int) []telemetry.Metric {
	ms := make([]telemetry.Metric, n)
	for i := range ms {
		ms[i] = telemetry.Metric{TraceID: trace, Name: name, Kind: telemetry.Gauge, Unit: "%",
			Time: t0.Add(time.Duration(i) * time.Second), Value: float64(i)}
	}
	return ms
}

// batchOf is run with n cpu points.
func batchOf(run telemetry.Span, n int) telemetry.Batch {
	return telemetry.Batch{Spans: []telemetry.Span{run}, Metrics: points(run.TraceID, "cpu", n)}
}

// queryPlan returns the lines of EXPLAIN QUERY PLAN for query with args,
// joined by newlines.
func queryPlan(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	rows, err := s.db.Query(`EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}
