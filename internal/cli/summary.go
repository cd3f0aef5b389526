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

// printSummary writes the end-of-run summary on stderr: three lines, then
// one per remote destination saying what it got and what is pending.
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
		fmt.Fprintf(w, "graphsignal: cpu %s user, %s sys · peak memory %s\n",
			report.Duration(o.CPUUser.Round(time.Millisecond)), report.Duration(o.CPUSystem.Round(time.Millisecond)), report.Bytes(int64(o.PeakRSS)))
	}
	where := "recorded to " + cfg.DataDir + " (graphsignal show last)"
	if lost := stats.Dropped.Total() + stats.Failed.Total(); lost > 0 || flushErr != nil {
		where = fmt.Sprintf("%d records not recorded to %s", lost, cfg.DataDir)
	}
	fmt.Fprintf(w, "graphsignal: %d spans from the program · %s\n", childSpans, strings.TrimSpace(where))
	printDelivery(w, dests)
}
