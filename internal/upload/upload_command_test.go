package upload_test

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/cli"
	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/upload/gsapi"
)

// TestUploadCommandDeliversARunInFull: a run of 100,000 spans whose
// Graphsignal API was unreachable is left in the spool; `graphsignal
// upload` (the command, run in this process) then delivers every span to
// the API stand-in exactly once and leaves nothing pending.
func TestUploadCommandDeliversARunInFull(t *testing.T) {
	const total, perLine = throughputSpans, 1000
	in := newStandIn(t, decodeSignals)
	srv := httptest.NewServer(in)
	defer srv.Close()
	gs, err := gsapi.New(gsapi.Config{APIBase: srv.URL, APIKey: "upload-key-1234"})
	if err != nil {
		t.Fatal(err)
	}
	dest := gs.Name()

	// What `graphsignal run` leaves when its destination never answered.
	home := t.TempDir()
	dataDir := filepath.Join(home, "data")
	sp := spool.Open(dataDir)
	spans := programSpans(total, 4)
	name := spool.JournalName(spans[0].Start, spans[0].ParentSpanID)
	if err := sp.Expect(dest, name); err != nil {
		t.Fatal(err)
	}
	w, err := journal.Create(sp.JournalDir(), name, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < total; i += perLine {
		if err := w.Append(telemetry.Batch{Spans: spans[i : i+perLine]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	stdout, err := os.Create(filepath.Join(home, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(home, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	environ := []string{"HOME=" + home, "GRAPHSIGNAL_API_KEY=upload-key-1234", "GRAPHSIGNAL_API_BASE=" + srv.URL,
		"GRAPHSIGNAL_DATA_DIR=" + dataDir}
	root := cli.NewCmdRoot(&cli.IOStreams{In: os.Stdin, Out: stdout, ErrOut: stderr}, environ, nil)
	root.SetArgs([]string{"upload", "--json"})
	start := time.Now()
	err = root.Execute()
	elapsed := time.Since(start)
	errText, _ := os.ReadFile(stderr.Name())
	if err != nil {
		t.Fatalf("graphsignal upload: %v; stderr:\n%s", err, errText)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	t.Logf("graphsignal upload delivered %d spans in %v (%.0f spans/s), %d requests, %.1f bytes/span on the wire",
		in.spans, elapsed.Round(time.Millisecond), float64(in.spans)/elapsed.Seconds(), in.requests,
		float64(in.wire)/float64(in.spans))

	if in.spans != total || len(in.ids) != total {
		t.Errorf("the API got %d spans, %d distinct; want each of %d exactly once", in.spans, len(in.ids), total)
	}
	for _, s := range spans {
		if _, ok := in.ids[s.SpanID]; !ok {
			t.Fatalf("span %s never arrived", s.SpanID)
		}
	}
	out, _ := os.ReadFile(stdout.Name())
	var sum struct {
		Pending      bool `json:"pending"`
		Destinations []struct {
			Name    string `json:"name"`
			Records int64  `json:"records_delivered"`
		} `json:"destinations"`
	}
	if err := json.Unmarshal(out, &sum); err != nil {
		t.Fatalf("summary %q: %v", out, err)
	}
	if sum.Pending || len(sum.Destinations) != 1 || sum.Destinations[0].Records != total {
		t.Errorf("summary = %+v, want %d records delivered to %s and nothing pending", sum, total, dest)
	}
	if pending, err := sp.Pending(dest); err != nil || len(pending) != 0 {
		t.Errorf("Pending(%s) = %v, %v; want none", dest, pending, err)
	}
}
