//go:build linux

package main

// A real OpenTelemetry Collector for the end-to-end OTLP tests: built from
// the official modules by testdata/otelcol/build.sh (which .ci/run calls),
// found here, started on free loopback ports, and read back through the
// file exporter's OTLP JSON lines with pdata's own unmarshalers.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// envOtelcol names a collector binary to use instead of the cached build;
// .ci/run sets it to what build.sh printed.
const envOtelcol = "GRAPHSIGNAL_OTELCOL"

const otelcolManifest = "../../testdata/otelcol/builder-config.yaml"

// otelcolPath returns the collector that testdata/otelcol/build.sh built
// for the current manifest. When there is none the test fails in CI (CI=true,
// or GRAPHSIGNAL_OTELCOL set: the collector is part of the suite there) and
// is skipped elsewhere, naming the command that builds it.
func otelcolPath(t *testing.T) string {
	t.Helper()
	const build = "bash testdata/otelcol/build.sh (from the repository root; a few minutes once, then cached)"
	path := os.Getenv(envOtelcol)
	if path == "" {
		var err error
		if path, err = cachedOtelcol(); err != nil {
			t.Fatalf("find the collector: %v", err)
		}
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv(envOtelcol) != "" || os.Getenv("CI") == "true" {
			t.Fatalf("OpenTelemetry Collector not built (%v): .ci/run builds it with %s", err, build)
		}
		t.Skipf("OpenTelemetry Collector not built (%s): build it with %s", path, build)
	}
	return path
}

// cachedOtelcol is build.sh's output path:
// ${XDG_CACHE_HOME:-$HOME/.cache}/graphsignal/otelcol-<first 16 hex digits
// of the manifest's SHA-256>/otelcol.
func cachedOtelcol() (string, error) {
	manifest, err := os.ReadFile(otelcolManifest)
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir() // $XDG_CACHE_HOME or $HOME/.cache, as build.sh
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(manifest)
	return filepath.Join(cache, "graphsignal", "otelcol-"+hex.EncodeToString(sum[:])[:16], "otelcol"), nil
}

// otelcol is a running collector, stopped when its test ends.
type otelcol struct {
	GRPCAddr, HTTPAddr string // host:port of its OTLP receivers
	stderr             *lockedBuffer
	done               chan struct{} // closed when the process has exited
	waitErr            error         // set before done is closed
}

// otelcolSetup describes one collector to start: given the two loopback
// addresses its OTLP receivers must listen on, it returns the command-line
// arguments after the binary and extra environment variables.
type otelcolSetup func(grpcAddr, httpAddr string) (args, env []string)

// startOtelcol starts bin on two free loopback ports and returns once both
// receivers accept connections. A port taken between choosing and binding
// it (another test's) makes it try again with new ports.
func startOtelcol(t *testing.T, bin string, setup otelcolSetup) *otelcol {
	t.Helper()
	var last string
	for try := 0; try < 3; try++ {
		c, err := tryStartOtelcol(t, bin, setup)
		if err == nil {
			return c
		}
		last = err.Error()
		if !strings.Contains(last, "address already in use") {
			break
		}
	}
	t.Fatalf("start the collector: %s", last)
	return nil
}

// otelcolTelemetry turns off the collector's own metrics endpoint and
// keeps its log to warnings and errors.
const otelcolTelemetry = "service:\n  telemetry:\n    metrics:\n      level: none\n    logs:\n      level: warn\n"

func tryStartOtelcol(t *testing.T, bin string, setup otelcolSetup) (*otelcol, error) {
	addrs, err := freeAddrs(2)
	if err != nil {
		return nil, err
	}
	args, env := setup(addrs[0], addrs[1])
	// The collector's own metrics would listen on :8888 and collide
	// between collectors; no test reads them. A last --config is merged
	// over the others.
	quiet := filepath.Join(t.TempDir(), "telemetry.yaml")
	if err := os.WriteFile(quiet, []byte(otelcolTelemetry), 0o644); err != nil {
		return nil, err
	}
	args = append(args, "--config=file:"+quiet)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	c := &otelcol{GRPCAddr: addrs[0], HTTPAddr: addrs[1], stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.stderr, c.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-c.done
		}
	}
	if err := c.waitReady(30 * time.Second); err != nil {
		stop()
		return nil, fmt.Errorf("%w; collector output:\n%s", err, c.stderr.String())
	}
	t.Cleanup(func() {
		stop()
		if out := c.stderr.String(); t.Failed() && out != "" {
			t.Logf("collector output:\n%s", out)
		}
	})
	return c, nil
}

// waitReady polls both receivers' ports until they accept a connection,
// the process exits, or the timeout passes. The receivers start after the
// rest of the pipeline, so accepting means the pipeline is up.
func (c *otelcol) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if dialable(c.GRPCAddr) && dialable(c.HTTPAddr) {
			return nil
		}
		select {
		case <-c.done:
			return fmt.Errorf("collector exited before it was ready: %v", c.waitErr)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("collector not listening on %s and %s after %v", c.GRPCAddr, c.HTTPAddr, timeout)
		}
	}
}

func dialable(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// freeAddrs returns n loopback addresses whose ports the kernel just gave
// out and that are free again (listen on :0, close).
func freeAddrs(n int) ([]string, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var addrs []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// fileSink is a collector whose OTLP receivers write everything to the file
// exporter, one file per signal, as OTLP JSON lines.
type fileSink struct {
	*otelcol
	dir string
}

// startFileSink starts bin as a sink: otlp (gRPC and HTTP) → file.
func startFileSink(t *testing.T, bin string) *fileSink {
	t.Helper()
	dir := t.TempDir()
	s := &fileSink{dir: dir}
	s.otelcol = startOtelcol(t, bin, func(grpcAddr, httpAddr string) ([]string, []string) {
		conf := filepath.Join(dir, "collector.yaml")
		if err := os.WriteFile(conf, []byte(sinkConfig(dir, grpcAddr, httpAddr)), 0o644); err != nil {
			t.Fatal(err)
		}
		return []string{"--config=file:" + conf}, nil
	})
	return s
}

func sinkConfig(dir, grpcAddr, httpAddr string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: %q\n      http:\n        endpoint: %q\n", grpcAddr, httpAddr)
	b.WriteString("exporters:\n")
	for _, sig := range []string{"traces", "metrics", "logs"} {
		fmt.Fprintf(&b, "  file/%s:\n    path: %q\n    flush_interval: 50ms\n", sig, filepath.Join(dir, sig+".jsonl"))
	}
	b.WriteString("service:\n  pipelines:\n")
	for _, sig := range []string{"traces", "metrics", "logs"} {
		fmt.Fprintf(&b, "    %s:\n      receivers: [otlp]\n      exporters: [file/%s]\n", sig, sig)
	}
	return b.String()
}

// received is everything the sink has written so far, record by record,
// each with its resource's attributes.
type received struct {
	spans   []gotSpan
	metrics []gotMetric
	logs    []gotLog
}

type gotSpan struct {
	res  pcommon.Map
	span ptrace.Span
}

type gotMetric struct {
	res    pcommon.Map
	metric pmetric.Metric
}

type gotLog struct {
	res pcommon.Map
	rec plog.LogRecord
}

// read parses the sink's files. Only whole lines count: the exporter may be
// writing the last one.
func (s *fileSink) read() (*received, error) {
	r := &received{}
	err := eachLine(filepath.Join(s.dir, "traces.jsonl"), func(line []byte) error {
		td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(line)
		if err != nil {
			return err
		}
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, sp := range ss.Spans().All() {
					r.spans = append(r.spans, gotSpan{rs.Resource().Attributes(), sp})
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachLine(filepath.Join(s.dir, "metrics.jsonl"), func(line []byte) error {
		md, err := (&pmetric.JSONUnmarshaler{}).UnmarshalMetrics(line)
		if err != nil {
			return err
		}
		for _, rm := range md.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					r.metrics = append(r.metrics, gotMetric{rm.Resource().Attributes(), m})
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachLine(filepath.Join(s.dir, "logs.jsonl"), func(line []byte) error {
		ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(line)
		if err != nil {
			return err
		}
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					r.logs = append(r.logs, gotLog{rl.Resource().Attributes(), lr})
				}
			}
		}
		return nil
	})
	return r, err
}

// eachLine calls f with every complete line of path; a missing file has none.
func eachLine(path string, f func([]byte) error) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1]
	} else {
		return nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := f(sc.Bytes()); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
	}
	return sc.Err()
}

// waitFor reads the sink until done says everything expected has arrived,
// and returns that reading; at the deadline it fails the test with what
// done last reported missing.
func (s *fileSink) waitFor(t *testing.T, timeout time.Duration, done func(*received) string) *received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	missing := "nothing read yet"
	for {
		r, err := s.read()
		if err != nil {
			t.Fatalf("read the collector's output: %v", err)
		}
		if missing = done(r); missing == "" {
			return r
		}
		select {
		case <-ctx.Done():
			t.Fatalf("after %v the collector has not received %s (spans=%d metrics=%d logs=%d)",
				timeout, missing, len(r.spans), len(r.metrics), len(r.logs))
		case <-tick.C:
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for a process's output and a reader.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
