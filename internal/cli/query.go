package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/graphsignal/graphsignal/internal/report"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// queryFlags are the flags shared by the commands that read the store.
func addQueryFlags(cmd *cobra.Command) {
	cmd.Flags().String("data-dir", "", "local data directory (default $XDG_DATA_HOME/graphsignal)")
	cmd.Flags().Bool("json", false, "print JSON (stable; see docs/json.md)")
}

// openStoreForQuery resolves the configuration and opens the store for
// reading, with every recorded run imported (openStoreForRead). It returns
// the data dir too.
func openStoreForQuery(ctx context.Context, cmd *cobra.Command, environ []string, stderr io.Writer) (*store.Store, string, error) {
	configFlag, _ := cmd.Flags().GetString("config")
	debug, _ := cmd.Flags().GetBool("debug")
	cfg, _, err := resolveConfig(cmd.Flags(), environ, configFlag, debug)
	if err := warnUnknownSettings(err, stderr); err != nil {
		return nil, "", err
	}
	st, err := openStoreForRead(ctx, cfg.DataDir, stderr)
	return st, cfg.DataDir, err
}

// runDeliveries says where each run of d went among the remote
// destinations, from the delivery cursors in dataDir's spool
// (docs/upload.md, "Delivery"). A spool that cannot be read shows none,
// with a warning.
func runDeliveries(dataDir string, d *store.SessionDetail, stderr io.Writer) report.Deliveries {
	ids := make([]telemetry.SpanID, 0, len(d.Runs))
	for _, r := range d.Runs {
		ids = append(ids, r.SpanID)
	}
	byRun, err := spool.Open(dataDir).RunStatus(ids...)
	if err != nil {
		fmt.Fprintf(stderr, "graphsignal: warning: where the runs were sent is not known: %v\n", err)
		return nil
	}
	out := make(report.Deliveries, len(byRun))
	for run, sts := range byRun {
		for _, st := range sts {
			out[run] = append(out[run], report.Delivery{Destination: st.Destination, State: string(st.State),
				Acknowledged: st.Offset, Size: st.Size, Why: st.Why, Refused: st.Refused})
		}
	}
	return out
}

// NoDataError reports that nothing has been recorded in the data dir yet.
type NoDataError struct{ Dir string }

func (e *NoDataError) Error() string {
	return fmt.Sprintf("no runs recorded yet in %s (run a program with \"graphsignal run -- PROGRAM\" first)", e.Dir)
}

func reportOptions(cmd *cobra.Command, streams *IOStreams) report.Options {
	opts := report.Options{Format: report.Text, Terminal: term.IsTerminal(int(streams.Out.Fd())), Location: time.Local}
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		opts.Format = report.JSON
	}
	return opts
}

// NewCmdSessions builds `graphsignal sessions`.
func NewCmdSessions(streams *IOStreams, environ []string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sessions [--since 168h] [--user U] [--deployment D] [--tag k=v]... [--failed] [--json]",
		Short: "List recorded sessions from the local store",
		Long: `List recorded sessions from the local store, newest first.

A session is every distinct session_id that a run or the program's records
carry: a run's own session (--tag session_id=..., the CI job, or a new id)
and each session_id the program sets per request (a socket context tag, a
span's tags, an SDK). One run can serve many sessions and one session span
many runs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := sessionFilter(cmd, time.Now())
			if err != nil {
				return err
			}
			by, err := costsBy(cmd, byUser)
			if err != nil {
				return err
			}
			opts := reportOptions(cmd, streams)
			st, _, err := openStoreForQuery(cmd.Context(), cmd, environ, streams.ErrOut)
			var none *NoDataError
			if errors.As(err, &none) {
				// Nothing recorded yet is an empty list, not an error, so
				// that scripts work on a fresh machine.
				if by != "" {
					return report.CostsReport(streams.Out, &report.Costs{By: by}, opts)
				}
				return report.Sessions(streams.Out, nil, opts)
			}
			if err != nil {
				return err
			}
			defer st.Close()
			sessions, err := st.Sessions(cmd.Context(), f)
			if err != nil {
				return fmt.Errorf("list sessions: %w", err)
			}
			if by != "" {
				return sessionsCosts(cmd, environ, st, sessions, f, by, streams)
			}
			if len(sessions) == 0 && !f.IsZero() {
				all, err := st.Sessions(cmd.Context(), store.SessionFilter{})
				if err != nil {
					return fmt.Errorf("list sessions: %w", err)
				}
				opts.Selection = selection(cmd, len(all))
			}
			return report.Sessions(streams.Out, sessions, opts)
		},
	}
	addQueryFlags(cmd)
	cmd.Flags().Duration("since", 7*24*time.Hour, "only sessions active within this duration (0: all)")
	cmd.Flags().String("user", "", "only sessions of this user_id")
	cmd.Flags().String("deployment", "", "only sessions of this deployment")
	cmd.Flags().StringArray("tag", nil, "only sessions with a run or record tagged `key=value` (repeatable; all must match; the value may hold commas)")
	cmd.Flags().Bool("failed", false, "only sessions with a failed run or an error record")
	cmd.Flags().String("by", "", "instead of the list, the model API costs of the sessions listed by `user` (README, \"Costs\")")
	return cmd
}

// sessionFilter reads the filter flags of `sessions`.
func sessionFilter(cmd *cobra.Command, now time.Time) (store.SessionFilter, error) {
	var f store.SessionFilter
	if since, _ := cmd.Flags().GetDuration("since"); since > 0 {
		f.Since = now.Add(-since)
	}
	f.User, _ = cmd.Flags().GetString("user")
	f.Deployment, _ = cmd.Flags().GetString("deployment")
	f.Failed, _ = cmd.Flags().GetBool("failed")
	tags, _ := cmd.Flags().GetStringArray("tag")
	for _, t := range tags {
		k, v, ok := strings.Cut(t, "=")
		if !ok || k == "" {
			return f, &UsageError{Err: fmt.Errorf("--tag %q: want key=value", t)}
		}
		if f.Tags == nil {
			f.Tags = telemetry.Tags{}
		}
		f.Tags[k] = v
	}
	return f, nil
}

// selection describes the flags that selected no session, for the empty
// list's message; total is how many sessions there are in all.
func selection(cmd *cobra.Command, total int) string {
	var parts []string
	if since, _ := cmd.Flags().GetDuration("since"); since > 0 && cmd.Flags().Changed("since") {
		parts = append(parts, "active within "+since.String())
	}
	if u, _ := cmd.Flags().GetString("user"); u != "" {
		parts = append(parts, "of user "+u)
	}
	if d, _ := cmd.Flags().GetString("deployment"); d != "" {
		parts = append(parts, "of deployment "+d)
	}
	if tags, _ := cmd.Flags().GetStringArray("tag"); len(tags) > 0 {
		parts = append(parts, "tagged "+strings.Join(tags, " and "))
	}
	if failed, _ := cmd.Flags().GetBool("failed"); failed {
		parts = append(parts, "with a failure")
	}
	sinceOnly := len(parts) == 1 && cmd.Flags().Changed("since")
	if len(parts) == 0 {
		parts = append(parts, "active within "+cmd.Flags().Lookup("since").Value.String())
	}
	s := strings.Join(parts, ", ")
	switch {
	case total > 0 && sinceOnly:
		s += fmt.Sprintf(" (%s recorded in all; \"graphsignal sessions --since 0\" lists them)",
			report.Plural(total, "session"))
	case total > 0:
		s += fmt.Sprintf(" (%s recorded in all)", report.Plural(total, "session"))
	}
	return s
}

// NewCmdShow builds `graphsignal show`.
func NewCmdShow(streams *IOStreams, environ []string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show [SESSION|PREFIX|last] [--trace ID|PREFIX|slowest|failed [--full]] [--json]",
		Short: "Show one session: runs, spans by trace, errors, scores, resources",
		Long: `Show one session: the runs its records came from, with their outcome,
resources and metrics, their spans by trace (parent, then children, with
durations), the session's errors and scores.

SESSION may be any unique prefix of a session id; "last" (the default) is the
session of the most recently started run. For a run's own session, show lists
everything received during the run, whatever its trace; for a session the
program set on its records, the records of that session.

With --trace, show one trace of the session instead: its spans as a tree with
durations and a waterfall, then each span's tags, attributes, usage,
exceptions with stack traces, scores and payloads (cut to 1000 bytes unless
--full). ID is a trace id or a unique prefix of one; "slowest" is the
session's longest trace, "failed" its latest trace with an error span.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if fl := cmd.Flags(); fl.Changed("html") && (fl.Changed("trace") || fl.Changed("json") || fl.Changed("by")) {
				return usageErrorf("--html takes none of --trace, --json and --by")
			}
			id := "last"
			if len(args) == 1 {
				id = strings.TrimSpace(args[0])
			}
			st, dataDir, err := openStoreForQuery(cmd.Context(), cmd, environ, streams.ErrOut)
			if err != nil {
				return err
			}
			defer st.Close()
			if id == "last" {
				if id, err = st.LastSessionID(cmd.Context()); err != nil {
					return fmt.Errorf("find the last session: %w", err)
				}
			} else if id, err = resolveSession(cmd.Context(), st, id); err != nil {
				return err
			}
			by, err := costsBy(cmd, byModel, byUser, byDeployment)
			if err != nil {
				return err
			}
			if by != "" {
				return showCosts(cmd, environ, st, id, by, streams)
			}
			if cmd.Flags().Changed("trace") {
				ref, _ := cmd.Flags().GetString("trace")
				full, _ := cmd.Flags().GetBool("full")
				return showTrace(cmd.Context(), st, id, strings.TrimSpace(ref),
					report.TraceOptions{Options: reportOptions(cmd, streams), Full: full}, streams.Out)
			}
			if full, _ := cmd.Flags().GetBool("full"); full {
				return usageErrorf("--full needs --trace")
			}
			path, _ := cmd.Flags().GetString("html")
			var reads []store.SessionOption
			if path != "" {
				reads = append(reads, store.ChartPoints(report.HTMLChartPoints))
			}
			detail, err := st.Session(cmd.Context(), id, reads...)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("session %q not found (list them with \"graphsignal sessions\")", id)
			}
			if err != nil {
				return fmt.Errorf("show session %q: %w", id, err)
			}
			opts := reportOptions(cmd, streams)
			opts.Deliveries = runDeliveries(dataDir, detail, streams.ErrOut)
			if path != "" {
				if opts.Costs, err = sessionCosts(cmd.Context(), cmd, environ, st, id); err != nil {
					return err
				}
				return writeHTMLReport(path, detail, opts, streams.Out)
			}
			return report.Show(streams.Out, detail, opts)
		},
	}
	addQueryFlags(cmd)
	cmd.Flags().String("trace", "", "show one trace of the session: `ID`, a unique prefix, slowest or failed")
	cmd.Flags().Bool("full", false, "with --trace, show payloads and attribute values whole")
	cmd.Flags().String("html", "", "write the session as a self-contained HTML page to `FILE` (- for stdout; docs/html.md)")
	cmd.Flags().String("by", "", "instead of the session, its model API costs by `model`, user or deployment (README, \"Costs\")")
	return cmd
}

// writeHTMLReport writes d as an HTML page (report.ShowHTML)
// to path, or to out when path is "-". The file appears whole or not at
// all: the page is written to a temporary file beside it, then renamed.
func writeHTMLReport(path string, d *store.SessionDetail, opts report.Options, out io.Writer) error {
	if path == "-" {
		return report.ShowHTML(out, d, opts)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	w := bufio.NewWriter(tmp)
	err = report.ShowHTML(w, d, opts)
	if err == nil {
		err = w.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write html report %s: %w", path, err)
	}
	return nil
}

// showTrace writes the trace of session that ref names (store.ResolveTrace).
func showTrace(ctx context.Context, st *store.Store, session, ref string, opts report.TraceOptions, out io.Writer) error {
	trace, err := st.ResolveTrace(ctx, session, ref)
	var lookup *store.TraceLookupError
	switch {
	case errors.As(err, &lookup):
		return traceLookupError(lookup)
	case err != nil:
		return fmt.Errorf("show trace %q: %w", ref, err)
	}
	d, err := st.Trace(ctx, session, trace, opts.Reads()...)
	if err != nil {
		return fmt.Errorf("show trace %q: %w", ref, err)
	}
	return report.Trace(out, d, opts)
}

// traceLookupError says which traces the session holds: the candidates of
// an ambiguous prefix, or its latest traces when none matched.
func traceLookupError(e *store.TraceLookupError) error {
	var b strings.Builder
	switch {
	case e.Ambiguous:
		fmt.Fprintf(&b, "trace %q is ambiguous in session %q; it starts:", e.Ref, e.Session)
	case len(e.Candidates) == 0:
		return fmt.Errorf("%w (it holds no span but its runs)", e)
	default:
		fmt.Fprintf(&b, "%v; its traces:", e)
		if e.More > 0 {
			fmt.Fprintf(&b, "\n  … %d earlier", e.More)
		}
	}
	for _, c := range e.Candidates {
		fmt.Fprintf(&b, "\n  %s  %s  %s", c.TraceID, report.Duration(c.Duration), report.Plural(c.Spans, "span"))
		if c.Errors > 0 {
			fmt.Fprintf(&b, ", %s", report.Plural(c.Errors, "error"))
		}
	}
	if e.Ambiguous && e.More > 0 {
		b.WriteString("\n  …")
	}
	return errors.New(b.String())
}

// resolveSession turns a session id or unique prefix into the session id.
func resolveSession(ctx context.Context, st *store.Store, id string) (string, error) {
	full, err := st.ResolveSession(ctx, id)
	var amb *store.AmbiguousError
	switch {
	case errors.As(err, &amb):
		more := ""
		if amb.More {
			more = "\n  …"
		}
		return "", fmt.Errorf("session %q is ambiguous; it starts:\n  %s%s", id, strings.Join(amb.Candidates, "\n  "), more)
	case errors.Is(err, store.ErrNotFound):
		return "", fmt.Errorf("session %q not found (list them with \"graphsignal sessions\")", id)
	case err != nil:
		return "", fmt.Errorf("show session %q: %w", id, err)
	}
	return full, nil
}
