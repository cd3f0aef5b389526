package upload_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/signalspb"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/upload"
	"github.com/graphsignal/graphsignal/internal/upload/gsapi"
)

// apiStandIn is an httptest Graphsignal API that answers each request with
// the next status of its script (200 once the script is used up) and
// decodes what it accepted.
type apiStandIn struct {
	t      *testing.T
	script []int

	mu       sync.Mutex
	requests int
	metrics  int // metric points in accepted requests
}

func (a *apiStandIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	if r.Header.Get("X-API-Key") != "key-secret-1234" || r.URL.Path != gsapi.SignalsPath || r.Header.Get("Content-Encoding") != "gzip" {
		a.t.Errorf("request %s %s key %q encoding %q", r.Method, r.URL, r.Header.Get("X-API-Key"), r.Header.Get("Content-Encoding"))
	}
	if len(a.script) > 0 {
		code := a.script[0]
		a.script = a.script[1:]
		if code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(code)
		return
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		a.t.Errorf("gzip: %v", err)
		return
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		a.t.Errorf("read body: %v", err)
		return
	}
	var req signalspb.UploadRequest
	if err := req.Unmarshal(body); err != nil {
		a.t.Errorf("decode UploadRequest: %v", err)
		return
	}
	for _, m := range req.Metrics {
		a.metrics += len(m.Datapoints)
	}
}

// TestGraphsignalAPI drains a journal through the real gsapi Sender to an
// httptest server: a 503 with Retry-After is retried after it, everything
// arrives once; a 401 stops with one line that holds no key.
func TestGraphsignalAPI(t *testing.T) {
	tests := []struct {
		name     string
		script   []int
		requests int
		err      string
	}{
		{name: "accepted", requests: 1},
		{name: "503 then accepted", script: []int{503}, requests: 2},
		{name: "401", script: []int{401}, requests: 1, err: "invalid API key (401)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &apiStandIn{t: t, script: tt.script}
			srv := httptest.NewServer(api)
			defer srv.Close()
			d := spool.Open(t.TempDir())
			snd, err := gsapi.New(gsapi.Config{APIBase: srv.URL, APIKey: "key-secret-1234"})
			if err != nil {
				t.Fatal(err)
			}
			if snd.InsecureKey() {
				t.Errorf("InsecureKey() for a loopback server = true")
			}
			defer snd.CloseIdleConnections()
			if err := d.Expect(snd.Name(), "run"); err != nil {
				t.Fatal(err)
			}
			w, err := journal.Create(d.JournalDir(), "run", 0)
			if err != nil {
				t.Fatal(err)
			}
			var b telemetry.Batch
			for i := range 50 {
				b.Metrics = append(b.Metrics, telemetry.Metric{Name: "process.cpu.usage", Kind: telemetry.Gauge,
					Time: time.Unix(1700000000+int64(i), 0), Value: float64(i), Tags: telemetry.Tags{"session_id": "s"}})
			}
			if err := w.Append(b); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			s, err := upload.New(upload.Config{Sender: snd, Spool: d, Stderr: &stderr, InitialInterval: 10 * time.Millisecond,
				Debug: true, Secrets: []string{"key-secret-1234"}})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = s.Drain(t.Context(), nil)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("Drain() = %v, want %q", err, tt.err)
			}
			if len(tt.script) > 0 && tt.script[0] == 503 && time.Since(start) < time.Second {
				t.Errorf("retried after %v, before Retry-After: 1", time.Since(start))
			}
			if api.requests != tt.requests {
				t.Errorf("%d requests, want %d", api.requests, tt.requests)
			}
			if strings.Contains(stderr.String(), "key-secret") {
				t.Errorf("stderr shows the key: %q", stderr.String())
			}
			debugLines := strings.Count(stderr.String(), "graphsignal: upload: ")
			if debugLines != tt.requests {
				t.Errorf("%d debug lines for %d requests: %q", debugLines, tt.requests, stderr.String())
			}
			st := s.Stats()
			pending, _ := d.Pending(snd.Name())
			if tt.err == "" {
				if api.metrics == 0 || st.Records != 50 || len(pending) != 0 {
					t.Errorf("delivered %d points, Stats %+v, pending %v", api.metrics, st, pending)
				}
				return
			}
			want := fmt.Sprintf("graphsignal: upload rejected by %s: invalid API key (401); the run is kept locally\n", snd.Name())
			if got := strings.Join(grep(stderr.String(), "kept locally"), ""); got != want {
				t.Errorf("stderr = %q, want the line %q", stderr.String(), want)
			}
			if len(pending) != 1 {
				t.Errorf("pending after a 401 = %v, want the journal", pending)
			}
		})
	}
}

func grep(s, word string) []string {
	var out []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return out
}
