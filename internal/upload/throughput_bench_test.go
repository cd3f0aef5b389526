package upload_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/protobuf/proto"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/pipeline"
	gen "github.com/graphsignal/graphsignal/internal/signalspb/signalspbgen"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/upload"
	"github.com/graphsignal/graphsignal/internal/upload/gsapi"
	"github.com/graphsignal/graphsignal/internal/upload/otlpexport"
)

// The export path end to end, as `graphsignal run` wires it (docs/upload.md):
// records enqueued into a pipeline whose exporter appends to the run's
// journal and kicks a Shipper, which reads the journal and sends it with a
// real Sender to a stand-in on loopback that decodes every request.
// BENCHMARKS.md reports these numbers; the commands are there.

const throughputSpans = 100_000

// programSpans returns n program spans of one run shaped like an LLM app's:
// random span ids (W3C ids do not compress), varying times and durations,
// the run's tags, four attributes of the model's types, two usage
// counters.
func programSpans(n int, seed uint64) []telemetry.Span {
	rng := rand.New(rand.NewPCG(seed, 7))
	trace := telemetry.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	run := telemetry.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
	t0 := time.Unix(1_764_000_000, 0).UTC()
	tags := telemetry.Tags{"session_id": "s-1", "run_id": "r-1", "deployment": "prod"}
	out := make([]telemetry.Span, n)
	for i := range out {
		var id telemetry.SpanID
		binary.LittleEndian.PutUint64(id[:], rng.Uint64()|1)
		start := t0.Add(time.Duration(rng.Int64N(int64(time.Minute))))
		out[i] = telemetry.Span{
			TraceID: trace, SpanID: id, ParentSpanID: run, Name: fmt.Sprintf("openai.chat.completions.create.%d", i%5),
			Start: start, End: start.Add(time.Duration(rng.Int64N(int64(2 * time.Second)))),
			Tags: tags,
			Attributes: map[string]any{"model": "gpt-4o", "temperature": 0.7, "stream": false,
				"max_tokens": int64(256 + i%100)},
			Usage: []telemetry.Usage{{Name: "prompt_tokens", Value: float64(100 + i%50)},
				{Name: "completion_tokens", Value: float64(40 + i%7)}},
		}
	}
	return out
}

// standIn counts what a destination received: requests, bytes on the wire,
// spans and distinct span ids.
type standIn struct {
	t      testing.TB
	decode func(body []byte, spanID func(id [8]byte)) error

	mu       sync.Mutex
	requests int
	wire     int64
	spans    int
	ids      map[[8]byte]struct{}
}

func newStandIn(t testing.TB, decode func([]byte, func([8]byte)) error) *standIn {
	return &standIn{t: t, decode: decode, ids: map[[8]byte]struct{}{}}
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	wire, err := io.ReadAll(r.Body)
	if err != nil {
		s.t.Errorf("read request: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	body := wire
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(wire))
		if err == nil {
			body, err = io.ReadAll(zr)
		}
		if err != nil {
			s.t.Errorf("gunzip: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.decode(body, func(id [8]byte) {
		s.spans++
		s.ids[id] = struct{}{}
	}); err != nil {
		s.t.Errorf("decode request: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.requests++
	s.wire += int64(len(wire))
	if r.Header.Get("Content-Type") == "application/x-protobuf" {
		w.Header().Set("Content-Type", "application/x-protobuf")
	}
	w.WriteHeader(http.StatusOK)
}

// decodeSignals decodes a Graphsignal UploadRequest with the protoc
// generated code.
func decodeSignals(body []byte, spanID func([8]byte)) error {
	var req gen.UploadRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		return err
	}
	for _, sp := range req.GetSpans() {
		var id [8]byte
		if len(sp.GetSpanId()) != 2*len(id) {
			return fmt.Errorf("span id %q", sp.GetSpanId())
		}
		if _, err := hex.Decode(id[:], []byte(sp.GetSpanId())); err != nil {
			return fmt.Errorf("span id %q: %v", sp.GetSpanId(), err)
		}
		spanID(id)
	}
	return nil
}

// decodeOTLP decodes an OTLP/HTTP protobuf traces request with the
// Collector's pdata.
func decodeOTLP(body []byte, spanID func([8]byte)) error {
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(body); err != nil {
		return err
	}
	rss := req.Traces().ResourceSpans()
	for i := range rss.Len() {
		sss := rss.At(i).ScopeSpans()
		for j := range sss.Len() {
			spans := sss.At(j).Spans()
			for k := range spans.Len() {
				spanID(spans.At(k).SpanID())
			}
		}
	}
	return nil
}

// destination is one of the senders under test with its stand-in.
type destination struct {
	name   string
	decode func([]byte, func([8]byte)) error
	sender func(url string) (upload.Sender, func(), error)
}

func destinations() []destination {
	return []destination{{
		name:   "graphsignal",
		decode: decodeSignals,
		sender: func(url string) (upload.Sender, func(), error) {
			s, err := gsapi.New(gsapi.Config{APIBase: url, APIKey: "bench-key"})
			if err != nil {
				return nil, nil, err
			}
			return s, s.CloseIdleConnections, nil
		},
	}, {
		name:   "otlp-http-protobuf",
		decode: decodeOTLP,
		sender: func(url string) (upload.Sender, func(), error) {
			s, err := otlpexport.New(otlpexport.Config{ServiceName: "bench", Traces: otlpexport.Signal{
				URL: url + "/v1/traces", Protocol: otlpexport.ProtocolHTTPProtobuf, Compression: otlpexport.CompressionGzip}})
			if err != nil {
				return nil, nil, err
			}
			return s, s.CloseIdleConnections, nil
		},
	}}
}

// kickingJournal is the run's journal exporter (internal/cli): it appends
// each batch and tells the Shipper that the journal grew.
type kickingJournal struct {
	w    *journal.Writer
	kick func()
}

func (e kickingJournal) Export(_ context.Context, b telemetry.Batch) error {
	err := e.w.Append(b)
	e.kick()
	return err
}

func (e kickingJournal) Close() error { return e.w.Close() }

// exportRun records spans through a pipeline into a live journal that a
// Shipper streams to dest's stand-in at url, and returns once the Shipper
// reports everything acknowledged.
func exportRun(tb testing.TB, dest destination, url string, spans []telemetry.Span) {
	tb.Helper()
	snd, closeIdle, err := dest.sender(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer closeIdle()
	sp := spool.Open(tb.TempDir())
	if err := sp.Expect(snd.Name(), "run"); err != nil {
		tb.Fatal(err)
	}
	w, err := journal.Create(sp.JournalDir(), "run", 0)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := upload.New(upload.Config{Sender: snd, Spool: sp, Live: "run"})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s.Start(ctx)
	defer s.Stop()
	// The queue holds the whole run: this measures delivery, not the
	// intake's drop policy.
	p := pipeline.New(pipeline.Config{QueueSize: 2 * len(spans)}, kickingJournal{w: w, kick: s.Kick})
	const perEnqueue = 100 // records per intake batch
	for i := 0; i < len(spans); i += perEnqueue {
		if !p.Enqueue(telemetry.Batch{Spans: spans[i:min(i+perEnqueue, len(spans))]}) {
			tb.Fatal("pipeline dropped records")
		}
	}
	if err := p.Shutdown(ctx); err != nil {
		tb.Fatal(err)
	}
	s.LiveClosed()
	if err := s.Flush(ctx); err != nil {
		tb.Fatalf("Flush: %v", err)
	}
	if st := s.Stats(); st.Records != int64(len(spans)) {
		tb.Fatalf("Stats().Records = %d, want %d", st.Records, len(spans))
	}
}

// standInEnv names the destination a re-executed test binary serves as
// (TestStandInProcess).
const standInEnv = "GRAPHSIGNAL_TEST_STAND_IN"

// standInReport is what a stand-in process prints when its stdin closes.
type standInReport struct {
	Requests, Spans, Distinct int
	Wire                      int64
}

// TestStandInProcess is not a test: re-executed with standInEnv set, the
// test binary serves as that destination's stand-in on 127.0.0.1, prints
// its URL, and when its stdin closes prints a standInReport and exits.
// BenchmarkExport runs the stand-in so, in a process of its own, so that
// each side's CPU time is its own.
func TestStandInProcess(t *testing.T) {
	name := os.Getenv(standInEnv)
	if name == "" {
		return
	}
	var dest destination
	for _, d := range destinations() {
		if d.name == name {
			dest = d
		}
	}
	in := newStandIn(t, dest.decode)
	srv := httptest.NewServer(in)
	fmt.Println(srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
	srv.Close()
	in.mu.Lock()
	defer in.mu.Unlock()
	_ = json.NewEncoder(os.Stdout).Encode(standInReport{Requests: in.requests, Spans: in.spans, Distinct: len(in.ids), Wire: in.wire})
}

// standInProcess is a stand-in running in a child process.
type standInProcess struct {
	cmd   *exec.Cmd
	stdin io.Closer
	out   *bufio.Reader
	url   string
}

func startStandIn(tb testing.TB, dest string) *standInProcess {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStandInProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), standInEnv+"="+dest)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &standInProcess{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	line, err := p.out.ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		tb.Fatalf("stand-in: %q, %v", line, err)
	}
	p.url = strings.TrimSpace(line)
	return p
}

// stop ends the stand-in and returns what it received and its CPU time.
func (p *standInProcess) stop(tb testing.TB) (standInReport, time.Duration) {
	tb.Helper()
	_ = p.stdin.Close()
	var rep standInReport
	dec := json.NewDecoder(p.out)
	err := dec.Decode(&rep)
	_, _ = io.Copy(io.Discard, p.out)
	if werr := p.cmd.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		tb.Fatalf("stand-in: %v", err)
	}
	return rep, p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
}

// BenchmarkExport: 100,000 spans from the pipeline to each destination's
// stand-in, which runs in a process of its own (startStandIn) and decodes
// every request. spans/s is wall time from the first Enqueue to the last
// acknowledgement; spans/cpu-s is per CPU second of this process alone
// (graphsignal's side: pipeline, journal, Shipper, Sender), and
// receiver-cpu-ms the stand-in's CPU time per 100,000 spans.
func BenchmarkExport(b *testing.B) {
	spans := programSpans(throughputSpans, 1)
	for _, dest := range destinations() {
		b.Run(dest.name, func(b *testing.B) {
			var cpu, receiver time.Duration
			var wire int64
			for b.Loop() {
				b.StopTimer()
				in := startStandIn(b, dest.name)
				b.StartTimer()
				before := cpuTime()
				exportRun(b, dest, in.url, spans)
				cpu += cpuTime() - before
				b.StopTimer()
				rep, rcpu := in.stop(b)
				b.StartTimer()
				if rep.Distinct != len(spans) || rep.Spans != len(spans) {
					b.Fatalf("stand-in got %d spans, %d distinct; want %d", rep.Spans, rep.Distinct, len(spans))
				}
				wire += rep.Wire
				receiver += rcpu
			}
			total := float64(len(spans) * b.N)
			b.ReportMetric(total/b.Elapsed().Seconds(), "spans/s")
			b.ReportMetric(total/cpu.Seconds(), "spans/cpu-s")
			b.ReportMetric(float64(wire)/total, "wire-bytes/span")
			b.ReportMetric(float64(receiver.Milliseconds())/float64(b.N), "receiver-cpu-ms/op")
		})
	}
}

// TestExportDeliversEverySpanOnce: the path of BenchmarkExport at a
// smaller size, with the stand-in in this process, delivers every span
// exactly once to each destination.
func TestExportDeliversEverySpanOnce(t *testing.T) {
	spans := programSpans(5_000, 2)
	for _, dest := range destinations() {
		t.Run(dest.name, func(t *testing.T) {
			in := newStandIn(t, dest.decode)
			srv := httptest.NewServer(in)
			defer srv.Close()
			exportRun(t, dest, srv.URL, spans)
			in.mu.Lock()
			defer in.mu.Unlock()
			if in.spans != len(spans) || len(in.ids) != len(spans) {
				t.Errorf("stand-in got %d spans, %d distinct; want %d once each", in.spans, len(in.ids), len(spans))
			}
		})
	}
}

// BenchmarkSpool: the spool's own rates over 100,000 spans in journal lines
// of 1,000: written-spans/s appends them to a journal, drained-spans/s
// reads them back through a Shipper's Drain to a Sender that acknowledges
// at once.
func BenchmarkSpool(b *testing.B) {
	spans := programSpans(throughputSpans, 3)
	var write, drain time.Duration
	for b.Loop() {
		sp := spool.Open(b.TempDir())
		if err := sp.Expect("ack", "run"); err != nil {
			b.Fatal(err)
		}
		w, err := journal.Create(sp.JournalDir(), "run", 0)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for i := 0; i < len(spans); i += 1000 {
			if err := w.Append(telemetry.Batch{Spans: spans[i : i+1000]}); err != nil {
				b.Fatal(err)
			}
		}
		write += time.Since(start)
		_ = w.Close()
		s, err := upload.New(upload.Config{Sender: ackSender{}, Spool: sp})
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if err := s.Drain(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
		drain += time.Since(start)
		if got := s.Stats().Records; got != int64(len(spans)) {
			b.Fatalf("drained %d spans, want %d", got, len(spans))
		}
	}
	total := float64(len(spans) * b.N)
	b.ReportMetric(total/write.Seconds(), "written-spans/s")
	b.ReportMetric(total/drain.Seconds(), "drained-spans/s")
}

// ackSender acknowledges everything at once.
type ackSender struct{}

func (ackSender) Name() string { return "ack" }
func (ackSender) Send(context.Context, telemetry.Batch) (upload.Result, error) {
	return upload.Result{}, nil
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
