package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/graphsignal/graphsignal/internal/env"
	"github.com/graphsignal/graphsignal/internal/launcher"
	"github.com/graphsignal/graphsignal/internal/pipeline"
	"github.com/graphsignal/graphsignal/internal/recorder"
	"github.com/graphsignal/graphsignal/internal/redact"
	"github.com/graphsignal/graphsignal/internal/rundigest"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
	"golang.org/x/term"
)

const runIntro = `Run PROGRAM with ARGS exactly as if it were run directly, and record the run.

Flag parsing stops at PROGRAM ("--" is optional): "graphsignal run python -v x.py"
passes -v to python. PROGRAM is looked up in PATH like execvp does.

The child gets graphsignal's own stdin, stdout and stderr file descriptors,
its environment, working directory, umask, rlimits, process group and session.
graphsignal never reads stdin and never writes stdout (except with --pty, where
it copies between them and the child's terminal).`

const runExitStatus = `Exit status:
  the child's exit code; if the child is killed by signal N, graphsignal kills
  itself with signal N (as PID 1 it exits 128+N instead)
  125  graphsignal's own usage or configuration error; the child did not start
  126  PROGRAM was found but cannot be executed (permission, directory)
  127  PROGRAM was not found (or its #! interpreter was not found)
Telemetry failures never change the exit status.`

// runLong is the help text of `graphsignal run`: the variables come from
// package env, the one list of what graphsignal reads and adds.
func runLong() string {
	var b strings.Builder
	b.WriteString(runIntro)
	b.WriteString("\n\nEnvironment variables read (precedence: flag > environment > config file > default):\n")
	for _, v := range env.ReadVars() {
		fmt.Fprintf(&b, "  %-28s %s\n", v.Name, v.Description)
	}
	fmt.Fprintf(&b, "  %-28s %s\n", env.VarSocket+", "+env.VarTraceID+", "+env.VarParentSpanID, "")
	fmt.Fprintf(&b, "  %-28s %s\n", "", "set by an enclosing graphsignal run: this run joins its trace as a child span")
	b.WriteString("\nEnvironment variables added to the child (they replace inherited ones):\n")
	for _, v := range env.ChildVars() {
		fmt.Fprintf(&b, "  %-28s %s\n", v.Name, v.Description)
	}
	b.WriteString("\n")
	b.WriteString(runExitStatus)
	return b.String()
}

// runOptions are the inputs of `graphsignal run`.
type runOptions struct {
	streams *IOStreams
	environ []string
	config  *Config
	sources map[string]configSource
	args    []string
	signals *launcher.Signals // nil: runRun catches them
	// delivery sends the run to the remote destinations; nil for none.
	delivery *delivery
	// digest summarises the program's records for the end-of-run
	// summaries (one of the pipeline's exporters).
	digest *rundigest.Digest
	// findings are the run's costs and anomalies, set when the final run
	// span is recorded (annotateRun).
	findings runFindings
	// memoryLimit is the run's cgroup memory limit (0 for none), set once
	// the child has exited, before the final run span is recorded.
	memoryLimit uint64
}

// NewCmdRun builds `graphsignal run`. signals, when not nil, are the
// forwarded signals already being caught (launcher.CatchSignals).
func NewCmdRun(streams *IOStreams, environ []string, signals *launcher.Signals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run [flags] [--] PROGRAM [ARGS...]",
		Short: "Run a program and record it",
		Long:  runLong(),
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("run: missing PROGRAM (usage: graphsignal run [flags] [--] PROGRAM [ARGS...])")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			configFlag, _ := cmd.Flags().GetString("config")
			debug, _ := cmd.Flags().GetBool("debug")
			cfg, sources, err := resolveConfig(cmd.Flags(), environ, configFlag, debug)
			if err != nil {
				return err
			}
			opts := &runOptions{streams: streams, environ: environ, config: cfg, sources: sources, args: args, signals: signals}
			return runRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().SetInterspersed(false)
	addConfigFlags(cmd.Flags())
	return cmd
}

// runIdentity is the run's place in a trace: a new trace, or a child span
// of the enclosing graphsignal run.
type runIdentity struct {
	traceID telemetry.TraceID
	spanID  telemetry.SpanID
	parent  telemetry.SpanID
}

func newRunIdentity(environ []string) runIdentity {
	id := runIdentity{spanID: telemetry.NewSpanID()}
	if s, ok := env.Lookup(environ, env.VarTraceID); ok {
		if t, err := telemetry.ParseTraceID(s); err == nil {
			id.traceID = t
			if p, ok := env.Lookup(environ, env.VarParentSpanID); ok {
				id.parent, _ = telemetry.ParseSpanID(p)
			}
		}
	}
	if id.traceID.IsZero() {
		id.traceID = telemetry.NewTraceID()
	}
	return id
}

// runTags returns the run's tags: the user's, plus session_id (user's, CI
// run, or new), deployment (configured, or the program name) and run_id
// (user's, else the run span's id; never an enclosing run's, which a nested
// run records as parent_run_id: env.NestedRunTags), so that `graphsignal
// score --tag run_id=...` can score it.
func runTags(cfg *Config, environ, programArgs []string, id runIdentity) telemetry.Tags {
	tags := env.NestedRunTags(cfg.Tags, environ)
	job := env.DetectJob(environ, programArgs)
	for k, v := range job.Tags() { // the user's tags win
		if _, set := tags[k]; !set {
			tags[k] = v
		}
	}
	tags[telemetry.TagSessionID] = env.SessionID(tags, env.DetectCI(environ), job, func() string { return env.NewSessionID(time.Now()) })
	deployment := cfg.Deployment
	if deployment == "" {
		deployment = tags[telemetry.TagDeployment]
	}
	if deployment == "" {
		deployment = filepath.Base(programArgs[0])
	}
	tags[telemetry.TagDeployment] = deployment
	if tags[telemetry.TagRunID] == "" {
		tags[telemetry.TagRunID] = id.spanID.String()
	}
	return tags
}

// debugSources are the sources --debug prints, with the deployment as the
// run resolved it (runTags) where none was configured.
func debugSources(cfg *Config, sources map[string]configSource, tags telemetry.Tags) map[string]configSource {
	if cfg.Deployment != "" {
		return sources
	}
	out := make(map[string]configSource, len(sources))
	for k, v := range sources {
		out[k] = v
	}
	out["deployment"] = configSource{value: tags[telemetry.TagDeployment], from: "default: the deployment tag, else the program name"}
	return out
}

func runRun(ctx context.Context, opts *runOptions) error {
	cfg := opts.config
	// graphsignal's own messages during the run, left out of the child's
	// stderr tail where the two share a file.
	stderr := launcher.NewOwnStderr(opts.streams.ErrOut)
	// Catching the forwarded signals costs a round trip to the Go
	// runtime's signal thread per signal: start it first (if Main has not),
	// so that it overlaps the rest of the set-up.
	sigs := opts.signals
	if sigs == nil {
		sigs = launcher.CatchSignals()
	}
	id := newRunIdentity(opts.environ)
	tags := runTags(cfg, opts.environ, opts.args, id)
	if cfg.Debug {
		printConfig(stderr, debugSources(cfg, opts.sources, tags))
	}
	// The cgroup OOM-kill counter is located and read in the background,
	// while the intakes start and the child is launched. The child does not
	// wait for it: were it OOM-killed in the fraction of a millisecond
	// before the read, its SIGKILL would be reported as a plain SIGKILL.
	var oom oomWatch
	var oomRead sync.WaitGroup
	oomRead.Go(func() { oom = watchOOM() })

	// The per-run key the child's SDK sends to the intake, unless the child
	// inherits the user's key. Until the run's redactor is built (once the
	// child is on its way), warnings hide the two keys.
	var token string
	if inheritedAPIKey(cfg, opts.environ) == "" {
		token = newLocalToken()
	}
	warn := &warnings{w: stderr, secrets: []string{cfg.APIKey, token}}
	start := time.Now()
	name := spool.JournalName(start, id.spanID)
	opts.delivery = newDelivery(cfg, opts.environ, name, stderr)
	defer opts.delivery.stop()
	limitMemory(opts.environ)
	var counted selfCounters
	opts.digest = rundigest.New()
	pipe := pipeline.New(pipeline.Config{OnError: warn.exporterError, SelfMetrics: counted.metrics(id.traceID, tags)},
		destination(cfg, opts.environ, id, name, opts.delivery), opts.digest)
	in := startIntakes(ctx, cfg, id, tags, token, pipe, stderr)
	counted.in.Store(in)
	add := in.childEnv(opts.environ, routeOTLP(cfg, opts.environ))
	add[env.VarTraceID] = id.traceID.String()
	add[env.VarParentSpanID] = id.spanID.String()
	add[env.VarTraceparent] = env.Traceparent(id.traceID, id.spanID)
	add[env.VarTags] = env.FormatTags(tags)
	childEnv := env.ChildEnviron(opts.environ, add)
	recCfg := recorder.Config{
		TraceID:      id.traceID,
		SpanID:       id.spanID,
		ParentSpanID: id.parent,
		Name:         filepath.Base(opts.args[0]),
		Tags:         tags,
		Interval:     cfg.SampleInterval,
		Out:          pipe,
	}
	recCfg.GPU = gpuConfig(cfg, opts.environ, childEnv, stderr)
	if os.Getpid() == 1 {
		// The orphans of the program are re-parented to graphsignal (and
		// reaped by it): they stay in the sampled process tree.
		recCfg.Adopter = 1
	}
	var rec *recorder.Recorder
	child, err := launcher.Start(launcher.Config{
		Args:            opts.args,
		Env:             childEnv,
		Stdin:           opts.streams.In,
		Stdout:          opts.streams.Out,
		Stderr:          opts.streams.ErrOut,
		OwnStderr:       stderr,
		PTY:             cfg.PTY,
		Reaper:          os.Getpid() == 1,
		StderrTailBytes: stderrTailBytes,
		StderrTailLines: stderrTailLines,
		StderrKeeper:    stderrKeeper(),
		BeforeReap:      func(int) { rec.StopSampling() },
		Signals:         sigs,
	})
	in.serve()
	opts.delivery.start(ctx)
	// The run's one redactor of everything it stores or prints (10-30 µs
	// for a typical environment), and the host and CI facts, are made once
	// the child is on its way.
	red := redact.New(secrets(cfg, opts.environ, token)...)
	warn.setSecrets(red.Values())
	recCfg.Args = red.Args(opts.args)
	recCfg.Secrets = red.Values()
	recCfg.Attributes = red.Attributes(runAttributes(opts.environ))
	recCfg.Annotate = opts.annotateRun(warn.redacted)
	if err != nil {
		oomRead.Wait()
		return failedStart(ctx, opts, pipe, warn, in, recCfg, err)
	}
	// The recorder's in-progress run span goes to the journal at once
	// (the pipeline hands run spans on without waiting), while the child
	// runs, so that exit only has the final records left to write; a child
	// that runs long enough gets its records indexed meanwhile.
	rec = recorder.Start(recCfg, child.Pid, child.Started)
	shieldFromOOM()
	var ix *spool.Indexer
	if !isNested(opts.environ) {
		ix = spool.Open(cfg.DataDir).StartIndexer(ctx, spool.IndexAfter, cfg.SampleInterval, func(err error) {
			warn.exporterError("local store "+cfg.DataDir, err)
		})
	}
	exit, err := child.Wait()
	// One deadline for everything graphsignal still does once the child
	// has exited: the flush, the uploads and the indexer's last import.
	exitCtx, cancelExit := context.WithTimeout(ctx, cfg.FlushTimeout)
	defer cancelExit()
	oomRead.Wait()
	opts.memoryLimit = oom.memoryLimit
	err = afterExit(exitCtx, opts, child, exit, err, rec, pipe, warn, in, oom)
	// The indexer stops only once the final records are in the journal.
	if ix != nil {
		ix.Stop(exitCtx)
	}
	return err
}

// failedStart records a run whose child could not be started and returns
// the error that sets the exit status (126/127, or 125).
func failedStart(ctx context.Context, opts *runOptions, pipe *pipeline.Pipeline, warn *warnings, in *intakes, recCfg recorder.Config, err error) error {
	flushCtx, cancel := context.WithTimeout(ctx, opts.config.FlushTimeout)
	defer cancel()
	pipe.Enqueue(telemetry.Batch{Metrics: in.shutdown(flushCtx, time.Now())})
	var execErr *launcher.ExecError
	if errors.As(err, &execErr) {
		outcome := recorder.RecordExecFailure(recCfg, execErr, time.Now())
		finishRun(flushCtx, opts, pipe, warn, outcome, nil, 0, 0)
		return err
	}
	_ = pipe.Shutdown(flushCtx)
	return startError(err)
}

// afterExit finishes the run once the child has exited: the intakes drain,
// the run span gets its outcome, and everything is flushed. From here on
// graphsignal only finishes its own work, within the flush timeout; a
// signal now (the child is gone) cuts that short, and the exit status stays
// the child's. The forwarded signals stay caught until graphsignal exits
// (child.Release is not called): a signal in the last moments cannot kill
// graphsignal with a status other than the child's.
func afterExit(ctx context.Context, opts *runOptions, child *launcher.Child, exit *launcher.Exit, waitErr error,
	rec *recorder.Recorder, pipe *pipeline.Pipeline, warn *warnings, in *intakes, oom oomWatch) error {
	flushCtx, cancel := context.WithTimeout(ctx, opts.config.FlushTimeout)
	defer cancel()
	var watch sync.WaitGroup
	watch.Go(func() {
		select {
		case <-child.Signals():
			cancel()
		case <-flushCtx.Done():
		}
	})
	defer watch.Wait()
	defer cancel()

	intakeMetrics := in.shutdown(flushCtx, time.Now())
	pipe.Enqueue(telemetry.Batch{Metrics: intakeMetrics})
	if opts.config.Debug {
		printIntake(opts.streams.ErrOut, intakeMetrics)
	}
	if waitErr != nil {
		rec.StopSampling()
		_ = pipe.Shutdown(flushCtx)
		return fmt.Errorf("wait: %w", waitErr)
	}
	oomKilled := exit.Signal == syscall.SIGKILL && oom.rose()
	awaitDigest(flushCtx, pipe) // the run span carries what the program's records show
	outcome := rec.Finish(exit, child.StderrTail(), oomKilled)
	finishRun(flushCtx, opts, pipe, warn, outcome, exit, spansReceived(intakeMetrics), droppedAtIntake(intakeMetrics))
	return &ChildExit{Exit: exit}
}

// secrets are the values that must never be stored or printed, wherever
// they appear (README, "Secrets"): the API key, the per-run local key, the
// notification webhook, the
// OTLP header values (as written, decoded, and the credential after a
// scheme) and the values of the environment variables whose names mark
// them as secret (redact.EnvironValues).
func secrets(cfg *Config, environ []string, token string) []string {
	var out []string
	for _, s := range []string{cfg.APIKey, token, cfg.Notify} {
		if len(s) >= 4 {
			out = append(out, s)
		}
	}
	return append(out, redact.EnvironValues(environ)...)
}

// inheritedAPIKey returns the user's API key when the child inherits it
// from graphsignal's environment (GRAPHSIGNAL_API_KEY is the configured
// key), else "". A key given by --api-key or the config file is not in the
// child's environment: the child then gets a per-run local key in
// GRAPHSIGNAL_API_KEY, which the loopback intake accepts, so that the
// Graphsignal SDK in it reports whichever way the key was given (its
// uploads are sent on with the user's key). The user's key never enters
// the child's environment that way.
func inheritedAPIKey(cfg *Config, environ []string) string {
	if k, _ := env.Lookup(environ, env.VarAPIKey); cfg.APIKey != "" && strings.TrimSpace(k) == cfg.APIKey {
		return cfg.APIKey // as an HTTP server reads the header: trimmed
	}
	return ""
}

// runAttributes are the host and CI facts of the run span.
func runAttributes(environ []string) map[string]any {
	host := env.Host()
	attrs := host.Attributes()
	attrs[telemetry.AttrHostName] = host.Name
	for k, v := range env.DetectCI(environ).Attributes() {
		attrs[k] = v
	}
	if wd, err := os.Getwd(); err == nil {
		attrs[telemetry.AttrWorkingDir] = wd
	}
	return attrs
}

// finishRun flushes the run's records within ctx (the flush timeout) and
// prints the end-of-run summary when asked to.
func finishRun(ctx context.Context, opts *runOptions, pipe *pipeline.Pipeline, warn *warnings, outcome recorder.Outcome, exit *launcher.Exit, childSpans int, intakeDropped uint64) {
	cfg := opts.config
	delivered := flushDelivery(ctx, opts.delivery) // at the same time as the journal
	flushErr := pipe.Shutdown(ctx)
	opts.delivery.journalClosed() // closed already, or never created
	s := runSummary{cfg: cfg, outcome: outcome, exit: exit, childSpans: childSpans, intakeDropped: intakeDropped,
		digest: opts.digest.Summary(), findings: opts.findings, redact: warn.redacted}
	notified := startNotify(ctx, &s, opts.environ, warn) // at the same time as the uploads
	defer notified()
	stats := pipe.Stats()
	dests := delivered()
	s.stats, s.flushErr, s.dests = stats, flushErr, dests
	out := summaryOutputs(cfg, opts.environ, term.IsTerminal(int(opts.streams.ErrOut.Fd())))
	if out.stderr || out.stepSummary != "" || cfg.Debug {
		opts.delivery.measurePending(dests)
	}
	if cfg.Debug {
		printDeliveryDebug(opts.streams.ErrOut, dests)
	}
	if out.stepSummary != "" {
		if err := appendStepSummary(out.stepSummary, s.markdown()); err != nil {
			fmt.Fprintf(opts.streams.ErrOut, "graphsignal: warning: GitHub step summary: %v\n", warn.redacted(err.Error()))
		}
	}
	if out.stderr {
		s.print(opts.streams.ErrOut)
		return
	}
	warn.lost(intakeDropped+stats.Dropped.Total(), stats.Failed.Total(), cfg.FlushTimeout)
	warnUndelivered(opts.streams.ErrOut, dests, cfg.FlushTimeout)
}

// startError keeps exec failures (126/127) as they are and makes any other
// failure to start a setup error (125).
func startError(err error) error {
	if _, ok := err.(*launcher.ExecError); ok {
		return err
	}
	return &UsageError{Err: fmt.Errorf("start: %w", err)}
}
