package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/env"
	"github.com/graphsignal/graphsignal/internal/launcher"
	"github.com/graphsignal/graphsignal/internal/pipeline"
	"github.com/graphsignal/graphsignal/internal/recorder"
	"github.com/graphsignal/graphsignal/internal/report"
	"github.com/graphsignal/graphsignal/internal/rundigest"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// The end-of-run summary (docs/ci.md): on stderr when it is a terminal
// (--summary auto) or always; in CI, where stderr is a log, as the same
// block on stderr, except on GitHub Actions, which gets it as Markdown in
// the job's step summary ($GITHUB_STEP_SUMMARY) instead.

// outputs says where a run's summary goes.
type outputs struct {
	stderr      bool
	stepSummary string // the GitHub step summary file to append to, or ""
}

// summaryOutputs decides where the summary goes: --summary never, nowhere;
// always, stderr (and the step summary on GitHub Actions); auto, stderr when
// it is a terminal, else in CI: the step summary on GitHub Actions, stderr
// on other providers. A nested run leaves CI to the enclosing run.
func summaryOutputs(cfg *Config, environ []string, terminal bool) outputs {
	if cfg.Summary == "never" {
		return outputs{}
	}
	var o outputs
	ci := env.DetectCI(environ)
	inCI := ci.Detected() && !isNested(environ)
	if inCI && ci.Provider == env.ProviderGitHub {
		if p, _ := env.Lookup(environ, "GITHUB_STEP_SUMMARY"); p != "" {
			o.stepSummary = p
		}
	}
	switch {
	case cfg.Summary == "always", terminal:
		o.stderr = true
	case inCI && o.stepSummary == "":
		o.stderr = true
	}
	return o
}

// runSummary is what the end-of-run summary says.
type runSummary struct {
	cfg        *Config
	outcome    recorder.Outcome
	exit       *launcher.Exit // nil when the program could not be started
	stats      pipeline.Stats
	flushErr   error
	childSpans int
	dests      []destinationResult
	digest     rundigest.Summary
	// redact removes the run's secrets from what the program said (span
	// names, error messages) before it is printed.
	redact func(string) string
}

// status is the run's outcome in a few words.
func (s *runSummary) status() string {
	switch {
	case s.outcome.Kind == telemetry.ErrorKindExecFailure:
		return "cannot run (exec_failure)"
	case s.exit != nil && s.outcome.Kind != "":
		return fmt.Sprintf("%s (%s)", s.outcome.Span.StatusMessage, s.outcome.Kind)
	}
	return "ok"
}

// where says where the run was recorded, or how much was not.
func (s *runSummary) where() string {
	if lost := s.stats.Dropped.Total() + s.stats.Failed.Total(); lost > 0 || s.flushErr != nil {
		return fmt.Sprintf("%d records not recorded to %s", lost, s.cfg.DataDir)
	}
	return "recorded to " + s.cfg.DataDir + " (graphsignal show last)"
}

// print writes the summary on stderr: the outcome, the resources, one line
// per GPU, the program's records, its slowest spans, errors and tokens when
// it sent any, then one line per remote destination.
func (s *runSummary) print(w io.Writer) {
	span := s.outcome.Span
	fmt.Fprintf(w, "graphsignal: session %s · %s · %s\n", span.Tags[telemetry.TagSessionID], s.status(), report.Duration(span.Duration()))
	if s.exit != nil {
		fmt.Fprintf(w, "graphsignal: cpu %s user, %s sys · %s\n",
			report.Duration(s.outcome.CPUUser.Round(time.Millisecond)), report.Duration(s.outcome.CPUSystem.Round(time.Millisecond)), memorySummary(s.outcome.Resources))
	}
	for _, d := range s.outcome.GPU.Devices {
		fmt.Fprintf(w, "graphsignal: %s · %s\n", d.Short(), report.GPULine(d))
	}
	fmt.Fprintf(w, "graphsignal: %s from the program%s · %s\n", plural(s.childSpans, "span", "spans"), s.spanErrors(), strings.TrimSpace(s.where()))
	if sl := s.slowest(); sl != "" {
		fmt.Fprintf(w, "graphsignal: slowest: %s\n", sl)
	}
	if e := s.errors(3); e != "" {
		fmt.Fprintf(w, "graphsignal: errors: %s\n", e)
	}
	if t := s.tokens(); t != "" {
		fmt.Fprintf(w, "graphsignal: tokens: %s\n", t)
	}
	printDelivery(w, s.dests)
}

func (s *runSummary) spanErrors() string {
	if n := s.digest.ErrorSpans; n > 0 {
		return fmt.Sprintf(" (%d failed)", n)
	}
	return ""
}

// slowest lists the slowest spans: "llm.generate 2.31s (failed), db 1.2s".
func (s *runSummary) slowest() string {
	var parts []string
	for _, sp := range s.digest.Slowest {
		p := s.redact(oneLine(sp.Name)) + " " + report.Duration(sp.Duration)
		if sp.Error {
			p += " (failed)"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// errors lists the n most frequent errors: "2× RateLimitError: 429 · 1× log: disk full".
func (s *runSummary) errors(n int) string {
	var parts []string
	for i, e := range s.digest.Errors {
		if i == n {
			parts = append(parts, fmt.Sprintf("%d more", s.moreErrors(n)))
			break
		}
		parts = append(parts, fmt.Sprintf("%d× %s", e.Count, s.redact(oneLine(errorText(e)))))
	}
	return strings.Join(parts, " · ")
}

// moreErrors counts the errors beyond the first n kinds.
func (s *runSummary) moreErrors(n int) int {
	more := s.digest.OtherErrors
	for _, e := range s.digest.Errors[min(n, len(s.digest.Errors)):] {
		more += e.Count
	}
	return more
}

func errorText(e rundigest.Error) string {
	if e.Message == "" {
		return e.Type
	}
	return e.Type + ": " + e.Message
}

// tokens says the token counts: "12340 input, 2100 output".
func (s *runSummary) tokens() string {
	var parts []string
	for _, k := range []string{telemetry.TokensInput, telemetry.TokensOutput, telemetry.TokensCacheRead, telemetry.TokensCacheCreation, telemetry.TokensOther} {
		if v := s.digest.Tokens[k]; v > 0 {
			parts = append(parts, report.Number(v)+" "+strings.ReplaceAll(k, "_", " "))
		}
	}
	return strings.Join(parts, ", ")
}

// markdown is the summary as GitHub-flavoured Markdown, for the job's step
// summary.
func (s *runSummary) markdown() string {
	var b strings.Builder
	span := s.outcome.Span
	icon := "✅"
	if s.outcome.Kind != "" {
		icon = "❌"
	}
	fmt.Fprintf(&b, "### %s graphsignal: `%s` %s in %s\n\n", icon, mdCode(s.redact(span.Name)), mdText(s.status()), report.Duration(span.Duration()))
	b.WriteString("| | |\n|---|---|\n")
	row := func(k, v string) { fmt.Fprintf(&b, "| %s | %s |\n", k, mdText(v)) }
	row("Session", span.Tags[telemetry.TagSessionID])
	if s.exit != nil {
		row("CPU", fmt.Sprintf("%s user, %s sys", report.Duration(s.outcome.CPUUser.Round(time.Millisecond)), report.Duration(s.outcome.CPUSystem.Round(time.Millisecond))))
		row("Memory", memorySummary(s.outcome.Resources))
	}
	for _, d := range s.outcome.GPU.Devices {
		row(d.Short(), report.GPULine(d))
	}
	row("Spans", fmt.Sprintf("%d from the program%s", s.childSpans, s.spanErrors()))
	if t := s.tokens(); t != "" {
		row("Tokens", t)
	}
	for _, r := range s.dests {
		row("Upload", r.stats.Destination+": "+describeDelivery(r))
	}
	if len(s.digest.Slowest) > 0 {
		b.WriteString("\n**Slowest spans**\n\n| span | duration | trace |\n|---|---:|---|\n")
		for _, sp := range s.digest.Slowest {
			name := s.redact(oneLine(sp.Name))
			if sp.Error {
				name += " (failed)"
			}
			fmt.Fprintf(&b, "| %s | %s | `%s` |\n", mdText(name), report.Duration(sp.Duration), sp.TraceID)
		}
	}
	if len(s.digest.Errors) > 0 {
		b.WriteString("\n**Errors**\n\n| count | error |\n|---:|---|\n")
		for i, e := range s.digest.Errors {
			if i == 10 {
				fmt.Fprintf(&b, "| %d | more |\n", s.moreErrors(10))
				break
			}
			fmt.Fprintf(&b, "| %d | %s |\n", e.Count, mdText(s.redact(oneLine(errorText(e)))))
		}
	}
	b.WriteString("\n")
	return b.String()
}

// maxStepSummary bounds what one run appends to the step summary (GitHub
// takes up to 1 MiB per step).
const maxStepSummary = 64 << 10

// appendStepSummary appends md to the GitHub step summary file at path.
func appendStepSummary(path, md string) error {
	if len(md) > maxStepSummary {
		md = md[:maxStepSummary] + "\n…\n"
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(md)
	return errors.Join(err, f.Close())
}

// oneLine keeps the first line of s.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// mdText escapes what would break a Markdown table cell or start markup.
func mdText(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`)
	return r.Replace(s)
}

// mdCode makes s safe inside a one-backtick code span.
func mdCode(s string) string {
	return strings.NewReplacer("`", "'", "\n", " ", "\r", " ").Replace(s)
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
