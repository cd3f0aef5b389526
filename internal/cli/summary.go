package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/launcher"
	"github.com/graphsignal/graphsignal/internal/pipeline"
	"github.com/graphsignal/graphsignal/internal/recorder"
	"github.com/graphsignal/graphsignal/internal/report"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// printSummary writes the end-of-run summary on stderr: three lines, one
// per GPU sampled, then one per remote destination saying what it got and
// what is pending.
func printSummary(w io.Writer, cfg *Config, o recorder.Outcome, exit *launcher.Exit, stats pipeline.Stats, flushErr error, childSpans int, dests []destinationResult) {
	span := o.Span
	status := "ok"
	switch {
	case o.Kind == telemetry.ErrorKindExecFailure:
		status = "cannot run (exec_failure)"
	case exit != nil && o.Kind != "":
		status = fmt.Sprintf("%s (%s)", span.StatusMessage, o.Kind)
	}
	fmt.Fprintf(w, "graphsignal: session %s · %s · %s\n", span.Tags[telemetry.TagSessionID], status, report.Duration(span.Duration()))
	if exit != nil {
		fmt.Fprintf(w, "graphsignal: cpu %s user, %s sys · %s\n",
			report.Duration(o.CPUUser.Round(time.Millisecond)), report.Duration(o.CPUSystem.Round(time.Millisecond)), memorySummary(o.Resources))
	}
	for _, d := range o.GPU.Devices {
		fmt.Fprintf(w, "graphsignal: %s · %s\n", d.Short(), report.GPULine(d))
	}
	where := "recorded to " + cfg.DataDir + " (graphsignal show last)"
	if lost := stats.Dropped.Total() + stats.Failed.Total(); lost > 0 || flushErr != nil {
		where = fmt.Sprintf("%d records not recorded to %s", lost, cfg.DataDir)
	}
	fmt.Fprintf(w, "graphsignal: %s from the program · %s\n", plural(childSpans, "span", "spans"), strings.TrimSpace(where))
	printDelivery(w, dests)
}

// memorySummary says what the samples saw of the process tree's memory and
// processes (docs/metrics.md): the peak of the tree's total, the largest
// peak of one process, and the most processes at once.
func memorySummary(res recorder.Resources) string {
	switch {
	case !res.Sampled:
		return "memory not sampled"
	case res.PeakRSS == 0 && res.LargestRSS == 0:
		return "memory not seen (the program ended before the first sample)"
	}
	s := "peak memory " + report.Bytes(int64(res.PeakRSS))
	if res.LargestRSS > 0 {
		s += " (largest process " + report.Bytes(int64(res.LargestRSS)) + ")"
	}
	return s + " · " + plural(res.PeakProcesses, "process", "processes")
}

// plural returns "1 process", "2 processes".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
