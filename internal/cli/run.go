package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/graphsignal/graphsignal/internal/env"
	"github.com/graphsignal/graphsignal/internal/launcher"
	"github.com/graphsignal/graphsignal/internal/pipeline"
	"github.com/graphsignal/graphsignal/internal/recorder"
	"github.com/graphsignal/graphsignal/internal/redact"
	"github.com/graphsignal/graphsignal/internal/telemetry"
	"golang.org/x/term"
)

const runLong = `Run PROGRAM with ARGS exactly as if it were run directly, and record the run.

Flag parsing stops at PROGRAM ("--" is optional): "graphsignal run python -v x.py"
passes -v to python. PROGRAM is looked up in PATH like execvp does.

The child gets graphsignal's own stdin, stdout and stderr file descriptors,
its environment, working directory, umask, rlimits, process group and session.
graphsignal never reads stdin and never writes stdout (except with --pty, where
it copies between them and the child's terminal).

Environment variables read (precedence: flag > environment > config file > default):
  GRAPHSIGNAL_API_KEY          Graphsignal API key (none: local mode)
  GRAPHSIGNAL_DEPLOYMENT       deployment name (default: the program name)
  GRAPHSIGNAL_TAGS             tags "k=v,k2=v2" (session_id, user_id, run_id, any key)
  GRAPHSIGNAL_TAG_<KEY>        one tag; KEY is lower-cased
  GRAPHSIGNAL_API_BASE         API base URL (also GRAPHSIGNAL_API_URL)
  OTEL_EXPORTER_OTLP_ENDPOINT  OTLP/HTTP export (also _TRACES_ENDPOINT, _HEADERS, _PROTOCOL)
  GRAPHSIGNAL_DATA_DIR         local data directory (default $XDG_DATA_HOME/graphsignal)
  GRAPHSIGNAL_RECORD_PAYLOADS  record payloads sent by SDKs (default true)
  GRAPHSIGNAL_SAMPLE_INTERVAL  sampling interval (default 1s)
  GRAPHSIGNAL_FLUSH_TIMEOUT    how long exit may wait for data to be sent (default 2s)
  GRAPHSIGNAL_DEBUG_MODE       debug output on stderr
  GRAPHSIGNAL_TRACE_ID, GRAPHSIGNAL_PARENT_SPAN_ID
                               set by an enclosing graphsignal run: this run joins
                               its trace as a child span

Environment variables added to the child (they replace inherited ones):
  GRAPHSIGNAL_SOCKET           the run's local socket (newline-delimited JSON, docs/protocol.md)
  GRAPHSIGNAL_TRACE_ID         the run's trace id (32 hex digits)
  GRAPHSIGNAL_PARENT_SPAN_ID   the run span's id (16 hex digits)
  TRACEPARENT                  W3C trace context, so OpenTelemetry SDKs join the trace
  GRAPHSIGNAL_TAGS             the merged tags, including session_id and deployment
  GRAPHSIGNAL_API_BASE         the loopback intake for the official Graphsignal SDK
  OTEL_EXPORTER_OTLP_ENDPOINT  the loopback OTLP/HTTP intake (only when not set already)
  GRAPHSIGNAL_API_KEY          local mode only: a per-run key for the official SDK

Exit status:
  the child's exit code; if the child is killed by signal N, graphsignal kills
  itself with signal N (as PID 1 it exits 128+N instead)
  125  graphsignal's own usage or configuration error; the child did not start
  126  PROGRAM was found but cannot be executed (permission, directory)
  127  PROGRAM was not found (or its #! interpreter was not found)
Telemetry failures never change the exit status.`

// runOptions are the inputs of `graphsignal run`.
type runOptions struct {
	streams *IOStreams
	environ []string
	config  *Config
	sources map[string]configSource
	args    []string
}

// NewCmdRun builds `graphsignal run`. runF replaces the run step in tests;
// nil means runRun.
func NewCmdRun(streams *IOStreams, environ []string, runF func(context.Context, *runOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run [flags] [--] PROGRAM [ARGS...]",
		Short: "Run a program and record it",
		Long:  runLong,
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
			opts := &runOptions{streams: streams, environ: environ, config: cfg, sources: sources, args: args}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
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
// run, or new) and deployment (configured, or the program name).
func runTags(cfg *Config, environ []string, program string) telemetry.Tags {
	tags := cfg.Tags.Clone()
	if tags == nil {
		tags = telemetry.Tags{}
	}
	tags[telemetry.TagSessionID] = env.SessionID(tags, env.DetectCI(environ), func() string { return env.NewSessionID(time.Now()) })
	deployment := cfg.Deployment
	if deployment == "" {
		deployment = tags[telemetry.TagDeployment]
	}
	if deployment == "" {
		deployment = filepath.Base(program)
	}
	tags[telemetry.TagDeployment] = deployment
	return tags
}

func runRun(ctx context.Context, opts *runOptions) error {
	cfg := opts.config
	stderr := opts.streams.ErrOut
	if cfg.Debug {
		printConfig(stderr, opts.sources)
	}
	id := newRunIdentity(opts.environ)
	tags := runTags(cfg, opts.environ, opts.args[0])
	oom := watchOOM()

	pipe := pipeline.New(pipeline.Config{OnError: warnOnce(stderr, cfg.APIKey)}, destination(cfg, opts.environ))
	in := startIntakes(ctx, cfg, id, tags, pipe, stderr)
	add := in.childEnv(opts.environ)
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
		Args:         redact.Args(opts.args),
		Tags:         tags,
		Attributes:   runAttributes(opts.environ),
		Interval:     cfg.SampleInterval,
		Out:          pipe,
	}
	var rec *recorder.Recorder
	child, err := launcher.Start(launcher.Config{
		Args:            opts.args,
		Env:             childEnv,
		Stdin:           opts.streams.In,
		Stdout:          opts.streams.Out,
		Stderr:          stderr,
		PTY:             cfg.PTY,
		Reaper:          os.Getpid() == 1,
		StderrTailBytes: stderrTailBytes,
		StderrTailLines: stderrTailLines,
		BeforeReap:      func(int) { rec.StopSampling() },
	})
	if err != nil {
		var execErr *launcher.ExecError
		pipe.Enqueue(telemetry.Batch{Metrics: in.shutdown(time.Now())})
		if errors.As(err, &execErr) {
			outcome := recorder.RecordExecFailure(recCfg, execErr, time.Now())
			finishRun(opts, pipe, outcome, nil)
			return err
		}
		shutdown(pipe, cfg.FlushTimeout)
		return startError(err)
	}
	rec = recorder.Start(recCfg, child.Pid, child.Started)
	// Open the store and write the in-progress run span while the child
	// runs, so that exit only has the final records left to write.
	var early sync.WaitGroup
	early.Go(func() { _ = pipe.Flush(ctx) })
	exit, err := child.Wait()
	early.Wait()
	intakeMetrics := in.shutdown(time.Now())
	pipe.Enqueue(telemetry.Batch{Metrics: intakeMetrics})
	if cfg.Debug {
		printIntake(stderr, intakeMetrics)
	}
	if err != nil {
		rec.StopSampling()
		shutdown(pipe, cfg.FlushTimeout)
		return fmt.Errorf("wait: %w", err)
	}
	oomKilled := exit.Signal == syscall.SIGKILL && oom.rose()
	outcome := rec.Finish(exit, child.StderrTail(), oomKilled)
	finishRun(opts, pipe, outcome, exit)
	return &ChildExit{Exit: exit}
}

// runAttributes are the host and CI facts of the run span.
func runAttributes(environ []string) map[string]any {
	attrs := env.Host().Attributes()
	attrs[telemetry.AttrHostName] = env.Host().Name
	for k, v := range env.DetectCI(environ).Attributes() {
		attrs[k] = v
	}
	if wd, err := os.Getwd(); err == nil {
		attrs[telemetry.AttrWorkingDir] = wd
	}
	return attrs
}

// finishRun flushes the run's records within the flush timeout and prints
// the end-of-run summary when asked to.
func finishRun(opts *runOptions, pipe *pipeline.Pipeline, outcome recorder.Outcome, exit *launcher.Exit) {
	cfg := opts.config
	flushErr := shutdown(pipe, cfg.FlushTimeout)
	if cfg.Summary == "always" || (cfg.Summary == "auto" && term.IsTerminal(int(opts.streams.ErrOut.Fd()))) {
		printSummary(opts.streams.ErrOut, cfg, outcome, exit, pipe.Stats(), flushErr)
	}
}

// shutdown flushes the pipeline, waiting at most timeout.
func shutdown(pipe *pipeline.Pipeline, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return pipe.Shutdown(ctx)
}

// startError keeps exec failures (126/127) as they are and makes any other
// failure to start a setup error (125).
func startError(err error) error {
	if _, ok := err.(*launcher.ExecError); ok {
		return err
	}
	return &UsageError{Err: fmt.Errorf("start: %w", err)}
}
