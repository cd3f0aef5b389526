package forward

import (
	"bytes"
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/ipc"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestForwardSDKUploadsWhole sends a nested run's SDK uploads through a
// real ipc server: each arrives whole, with the nested run's ids, and the
// records decoded from them (InSDKUpload) are not sent on their own.
func TestForwardSDKUploadsWhole(t *testing.T) {
	var mu sync.Mutex
	var uploads []ipc.SDKUpload
	var got telemetry.Batch
	outerTrace, outerSpan := telemetry.NewTraceID(), telemetry.NewSpanID()
	srv, err := ipc.Bind(context.Background(), ipc.Config{
		TraceID: outerTrace, SpanID: outerSpan,
		Consumer: ipc.ConsumerFunc(func(b telemetry.Batch) {
			mu.Lock()
			defer mu.Unlock()
			got.Spans = append(got.Spans, b.Spans...)
			got.Metrics = append(got.Metrics, b.Metrics...)
			got.Logs = append(got.Logs, b.Logs...)
		}),
		DecodeSDKUpload: func(u ipc.SDKUpload) (telemetry.Batch, error) {
			mu.Lock()
			defer mu.Unlock()
			uploads = append(uploads, u)
			return telemetry.Batch{}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve()
	trace, runSpan := telemetry.NewTraceID(), telemetry.NewSpanID()
	f, err := Dial(context.Background(), srv.Addr(), WithRun(trace, runSpan))
	if err != nil {
		t.Fatal(err)
	}
	large := make([]byte, 1<<20+12345)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range large {
		large[i] = byte(rng.Uint32())
	}
	at := time.Unix(1_700_000_000, 5)
	sent := []telemetry.SDKUpload{{Time: at, Body: large}, {Time: at.Add(time.Second), Body: []byte("small")}}
	now := time.Now()
	batch := telemetry.Batch{
		SDKUploads: sent[:1],
		Spans:      []telemetry.Span{{TraceID: trace, SpanID: telemetry.NewSpanID(), Name: "in-upload", Start: now, End: now, InSDKUpload: true}},
		Metrics:    []telemetry.Metric{{Name: "in.upload", Kind: telemetry.Gauge, Time: now, InSDKUpload: true}},
		Logs:       []telemetry.Log{{Message: "in upload", Time: now, InSDKUpload: true}, {Message: "own", Time: now}},
	}
	for _, b := range []telemetry.Batch{batch, {SDKUploads: sent[1:]}} {
		if err := f.Export(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	_ = f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(uploads) != len(sent) {
		t.Fatalf("%d uploads arrived, want %d (stats %+v)", len(uploads), len(sent), srv.Stats())
	}
	for i, u := range uploads {
		if !bytes.Equal(u.Body, sent[i].Body) || !u.Time.Equal(sent[i].Time) || u.TraceID != trace || u.RunSpan != runSpan {
			t.Errorf("upload %d arrived as %d bytes at %v, ids %v %v; want %d bytes at %v, ids %v %v",
				i, len(u.Body), u.Time, u.TraceID, u.RunSpan, len(sent[i].Body), sent[i].Time, trace, runSpan)
		}
	}
	if len(got.Spans) != 0 || len(got.Metrics) != 0 || len(got.Logs) != 1 || got.Logs[0].Message != "own" {
		t.Errorf("records sent on their own: %d spans, %d metrics, logs %+v; want only the log \"own\"", len(got.Spans), len(got.Metrics), got.Logs)
	}
	if st := srv.Stats(); st.BadTotal() != 0 {
		t.Errorf("bad lines = %v, want none", st.BadLines)
	}
}
