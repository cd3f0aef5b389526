package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/graphsignal/graphsignal/internal/report"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/ui"
)

// NewCmdUI builds `graphsignal ui`.
func NewCmdUI(streams *IOStreams, environ []string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ui [--port N] [--data-dir DIR]",
		Short: "Browse the local store's sessions in a web browser, on 127.0.0.1",
		Long: `Serve the local store as web pages on 127.0.0.1 until Ctrl-C: the
sessions, newest first, with filters (deployment, user, failed or ok, active
within, free text on session ids, programs, deployments and users); each
session's page, the one "graphsignal show --html" writes; each trace's page,
with everything "graphsignal show --trace" shows.

The pages only read the store and answer only to http://127.0.0.1 and
http://localhost, and only to a browser that opened the address printed on
stderr: it carries an access token, new at each start (docs/ui.md). --port 0,
the default, takes any free port.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			port, _ := cmd.Flags().GetInt("port")
			if port < 0 || port > 65535 {
				return usageErrorf("--port %d: want 0 to 65535", port)
			}
			configFlag, _ := cmd.Flags().GetString("config")
			debug, _ := cmd.Flags().GetBool("debug")
			cfg, _, err := resolveConfig(cmd.Flags(), environ, configFlag, debug)
			if err := warnUnknownSettings(err, streams.ErrOut); err != nil {
				return err
			}
			token := ui.NewToken()
			h, err := ui.NewHandler(uiConfig(cmd, environ, cfg.DataDir, token, streams))
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				return fmt.Errorf("listen on 127.0.0.1:%d: %w", port, err)
			}
			// The one place the token is written (docs/ui.md, "Security").
			fmt.Fprintf(streams.ErrOut, "graphsignal: serving the local store on http://%s/?token=%s (Ctrl-C to stop)\n",
				ln.Addr(), token)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return ui.Serve(ctx, ln, h)
		},
	}
	cmd.Flags().Int("port", 0, "TCP port to serve on, on 127.0.0.1 (0: any free port)")
	cmd.Flags().String("data-dir", "", "local data directory (default $XDG_DATA_HOME/graphsignal)")
	return cmd
}

// uiConfig gives the pages, behind token, the store in dataDir as
// `sessions` and `show` read it (openStoreForRead: the runs recorded so far
// imported first), once per page, where each run was sent and what each
// session's model calls cost (priced as cmd's configuration says). Warnings
// go to streams.ErrOut.
func uiConfig(cmd *cobra.Command, environ []string, dataDir, token string, streams *IOStreams) ui.Config {
	return ui.Config{
		Token: token,
		Open: func(ctx context.Context) (*store.Store, error) {
			st, err := openStoreForRead(ctx, dataDir, streams.ErrOut)
			var none *NoDataError
			if errors.As(err, &none) {
				return nil, fmt.Errorf("%w: %w", ui.ErrNothingRecorded, err)
			}
			return st, err
		},
		Deliveries: func(d *store.SessionDetail) report.Deliveries {
			return runDeliveries(dataDir, d, streams.ErrOut)
		},
		Costs: func(ctx context.Context, st *store.Store, session string) (*report.Costs, error) {
			return sessionCosts(ctx, cmd, environ, st, session)
		},
		Location: time.Local,
	}
}
