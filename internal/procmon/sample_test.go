package procmon

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestSampleMetrics(t *testing.T) {
	trace := telemetry.NewTraceID()
	at := time.Unix(1_700_000_000, 0)
	x := Sample{
		Time: at, Interval: time.Second, Processes: 3, Threads: 7, OpenFDs: 12, RSS: 1 << 20, Virtual: 4 << 20,
		CPUUser: 1500 * time.Millisecond, CPUSystem: 250 * time.Millisecond, CPUPercent: 75,
		ReadBytes: 4096, WriteBytes: 8192, HostCPUPercent: 40, HostMemoryUsed: 1 << 30, HostMemoryTotal: 4 << 30,
	}
	m := func(name string, kind telemetry.MetricKind, unit string, v float64) telemetry.Metric {
		return telemetry.Metric{TraceID: trace, Name: name, Kind: kind, Unit: unit, Time: at, Value: v}
	}
	want := []telemetry.Metric{
		m("process.cpu.usage", telemetry.Gauge, "%", 75),
		m("process.cpu.user_time", telemetry.Counter, "s", 1.5),
		m("process.cpu.system_time", telemetry.Counter, "s", 0.25),
		m("process.memory.usage", telemetry.Gauge, "By", 1<<20),
		m("process.memory.virtual", telemetry.Gauge, "By", 4<<20),
		m("process.threads", telemetry.Gauge, "{count}", 7),
		m("process.open_fds", telemetry.Gauge, "{count}", 12),
		m("process.count", telemetry.Gauge, "{count}", 3),
		m("process.disk.read_bytes", telemetry.Counter, "By", 4096),
		m("process.disk.write_bytes", telemetry.Counter, "By", 8192),
		m("host.cpu.usage", telemetry.Gauge, "%", 40),
		m("host.memory.usage", telemetry.Gauge, "By", 1<<30),
		m("host.memory.total", telemetry.Gauge, "By", 4<<30),
	}
	if diff := cmp.Diff(want, x.Metrics(trace)); diff != "" {
		t.Errorf("Metrics() mismatch (-want +got):\n%s", diff)
	}

	x.Interval = 0 // a first sample has no rates
	got := x.Metrics(trace)
	if diff := cmp.Diff(want[1:10], got[:9]); diff != "" || len(got) != 11 {
		t.Errorf("Metrics() of a first sample: %d points, mismatch (-want +got):\n%s", len(got), diff)
	}
	for _, p := range got {
		if p.Name == MetricCPUUsage || p.Name == MetricHostCPUUsage {
			t.Errorf("Metrics() of a first sample has %s", p.Name)
		}
	}
}

func TestSummary(t *testing.T) {
	var sum Summary
	for _, x := range []Sample{
		{Processes: 2, Threads: 9, RSS: 100, LargestPeakRSS: 400, CPUUser: time.Second, ReadBytes: 5},
		{Processes: 5, Threads: 4, RSS: 300, LargestPeakRSS: 250, CPUUser: 2 * time.Second, CPUSystem: time.Second, ReadBytes: 6, WriteBytes: 7},
		{Processes: 0, Threads: 0, RSS: 0, CPUUser: 2 * time.Second, CPUSystem: time.Second, ReadBytes: 6, WriteBytes: 7},
	} {
		sum.Add(x)
	}
	want := Summary{Samples: 3, PeakRSS: 300, LargestPeakRSS: 400, PeakThreads: 9, PeakProcesses: 5,
		CPUUser: 2 * time.Second, CPUSystem: time.Second, ReadBytes: 6, WriteBytes: 7}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("Summary mismatch (-want +got):\n%s", diff)
	}
}
