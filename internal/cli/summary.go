package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/anomaly"
	"github.com/graphsignal/graphsignal/internal/env"
	"github.com/graphsignal/graphsignal/internal/launcher"
	"github.com/graphsignal/graphsignal/internal/pipeline"
	"github.com/graphsignal/graphsignal/internal/pricing"
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
	// intakeDropped counts records the intake dropped under overload,
	// before they reached the pipeline (stats counts those after).
	intakeDropped uint64
	dests         []destinationResult
	digest        rundigest.Summary
	findings      runFindings
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
	if lost := s.intakeDropped + s.stats.Dropped.Total() + s.stats.Failed.Total(); lost > 0 || s.flushErr != nil {
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
	if c := s.cost(); c != "" {
		fmt.Fprintf(w, "graphsignal: cost: %s\n", c)
	}
	for i, a := range s.anomalies() {
		if i == maxAnomalyLines {
			fmt.Fprintf(w, "graphsignal: anomaly: %d more (graphsignal show last)\n", len(s.findings.anomalies)-i)
			break
		}
		fmt.Fprintf(w, "graphsignal: anomaly: %s\n", a)
	}
	printDelivery(w, s.dests)
}

// maxAnomalyLines bounds the anomalies the summary and the notification
// list.
const maxAnomalyLines = 5

// cost says what the run's tokens cost: "$0.0123"; "$0.0123+ (1200 tokens
// of models without a known price)" or "price unknown (...)" when some or
// all have none; "" when the program reported no tokens.
func (s *runSummary) cost() string {
	c := &s.findings.cost
	if c.Tokens.Total() == 0 {
		return ""
	}
	text := report.CostText(c)
	if c.UnpricedTokens > 0 {
		text += " (" + report.Number(c.UnpricedTokens) + " tokens of models without a known price)"
	}
	return text
}

// anomalies says each of the run's anomalies: "slow span: llm 4s (4.0× its
// median 1s)", redacted.
func (s *runSummary) anomalies() []string {
	out := make([]string, 0, len(s.findings.anomalies))
	for i := range s.findings.anomalies {
		a := &s.findings.anomalies[i]
		out = append(out, report.AnomalyKind(a)+": "+s.redact(oneLine(report.AnomalyReason(a))))
	}
	return out
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
	if c := s.cost(); c != "" {
		row("Cost", c)
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
	if len(s.findings.anomalies) > 0 {
		b.WriteString("\n**Anomalies**\n\n| kind | what |\n|---|---|\n")
		for i := range s.findings.anomalies {
			a := &s.findings.anomalies[i]
			fmt.Fprintf(&b, "| %s | %s |\n", mdText(report.AnomalyKind(a)), mdText(s.redact(oneLine(report.AnomalyReason(a)))))
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

// runFindings are what a run derives at its end from its records and its
// outcome (docs/ci.md, "Costs and anomalies"): its token usage priced, and
// its anomalies by the rules of package anomaly. The summary, the
// notification and the final run span (so the uploads) carry them.
type runFindings struct {
	// cost totals the run's tokens and their price.
	cost      pricing.Row
	anomalies []anomaly.Anomaly
	// spans counts the program's spans the digest saw, errorSpans those
	// that ended in error; memoryLimit is the run's cgroup memory limit (0
	// for none): facts the final run span records for later runs and
	// `graphsignal show` to judge with.
	spans, errorSpans int
	memoryLimit       uint64
}

// findRun derives the findings of the run that ended with o from what the
// digest saw and the run's cgroup memory limit (0 for none). The run is
// not judged against its deployment's earlier runs (duration, error rate,
// cost): they are in the store, which the run does not read.
func findRun(o *recorder.Outcome, d *rundigest.Summary, prices *pricing.Table, memoryLimit uint64) runFindings {
	lines := make([]pricing.Line, 0, len(d.Models))
	for _, m := range d.Models {
		lines = append(lines, pricing.Line{Group: m.Model, Model: m.Model, Spans: m.Spans,
			Tokens: pricing.Tokens{Input: m.Input, Output: m.Output, CacheRead: m.CacheRead, CacheCreation: m.CacheCreation}})
	}
	f := runFindings{cost: prices.Summarize(lines, true).Total, spans: d.Spans, errorSpans: d.ErrorSpans, memoryLimit: memoryLimit}
	span := &o.Span
	run := anomaly.Run{Name: span.Name, RunID: span.Tags[telemetry.TagRunID], TraceID: span.TraceID, SpanID: span.SpanID,
		GPULost: o.Kind == telemetry.ErrorKindGPU, ErrorMessage: span.StatusMessage, XIDs: int64(len(o.GPU.XIDs)),
		PeakRSS: o.Resources.PeakRSS, MemoryLimit: memoryLimit}
	for _, g := range o.GPU.Devices {
		run.GPUs = append(run.GPUs, anomaly.GPU{Name: g.Short(), MemoryPeak: g.MemoryPeak, MemoryTotal: g.MemoryTotal})
	}
	f.anomalies = append(anomaly.ForRun(&run), d.Anomalies...)
	for i := range f.anomalies {
		if f.anomalies[i].RunID == "" {
			f.anomalies[i].RunID = run.RunID
		}
	}
	return f
}

// annotate adds the findings to the final run span; redact removes the
// run's secrets from the reasons (they quote the program's span names).
func (f *runFindings) annotate(span *telemetry.Span, redact func(string) string) {
	if f.cost.Priced() {
		span.Attributes[telemetry.AttrCostUSD] = f.cost.Cost
	}
	span.Attributes[telemetry.AttrSpanCount] = int64(f.spans)
	span.Attributes[telemetry.AttrErrorSpanCount] = int64(f.errorSpans)
	if f.memoryLimit > 0 {
		span.Attributes[telemetry.AttrMemoryLimit] = int64(f.memoryLimit) // under 2^62 (procmon)
	}
	span.Attributes[telemetry.AttrAnomalyCount] = int64(len(f.anomalies))
	for i := range f.anomalies {
		a := &f.anomalies[i]
		attrs := map[string]any{telemetry.AttrAnomalyKind: a.Kind, telemetry.AttrAnomalyReason: redact(report.AnomalyReason(a))}
		if a.Value != nil {
			attrs[telemetry.AttrAnomalyValue] = *a.Value
		}
		if a.Baseline != nil {
			attrs[telemetry.AttrAnomalyBaseline] = *a.Baseline
		}
		if !a.TraceID.IsZero() {
			attrs[telemetry.AttrAnomalyTraceID] = a.TraceID.String()
		}
		if !a.SpanID.IsZero() {
			attrs[telemetry.AttrAnomalySpanID] = a.SpanID.String()
		}
		span.Events = append(span.Events, telemetry.Event{Name: telemetry.EventAnomaly, Time: span.End, Attributes: attrs})
	}
}

// annotateRun is the recorder's Config.Annotate for the run of opts: it
// derives the run's findings from the digest and opts.memoryLimit, keeps
// them for the summary and the notification, and adds them to the final
// run span. The prices are the configured ones (validated with the
// configuration).
func (opts *runOptions) annotateRun(redact func(string) string) func(*recorder.Outcome) {
	return func(o *recorder.Outcome) {
		prices, err := pricing.Builtin().With(opts.config.Prices)
		if err != nil {
			prices = pricing.Builtin()
		}
		d := opts.digest.Summary()
		opts.findings = findRun(o, &d, prices, opts.memoryLimit)
		opts.findings.annotate(&o.Span, redact)
	}
}

// digestWait bounds how long the final run span waits for the digest to
// take the program's last records (docs/ci.md, "Costs and anomalies").
const digestWait = time.Second

// awaitDigest waits, within ctx and digestWait, until every exporter of
// pipe (the digest among them) has taken the records enqueued so far:
// once the intakes are shut, all of the program's. Past the bound the
// findings are those of what the digest has taken.
func awaitDigest(ctx context.Context, pipe *pipeline.Pipeline) {
	ctx, cancel := context.WithTimeout(ctx, digestWait)
	defer cancel()
	_ = pipe.Flush(ctx)
}
