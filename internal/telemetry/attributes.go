package telemetry

// Attribute keys of the run span (docs/json.md). Names follow OpenTelemetry's
// semantic conventions where one exists.
const (
	// AttrSpanKind marks graphsignal's own spans; its value for a run span is
	// SpanKindRun. Consumers find runs by this attribute.
	AttrSpanKind = "graphsignal.span.kind"
	SpanKindRun  = "run"

	AttrExecutableName = "process.executable.name"    // string
	AttrCommandArgs    = "process.command_args"       // []string, secrets redacted
	AttrPID            = "process.pid"                // int64
	AttrExitCode       = "process.exit.code"          // int64; 128+N when killed by signal N
	AttrExitSignal     = "process.exit.signal"        // string, "SIGKILL"; absent when not signalled
	AttrCoreDumped     = "process.exit.core_dumped"   // bool
	AttrErrorKind      = "graphsignal.error.kind"     // string, one of the ErrorKind constants
	AttrStderrTail     = "graphsignal.stderr.tail"    // string, last lines of the child's stderr
	AttrStderrCapture  = "graphsignal.stderr.capture" // string: file, pipe, pty, terminal or none
	AttrHostName       = "host.name"                  // string
	AttrWorkingDir     = "process.working_directory"

	// Resource summary of the whole process tree over the run.
	AttrCPUUserTime = "process.cpu.user_time"   // float64 seconds
	AttrCPUSysTime  = "process.cpu.system_time" // float64 seconds
	AttrPeakRSS     = "process.memory.peak_rss" // int64 bytes
	AttrReadBytes   = "process.io.read_bytes"   // int64 bytes
	AttrWriteBytes  = "process.io.write_bytes"  // int64 bytes
	AttrPeakThreads = "process.threads.peak"    // int64
	AttrPeakProcs   = "process.count.peak"      // int64

	// AttrLargestRSS is the largest peak resident set of a single process
	// of the tree, int64 bytes; AttrPeakRSS is the sampled peak of the
	// tree's total (docs/metrics.md).
	AttrLargestRSS = "process.memory.largest_peak_rss"

	// AttrMemoryLimit is the memory limit of the cgroup the program ran in,
	// int64 bytes, as read at the run's start (procmon.OOMCounter's
	// MemoryLimit); absent when none applies. OpenTelemetry has such limits
	// only as metrics (k8s.container.memory.limit.current), hence the
	// graphsignal. name.
	AttrMemoryLimit = "graphsignal.memory.limit"
)

// The final run span's attributes and events that carry the run's costs
// and anomalies upstream (docs/upload.md, "Costs and anomalies").
const (
	// AttrCostUSD is the run's token cost in USD (float64), set when some
	// of its tokens have a price.
	AttrCostUSD = "graphsignal.cost.usd"
	// AttrSpanCount counts the program's spans (run spans excepted) and
	// AttrErrorSpanCount those that ended in error, as the run saw them
	// (int64 each): with AttrCostUSD, what `graphsignal show` compares
	// with the deployment's earlier runs (docs/json.md, "Anomaly").
	AttrSpanCount      = "graphsignal.span.count"
	AttrErrorSpanCount = "graphsignal.span.error_count"
	// AttrAnomalyCount counts the run's anomalies (int64).
	AttrAnomalyCount = "graphsignal.anomaly.count"
	// EventAnomaly is one anomaly, at the run's end, with the attributes
	// below (value and baseline as float64, where the kind has them; the
	// trace and span in hex, where the anomaly has one).
	EventAnomaly        = "graphsignal.anomaly"
	AttrAnomalyKind     = "graphsignal.anomaly.kind"
	AttrAnomalyReason   = "graphsignal.anomaly.reason"
	AttrAnomalyValue    = "graphsignal.anomaly.value"
	AttrAnomalyBaseline = "graphsignal.anomaly.baseline"
	AttrAnomalyTraceID  = "graphsignal.anomaly.trace_id"
	AttrAnomalySpanID   = "graphsignal.anomaly.span_id"
)

// Error kinds of a failed run, the value of AttrErrorKind and the Type of the
// run span's exception.
const (
	ErrorKindExitCode    = "exit_code"    // exited with a non-zero code
	ErrorKindSignal      = "signal"       // killed by a signal
	ErrorKindOOMKill     = "oom_kill"     // killed by the kernel's OOM killer
	ErrorKindExecFailure = "exec_failure" // could not be started
	ErrorKindCoreDump    = "core_dump"    // killed by a signal and dumped core
	// ErrorKindGPU: a GPU was lost during the run (an XID such as 79,
	// "fallen off the bus"), whatever the program's exit status.
	ErrorKindGPU = "gpu_lost"
	// ErrorKindRecorderLost: graphsignal itself died (SIGKILL, disk full at
	// exit) before it recorded how the program ended; the outcome is
	// unknown and the run's end is its last record (docs/store.md).
	ErrorKindRecorderLost = "recorder_lost"
)

// RecorderLostMessage is the status message of a run ended because
// graphsignal died before it recorded the end (ErrorKindRecorderLost).
const RecorderLostMessage = "graphsignal was killed; the program's exit status is unknown"
