package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	if err != nil {
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
				Acknowledged: st.Offset, Size: st.Size, Why: st.Why})
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
		Use:   "sessions [--since 24h] [--json]",
		Short: "List recorded sessions from the local store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			since, _ := cmd.Flags().GetDuration("since")
			st, _, err := openStoreForQuery(cmd.Context(), cmd, environ, streams.ErrOut)
			var none *NoDataError
			if errors.As(err, &none) {
				// Nothing recorded yet is an empty list, not an error, so
				// that scripts work on a fresh machine.
				return report.Sessions(streams.Out, nil, reportOptions(cmd, streams))
			}
			if err != nil {
				return err
			}
			defer st.Close()
			var from time.Time
			if since > 0 {
				from = time.Now().Add(-since)
			}
			sessions, err := st.Sessions(cmd.Context(), from)
			if err != nil {
				return fmt.Errorf("list sessions: %w", err)
			}
			return report.Sessions(streams.Out, sessions, reportOptions(cmd, streams))
		},
	}
	addQueryFlags(cmd)
	cmd.Flags().Duration("since", 7*24*time.Hour, "only sessions active within this duration (0: all)")
	return cmd
}

// NewCmdShow builds `graphsignal show`.
func NewCmdShow(streams *IOStreams, environ []string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show [SESSION|last] [--json]",
		Short: "Show one session: runs, exit errors, resources, spans",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
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
			}
			detail, err := st.Session(cmd.Context(), id)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("session %q not found (list them with \"graphsignal sessions\")", id)
			}
			if err != nil {
				return fmt.Errorf("show session %q: %w", id, err)
			}
			opts := reportOptions(cmd, streams)
			opts.Deliveries = runDeliveries(dataDir, detail, streams.ErrOut)
			return report.Show(streams.Out, detail, opts)
		},
	}
	addQueryFlags(cmd)
	return cmd
}
