package cli

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/spf13/cobra"

	"github.com/graphsignal/graphsignal/internal/env"
	"github.com/graphsignal/graphsignal/internal/forward"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// NewCmdScore builds `graphsignal score`.
func NewCmdScore(streams *IOStreams, environ []string) *cobra.Command {
	var (
		value              float64
		comment, unit      string
		severity           int
		spanIDArg, traceID string
	)
	cmd := &cobra.Command{
		Use:   "score NAME --value X [flags]",
		Short: "Record a score (user feedback, eval) for a span, run, session or user",
		Long: `Record a score: user feedback, an eval result, a guardrail verdict.

Inside a run (GRAPHSIGNAL_SOCKET is set) the score goes through the run's
socket and carries the run's tags; outside, it is written to the local store.
Use --tag run_id=..., session_id=... or user_id=... to say what it scores, or
--span-id for one span.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || args[0] == "" {
				return usageErrorf("score: want exactly one NAME (usage: graphsignal score NAME --value X)")
			}
			if !cmd.Flags().Changed("value") {
				return usageErrorf("score: --value is required")
			}
			if math.IsNaN(value) || math.IsInf(value, 0) {
				return usageErrorf("score: --value must be a finite number")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			configFlag, _ := cmd.Flags().GetString("config")
			debug, _ := cmd.Flags().GetBool("debug")
			cfg, _, err := resolveConfig(cmd.Flags(), environ, configFlag, debug)
			if err != nil {
				return err
			}
			sc := telemetry.Score{Name: args[0], Value: value, Unit: unit, Comment: comment,
				Severity: severity, Tags: cfg.Tags, Time: time.Now()}
			if spanIDArg != "" {
				if sc.SpanID, err = telemetry.ParseSpanID(spanIDArg); err != nil {
					return usageErrorf("--span-id: %w", err)
				}
			}
			if traceID != "" {
				if sc.TraceID, err = telemetry.ParseTraceID(traceID); err != nil {
					return usageErrorf("--trace-id: %w", err)
				}
			}
			return sendScore(cmd.Context(), cfg, environ, sc)
		},
	}
	cmd.Flags().Float64Var(&value, "value", 0, "the score's value (required)")
	cmd.Flags().StringVar(&comment, "comment", "", "free-text comment")
	cmd.Flags().StringVar(&unit, "unit", "", "unit of the value")
	cmd.Flags().IntVar(&severity, "severity", 0, "severity (0 none, higher is worse)")
	cmd.Flags().StringVar(&spanIDArg, "span-id", "", "span the score is for (16 hex digits)")
	cmd.Flags().StringVar(&traceID, "trace-id", "", "trace the score is for (32 hex digits)")
	cmd.Flags().StringArray("tag", nil, "tag `key=value` saying what is scored: run_id, session_id, user_id (repeatable)")
	cmd.Flags().String("data-dir", "", "local data directory (default $XDG_DATA_HOME/graphsignal)")
	return cmd
}

// sendScore delivers a score through the enclosing run's socket, or writes
// it to the local store when there is no run.
func sendScore(ctx context.Context, cfg *Config, environ []string, sc telemetry.Score) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.FlushTimeout)
	defer cancel()
	batch := telemetry.Batch{Scores: []telemetry.Score{sc}}
	if path, ok := env.Lookup(environ, env.VarSocket); ok && path != "" {
		f, err := forward.Dial(ctx, path)
		if err == nil {
			defer f.Close()
			return f.Export(ctx, batch)
		}
	}
	if sc.Tags[telemetry.TagSessionID] == "" && sc.Tags[telemetry.TagRunID] == "" && sc.Tags[telemetry.TagUserID] == "" && sc.TraceID.IsZero() {
		return usageErrorf("score: outside a run, say what is scored with --tag session_id=..., run_id=... or user_id=..., or --trace-id")
	}
	if !sc.SpanID.IsZero() && sc.TraceID.IsZero() {
		// A span id is unique only within its trace: alone, the store
		// could not tell which span it names.
		return usageErrorf("score: outside a run, --span-id needs --trace-id (a span id is unique only within its trace)")
	}
	st, err := store.Open(ctx, cfg.DataDir)
	if err != nil {
		return fmt.Errorf("record score: %w", err)
	}
	defer st.Close()
	if err := st.Write(ctx, batch); err != nil {
		return fmt.Errorf("record score: %w", err)
	}
	return nil
}
