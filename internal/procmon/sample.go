package procmon

import (
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Sample is the state of the process tree at one pass. CPU times and I/O
// bytes are cumulative since the root started (what the tree used before
// the Sampler was created included) and never decrease from one sample of
// a Sampler to the next; the other figures are gauges of the moment.
type Sample struct {
	Time time.Time
	// Interval is the time since the previous pass of the same Sampler; it
	// is zero on the first pass, which has no rates (CPUPercent and
	// HostCPUPercent are zero and Metrics leaves them out).
	Interval time.Duration

	// Processes counts the tree's members, zombies included (a root sampled
	// between its exit and its reaping counts as one). Zero once the root
	// has been reaped and no member is left.
	Processes int
	Threads   int
	OpenFDs   int
	RSS       uint64 // bytes, the sum of the members' resident sets
	Virtual   uint64 // bytes, the sum of the members' virtual sizes
	// LargestPeakRSS is the largest peak resident set (VmHWM: the most the
	// process held at any moment since it started or exec'd, sampled or
	// not) of a single member, in bytes.
	LargestPeakRSS uint64

	CPUUser    time.Duration // cumulative, reaped children included
	CPUSystem  time.Duration // cumulative, reaped children included
	CPUPercent float64       // CPU used in Interval, 100 = one core
	ReadBytes  uint64        // cumulative bytes read from storage
	WriteBytes uint64        // cumulative bytes written to storage

	HostCPUPercent  float64 // host CPU busy in Interval, 100 = all cores
	HostMemoryUsed  uint64  // bytes: MemTotal - MemAvailable
	HostMemoryTotal uint64  // bytes

	// Unreadable counts members whose /proc/<pid>/io or fd directory could
	// not be read (another user's setuid program, for instance); their I/O
	// and open files are missing from this sample.
	Unreadable int
}

// Summary aggregates the samples of a run: the resource summary of the run
// span. The zero value is an empty summary; Add folds one sample in.
//
// PeakRSS, PeakThreads and PeakProcesses are the largest values of the
// samples' RSS, Threads and Processes: the maxima of the series
// process.memory.usage, process.threads and process.count. They are what
// the samples saw, so a peak between two samples is missed; LargestPeakRSS
// is not, for a process that a sample saw alive after its own peak.
type Summary struct {
	Samples        int
	PeakRSS        uint64 // bytes
	LargestPeakRSS uint64 // bytes, the largest of the samples' LargestPeakRSS
	PeakThreads    int
	PeakProcesses  int
	CPUUser        time.Duration // of the last sample
	CPUSystem      time.Duration // of the last sample
	ReadBytes      uint64        // of the last sample
	WriteBytes     uint64        // of the last sample
}

// Add folds s into the summary.
func (sum *Summary) Add(s Sample) {
	sum.Samples++
	sum.PeakRSS = max(sum.PeakRSS, s.RSS)
	sum.LargestPeakRSS = max(sum.LargestPeakRSS, s.LargestPeakRSS)
	sum.PeakThreads = max(sum.PeakThreads, s.Threads)
	sum.PeakProcesses = max(sum.PeakProcesses, s.Processes)
	sum.CPUUser = max(sum.CPUUser, s.CPUUser)
	sum.CPUSystem = max(sum.CPUSystem, s.CPUSystem)
	sum.ReadBytes = max(sum.ReadBytes, s.ReadBytes)
	sum.WriteBytes = max(sum.WriteBytes, s.WriteBytes)
}

// Metric names. Those of the Graphsignal SDK are kept as they are
// (process.cpu.usage, process.memory.usage, process.memory.virtual,
// host.memory.usage); the others extend them in the same style.
const (
	MetricCPUUsage        = "process.cpu.usage"        // gauge, %, 100 = one core
	MetricCPUUserTime     = "process.cpu.user_time"    // counter, s
	MetricCPUSystemTime   = "process.cpu.system_time"  // counter, s
	MetricMemoryUsage     = "process.memory.usage"     // gauge, By (RSS)
	MetricMemoryVirtual   = "process.memory.virtual"   // gauge, By
	MetricThreads         = "process.threads"          // gauge, {count}
	MetricOpenFDs         = "process.open_fds"         // gauge, {count}
	MetricProcessCount    = "process.count"            // gauge, {count}
	MetricDiskReadBytes   = "process.disk.read_bytes"  // counter, By
	MetricDiskWriteBytes  = "process.disk.write_bytes" // counter, By
	MetricHostCPUUsage    = "host.cpu.usage"           // gauge, %, 100 = all cores
	MetricHostMemoryUsage = "host.memory.usage"        // gauge, By
	MetricHostMemoryTotal = "host.memory.total"        // gauge, By
)

// Metrics converts s into metric points of the run's trace, all at s.Time
// and without tags (the caller adds the run's). The CPU percentages are left
// out of a first sample (Interval zero), which has no rate.
func (s Sample) Metrics(trace telemetry.TraceID) []telemetry.Metric {
	out := make([]telemetry.Metric, 0, 13)
	add := func(name string, kind telemetry.MetricKind, unit string, v float64) {
		out = append(out, telemetry.Metric{TraceID: trace, Name: name, Kind: kind, Unit: unit, Time: s.Time, Value: v})
	}
	if s.Interval > 0 {
		add(MetricCPUUsage, telemetry.Gauge, telemetry.UnitPercent, s.CPUPercent)
	}
	add(MetricCPUUserTime, telemetry.Counter, telemetry.UnitSeconds, s.CPUUser.Seconds())
	add(MetricCPUSystemTime, telemetry.Counter, telemetry.UnitSeconds, s.CPUSystem.Seconds())
	add(MetricMemoryUsage, telemetry.Gauge, telemetry.UnitBytes, float64(s.RSS))
	add(MetricMemoryVirtual, telemetry.Gauge, telemetry.UnitBytes, float64(s.Virtual))
	add(MetricThreads, telemetry.Gauge, telemetry.UnitCount, float64(s.Threads))
	add(MetricOpenFDs, telemetry.Gauge, telemetry.UnitCount, float64(s.OpenFDs))
	add(MetricProcessCount, telemetry.Gauge, telemetry.UnitCount, float64(s.Processes))
	add(MetricDiskReadBytes, telemetry.Counter, telemetry.UnitBytes, float64(s.ReadBytes))
	add(MetricDiskWriteBytes, telemetry.Counter, telemetry.UnitBytes, float64(s.WriteBytes))
	if s.Interval > 0 {
		add(MetricHostCPUUsage, telemetry.Gauge, telemetry.UnitPercent, s.HostCPUPercent)
	}
	add(MetricHostMemoryUsage, telemetry.Gauge, telemetry.UnitBytes, float64(s.HostMemoryUsed))
	add(MetricHostMemoryTotal, telemetry.Gauge, telemetry.UnitBytes, float64(s.HostMemoryTotal))
	return out
}
