package spool

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// samplerSeries are the series the process sampler records per pass
// (internal/procmon), with their kinds and units.
var samplerSeries = []struct {
	name string
	kind telemetry.MetricKind
	unit string
}{
	{"process.cpu.usage", telemetry.Gauge, "%"}, {"process.cpu.user_time", telemetry.Counter, "s"},
	{"process.cpu.system_time", telemetry.Counter, "s"}, {"process.memory.usage", telemetry.Gauge, "By"},
	{"process.memory.virtual", telemetry.Gauge, "By"}, {"process.threads", telemetry.Gauge, "{count}"},
	{"process.open_fds", telemetry.Gauge, "{count}"}, {"process.count", telemetry.Gauge, "{count}"},
	{"process.disk.read_bytes", telemetry.Counter, "By"}, {"process.disk.write_bytes", telemetry.Counter, "By"},
	{"host.cpu.usage", telemetry.Gauge, "%"}, {"host.memory.usage", telemetry.Gauge, "By"},
	{"host.memory.total", telemetry.Gauge, "By"},
}

// BenchmarkLongRunDisk simulates a run of LONGRUN_DAYS days (default 1)
// sampled every LONGRUN_INTERVAL (default 1s), in compressed time: each
// sample is appended to the run's journal through the journal API at once,
// the importer runs every simulated minute (reclaiming the journal's
// consumed start) and the store is downsampled every simulated 10 minutes,
// as a run's background Indexer does. At the end of each simulated day it
// reports the disk used (allocated blocks) by the journal and by the
// database with its WAL. LONGRUN_PLAIN=1 turns off reclaiming and
// downsampling, for comparison. bench/longrun.sh runs it.
func BenchmarkLongRunDisk(b *testing.B) {
	days := envInt("LONGRUN_DAYS", 1)
	interval := time.Second
	if v, err := time.ParseDuration(os.Getenv("LONGRUN_INTERVAL")); err == nil && v > 0 {
		interval = v
	}
	plain := os.Getenv("LONGRUN_PLAIN") == "1"
	for b.Loop() {
		longRun(b, days, interval, plain)
	}
}

func longRun(b *testing.B, days int, interval time.Duration, plain bool) {
	ctx := context.Background()
	data := b.TempDir()
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	now := start
	sp := Open(data, WithClock(func() time.Time { return now }))
	if plain {
		sp.reclaimStep = math.MaxInt64
	}
	run := telemetry.Span{TraceID: telemetry.NewTraceID(), SpanID: telemetry.NewSpanID(), Name: "train", Start: start,
		Tags: telemetry.Tags{telemetry.TagSessionID: "long"}, Attributes: map[string]any{telemetry.AttrSpanKind: telemetry.SpanKindRun}}
	name := JournalName(start, run.SpanID)
	w, err := journal.Create(sp.JournalDir(), name, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	if err := w.Append(telemetry.Batch{Spans: []telemetry.Span{run}}); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(ctx, data, store.WithClock(func() time.Time { return now }))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	perDay := int(24 * time.Hour / interval)
	importEvery := max(int(time.Minute/interval), 1)
	downEvery := max(int(downsampleEvery/interval), 1)
	var refused int
	b.Logf("interval %v, plain %v", interval, plain)
	b.Logf("%4s %12s %12s %12s %12s", "day", "journal MB", "db+wal MB", "total MB", "journal size")
	for day := 1; day <= days; day++ {
		dayStart := time.Now()
		for i := range perDay {
			seq := (day-1)*perDay + i
			now = start.Add(time.Duration(seq) * interval)
			var batch telemetry.Batch
			for k, s := range samplerSeries {
				batch.Metrics = append(batch.Metrics, telemetry.Metric{TraceID: run.TraceID, Name: s.name, Kind: s.kind,
					Unit: s.unit, Time: now, Value: float64(seq%1000) * float64(k+1)})
			}
			if err := w.Append(batch); err != nil {
				refused++
			}
			if seq%importEvery == 0 {
				if _, err := sp.ImportAll(ctx, st); err != nil {
					b.Fatal(err)
				}
			}
			if !plain && seq%downEvery == 0 {
				if _, err := st.Downsample(ctx, now, store.DefaultTiers); err != nil {
					b.Fatal(err)
				}
			}
		}
		if _, err := sp.ImportAll(ctx, st); err != nil {
			b.Fatal(err)
		}
		jb, jsize := allocated(b, sp.JournalDir())
		db, _ := allocated(b, data)
		b.Logf("%4d %12.1f %12.1f %12.1f %12.1f   (%v, %d batches refused so far)", day, mb(jb), mb(db), mb(jb+db), mb(jsize),
			time.Since(dayStart).Round(time.Second), refused)
		b.ReportMetric(mb(jb+db), fmt.Sprintf("MB-day%d", day))
	}
	b.ReportMetric(float64(refused), "refused")
}

// allocated returns the bytes allocated on disk and the sizes of the
// regular files directly in dir.
func allocated(b *testing.B, dir string) (blocks, size int64) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		blocks += fi.Sys().(*syscall.Stat_t).Blocks * 512
		size += fi.Size()
	}
	return blocks, size
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
