package upload_test

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
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

// The journal of TestResumeCountsOnce: resumeLines lines, line i (1-based)
// holding the cumulative points steps = 3i and a histogram of 6i
// observations (i, 2i, 3i in its buckets) summing to 2.5i.
const (
	resumeLines  = 10
	resumeKilled = 4 // lines the first process had acknowledged when killed
	resumeKey    = "key-secret-1234"
	// resumeEnv tells the child process the spool and the API base.
	resumeEnvSpool = "GRAPHSIGNAL_TEST_RESUME_SPOOL"
	resumeEnvAPI   = "GRAPHSIGNAL_TEST_RESUME_API"
)

func resumeLine(i int) telemetry.Batch {
	trace := telemetry.TraceID{7}
	tags := telemetry.Tags{telemetry.TagSessionID: "s"}
	at := time.Unix(1700000000+int64(i), 0)
	n := uint64(i)
	return telemetry.Batch{Metrics: []telemetry.Metric{
		{TraceID: trace, Name: "steps", Kind: telemetry.Counter, Tags: tags, Time: at, Value: float64(3 * i)},
		{TraceID: trace, Name: "latency", Kind: telemetry.Histogram, Tags: tags, Time: at,
			Buckets: []float64{1, 2}, Counts: []uint64{n, 2 * n, 3 * n}, Count: 6 * n, Sum: 2.5 * float64(i)},
	}}
}

// deltaSums is an httptest Graphsignal API that adds up the per-upload
// deltas it accepts, per series, as the API does. Once accept requests
// were accepted, it holds any other until release is closed or its client
// goes away.
type deltaSums struct {
	t       *testing.T
	mu      sync.Mutex
	accept  int           // -1: all
	held    chan struct{} // a request is held
	release chan struct{} // closed: held requests end

	steps  float64
	counts []int64
	total  int64 // histogram observations
}

func (a *deltaSums) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	if a.accept == 0 {
		a.mu.Unlock()
		select {
		case a.held <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-a.release:
		}
		return
	}
	defer a.mu.Unlock()
	if a.accept > 0 {
		a.accept--
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
		for _, dp := range m.Datapoints {
			switch m.Name {
			case "steps":
				a.steps += dp.GetTotal()
			case "latency":
				h := dp.GetHistogram()
				if a.counts == nil {
					a.counts = make([]int64, len(h.GetCounts()))
				}
				for i, c := range h.GetCounts() {
					a.counts[i] += c
					a.total += c
				}
			}
		}
	}
}

// hideSender hides the Sender's Prime: a Sender as it was before Primer.
type hideSender struct{ upload.Sender }

// TestResumeCountsOnce kills a process (SIGKILL) that was delivering a
// journal to the Graphsignal API after resumeKilled of its lines were
// acknowledged, then delivers the rest from this one with a fresh gsapi
// Sender, as `graphsignal upload` would. The API adds up the counter and
// histogram deltas it received: primed with the acknowledged lines, the
// fresh Sender sends increases and the sums are the final cumulative
// values exactly once; without Prime the first points after the offset
// are sent whole and what was acknowledged before is counted twice.
func TestResumeCountsOnce(t *testing.T) {
	if dir := os.Getenv(resumeEnvSpool); dir != "" {
		resumeChild(t, dir, os.Getenv(resumeEnvAPI))
		return
	}
	final := resumeLine(resumeLines).Metrics
	atKill := resumeLine(resumeKilled).Metrics
	tests := []struct {
		name      string
		hide      bool
		wantSteps float64
		wantTotal int64
	}{
		{name: "primed", wantSteps: final[0].Value, wantTotal: int64(final[1].Count)},
		{name: "without Prime", hide: true,
			wantSteps: final[0].Value + atKill[0].Value, wantTotal: int64(final[1].Count + atKill[1].Count)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &deltaSums{t: t, accept: resumeKilled, held: make(chan struct{}, 1), release: make(chan struct{})}
			srv := httptest.NewServer(api)
			t.Cleanup(srv.Close)
			// Held requests end before the server closes, whatever fails
			// (cleanups run last-registered first).
			var releaseOnce sync.Once
			release := func() { releaseOnce.Do(func() { close(api.release) }) }
			t.Cleanup(release)
			dir := t.TempDir()
			d := spool.Open(dir)
			snd := newGSAPI(t, srv.URL)
			if err := d.Expect(snd.Name(), "run"); err != nil {
				t.Fatal(err)
			}
			w, err := journal.Create(d.JournalDir(), "run", 0)
			if err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= resumeLines; i++ {
				if err := w.Append(resumeLine(i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}

			// The first process: killed while its request after the
			// acknowledged lines is held.
			cmd := exec.Command(os.Args[0], "-test.run=^TestResumeCountsOnce$", "-test.count=1")
			cmd.Env = append(os.Environ(), resumeEnvSpool+"="+dir, resumeEnvAPI+"="+srv.URL)
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-api.held:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				t.Fatal("the first process sent no request past the acknowledged lines")
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			var ee *exec.ExitError
			if err := cmd.Wait(); !errors.As(err, &ee) {
				t.Fatalf("first process: %v, want killed", err)
			}
			release()
			api.mu.Lock()
			api.accept = -1
			api.mu.Unlock()

			// This process resumes.
			var sender upload.Sender = snd
			if tt.hide {
				sender = hideSender{snd}
			}
			s, err := upload.New(upload.Config{Sender: sender, Dest: snd.Name(), Spool: d, MaxBytes: 1})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			if err := s.Drain(ctx, nil); err != nil {
				t.Fatalf("Drain: %v", err)
			}
			if st := s.Stats(); st.Records != 2*(resumeLines-resumeKilled) {
				t.Errorf("resumed delivery sent %d records, want the %d after the offset", st.Records, 2*(resumeLines-resumeKilled))
			}
			api.mu.Lock()
			defer api.mu.Unlock()
			if api.steps != tt.wantSteps || api.total != tt.wantTotal {
				t.Errorf("API counted steps %v and %d observations, want %v and %d", api.steps, api.total, tt.wantSteps, tt.wantTotal)
			}
			if !tt.hide {
				want := []int64{int64(final[1].Counts[0]), int64(final[1].Counts[1]), int64(final[1].Counts[2])}
				if len(api.counts) != len(want) || api.counts[0] != want[0] || api.counts[1] != want[1] || api.counts[2] != want[2] {
					t.Errorf("API histogram counts %v, want %v", api.counts, want)
				}
			}
		})
	}
}

func newGSAPI(t *testing.T, base string) *gsapi.Sender {
	t.Helper()
	snd, err := gsapi.New(gsapi.Config{APIBase: base, APIKey: resumeKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(snd.CloseIdleConnections)
	return snd
}

// resumeChild is the first process of TestResumeCountsOnce: it delivers
// the journal one line per request until it is killed.
func resumeChild(t *testing.T, dir, api string) {
	snd := newGSAPI(t, api)
	s, err := upload.New(upload.Config{Sender: snd, Spool: spool.Open(dir), MaxBytes: 1, RequestTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Drain(t.Context(), nil)
	t.Fatalf("Drain returned %v before the process was killed", err)
}

// primerOnly is a Sender that primes from the journal but keeps no state
// (not a StateKeeper).
type primerOnly struct {
	upload.Sender
	p upload.Primer
}

func (p primerOnly) Prime(b telemetry.Batch) { p.p.Prime(b) }

// TestResumeAfterReclaimCountsOnce: a long journal's consumed middle is
// reclaimed (a hole) while a destination has acknowledged part of it; the
// counter there, never updated in what reclaim keeps, is known to the
// resuming Sender from the state saved beside the cursor, so its last point
// goes as an increase: the API counts it once. Primed from the journal alone
// (what reclaim kept: its first line and the last MiB), it is sent whole
// and counted twice.
func TestResumeAfterReclaimCountsOnce(t *testing.T) {
	trace := telemetry.TraceID{9}
	tags := telemetry.Tags{telemetry.TagSessionID: "s"}
	calls := func(v float64, at int) telemetry.Batch {
		return telemetry.Batch{Metrics: []telemetry.Metric{{TraceID: trace, Name: "steps", Kind: telemetry.Counter,
			Tags: tags, Time: time.Unix(1700000000+int64(at), 0), Value: v}}}
	}
	pad := func(i int) telemetry.Batch {
		return telemetry.Batch{Logs: []telemetry.Log{{TraceID: trace, Level: "info", Time: time.Unix(1700000000+int64(i), 0),
			Message: strings.Repeat("x", 64<<10)}}}
	}
	const pads = 48 // 3 MiB of logs between the counter's two points
	tests := []struct {
		name      string
		hide      bool // a Primer that keeps no state (primerOnly)
		wantSteps float64
	}{
		{"state saved", false, 7},
		{"journal only", true, 5 + 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &deltaSums{t: t, accept: -1, held: make(chan struct{}, 1), release: make(chan struct{})}
			srv := httptest.NewServer(api)
			t.Cleanup(srv.Close)
			dir := t.TempDir()
			d := spool.Open(dir)
			first := newGSAPI(t, srv.URL)
			if err := d.Expect(first.Name(), "run"); err != nil {
				t.Fatal(err)
			}
			w, err := journal.Create(d.JournalDir(), "run", 0)
			if err != nil {
				t.Fatal(err)
			}
			lines := []telemetry.Batch{pad(0), calls(5, 1)} // the first line is always kept: not the counter
			for i := range pads {
				lines = append(lines, pad(2+i))
			}
			for _, b := range lines {
				if err := w.Append(b); err != nil {
					t.Fatal(err)
				}
			}
			// The first process delivers all but the counter's last point.
			var asSender upload.Sender = first
			if tt.hide {
				asSender = primerOnly{first, first}
			}
			s1, err := upload.New(upload.Config{Sender: asSender, Dest: first.Name(), Spool: d, Live: "run", MaxBytes: 256 << 10})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			s1.Start(ctx)
			deadline := time.Now().Add(30 * time.Second)
			for s1.Stats().Records < int64(len(lines)) {
				if time.Now().After(deadline) {
					t.Fatalf("first delivery stuck at %d records", s1.Stats().Records)
				}
				s1.Kick()
				time.Sleep(10 * time.Millisecond)
			}
			s1.Stop()
			if err := w.Append(calls(7, 100)); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			acked, err := d.Claim(first.Name(), "run")
			if err != nil {
				t.Fatal(err)
			}
			upTo := acked.Offset()
			_ = acked.Release()
			hole, err := journal.Reclaim(d.JournalDir(), "run", upTo, spool.ReclaimKeep)
			if errors.Is(err, journal.ErrReclaimUnsupported) {
				t.Skip("this file system cannot punch holes")
			}
			if err != nil || hole < 1<<20 {
				t.Fatalf("Reclaim: %d bytes, %v", hole, err)
			}

			// Another process resumes with a fresh Sender.
			second := newGSAPI(t, srv.URL)
			var sender upload.Sender = second
			if tt.hide {
				sender = primerOnly{second, second}
			}
			s2, err := upload.New(upload.Config{Sender: sender, Dest: second.Name(), Spool: d})
			if err != nil {
				t.Fatal(err)
			}
			if err := s2.Drain(ctx, nil); err != nil {
				t.Fatalf("Drain: %v", err)
			}
			api.mu.Lock()
			defer api.mu.Unlock()
			if api.steps != tt.wantSteps {
				t.Errorf("API counted %v steps, want %v", api.steps, tt.wantSteps)
			}
		})
	}
}
