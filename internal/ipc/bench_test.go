package ipc

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// spanLine is a typical line from an SDK: ids, times, two tags, one usage
// counter; about 250 bytes.
func spanLine(i int) []byte {
	return fmt.Appendf(nil, `{"type":"span","name":"generate","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736",`+
		`"span_id":"%016x","parent_span_id":"00f067aa0ba902b7","start_ns":1700000000000000000,"end_ns":1700000000250000000,`+
		`"tags":{"model_type":"chat","user_id":"u-1"},"usage":[{"name":"token_count","value":12}]}`+"\n", i+1)
}

func BenchmarkDecodeLine(b *testing.B) {
	line := bytes.TrimSpace(spanLine(1))
	rc := testRC()
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := DecodeLine(line, rc, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// countingConsumer counts records; spin makes it cost that long per record.
type countingConsumer struct {
	n    atomic.Uint64
	spin time.Duration
}

func (c *countingConsumer) Consume(b telemetry.Batch) {
	if c.spin > 0 {
		time.Sleep(time.Duration(b.Len()) * c.spin)
	}
	c.n.Add(uint64(b.Len()))
}

// blast has clients connections write total span lines as fast as they can,
// in writes of linesPerWrite lines, and returns when all are written.
func blast(b *testing.B, srv *Server, clients, total int) {
	const linesPerWrite = 256
	var chunk []byte
	for i := range linesPerWrite {
		chunk = append(chunk, spanLine(i)...)
	}
	var wg sync.WaitGroup
	per := total / clients
	for w := range clients {
		n := per
		if w == 0 {
			n += total - per*clients
		}
		wg.Go(func() {
			c, err := net.Dial("unix", srv.Addr())
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close()
			for n > 0 {
				k := min(n, linesPerWrite)
				if _, err := c.Write(chunk[:k*len(chunk)/linesPerWrite]); err != nil {
					b.Error(err)
					return
				}
				n -= k
			}
		})
	}
	wg.Wait()
}

// BenchmarkIntake8Clients measures sustained spans/s through the socket
// with 8 concurrent clients and a consumer that keeps up; it fails on any
// loss.
func BenchmarkIntake8Clients(b *testing.B) {
	cons := &countingConsumer{}
	srv, _ := startServer(b, Config{Consumer: cons})
	total := max(b.N, 8)
	b.ResetTimer()
	cpu0 := cpuTime(b)
	start := time.Now()
	blast(b, srv, 8, total)
	settle(b, srv)
	elapsed := time.Since(start)
	cpu := cpuTime(b) - cpu0
	b.StopTimer()
	st := srv.Stats()
	if got := cons.n.Load(); got != uint64(total) || st.Dropped != 0 || st.BadTotal() != 0 {
		b.Fatalf("sent %d, consumed %d, dropped %d, bad %d: want no loss", total, got, st.Dropped, st.BadTotal())
	}
	b.ReportMetric(float64(total)/elapsed.Seconds(), "spans/s")
	// CPU per span (server and clients together) is what a shared machine
	// cannot distort: 2 cores / cpu-ns/span is the rate an idle 2-core
	// machine sustains.
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(total), "cpu-ns/span")
}

// cpuTime returns the process's user+system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIntakeFlood is the 10× flood: 8 clients send at full speed to a
// consumer that costs 40 µs per record, so it takes at most 25,000
// records/s, a tenth of the 250,000 spans/s target. Everything is either
// consumed or counted as dropped, and the heap stays bounded
// (peak-heap-MiB, sampled every 10 ms).
func BenchmarkIntakeFlood(b *testing.B) {
	cons := &countingConsumer{spin: 40 * time.Microsecond}
	srv, _ := startServer(b, Config{Consumer: cons})
	total := max(b.N, 8)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	b.ResetTimer()
	start := time.Now()
	blast(b, srv, 8, total)
	sent := time.Since(start)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	st := srv.Stats()
	if got := cons.n.Load() + st.Dropped; got != uint64(total) {
		b.Fatalf("consumed %d + dropped %d != sent %d", cons.n.Load(), st.Dropped, total)
	}
	b.ReportMetric(float64(total)/sent.Seconds(), "offered-spans/s")
	b.ReportMetric(float64(st.Dropped)/float64(total)*100, "%dropped")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
}

// BenchmarkLifecycle measures what a run spends on the intake when the
// child never connects: Bind before the child starts, Serve after, and
// Shutdown at the end (the socket directory in the default place).
func BenchmarkLifecycle(b *testing.B) {
	for _, bb := range []struct {
		name  string
		serve bool
	}{{"bind-shutdown", false}, {"bind-serve-shutdown", true}} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				srv, err := Bind(context.Background(), Config{Consumer: ConsumerFunc(func(telemetry.Batch) {})})
				if err != nil {
					b.Fatal(err)
				}
				if bb.serve {
					srv.Serve()
				}
				if err := srv.Shutdown(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
