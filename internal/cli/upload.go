package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/graphsignal/graphsignal/internal/redact"
	"github.com/graphsignal/graphsignal/internal/report"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/upload"
	"github.com/graphsignal/graphsignal/internal/upload/otlpexport"
)

// uploadRetryTime is how long `graphsignal upload` retries one request
// before it gives up on the destination (what is left stays pending).
const uploadRetryTime = 30 * time.Second

// uploadOptions are the inputs of `graphsignal upload`.
type uploadOptions struct {
	streams *IOStreams
	environ []string
	config  *Config
	json    bool
}

// NewCmdUpload builds `graphsignal upload`.
func NewCmdUpload(streams *IOStreams, environ []string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "upload [--json]",
		Short: "Send what earlier runs could not deliver",
		Long: `Send every run still pending in the data dir to the destinations configured
now: the Graphsignal API when an API key is set, an OTLP endpoint when one is.
Progress goes to stderr.

Exit status:
  0  nothing is left pending
  1  something is left: what, for which destination, and why, is on stderr
     (with --json, in the summary on stdout; see docs/json.md)
  125  usage or configuration error`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			configFlag, _ := cmd.Flags().GetString("config")
			debug, _ := cmd.Flags().GetBool("debug")
			cfg, _, err := resolveConfig(cmd.Flags(), environ, configFlag, debug)
			if err != nil {
				return err
			}
			asJSON, _ := cmd.Flags().GetBool("json")
			opts := &uploadOptions{streams: streams, environ: environ, config: cfg, json: asJSON}
			return uploadRun(cmd.Context(), opts)
		},
	}
	fs := cmd.Flags()
	fs.String("api-key", "", "Graphsignal API key")
	fs.String("api-base", "", "Graphsignal API base URL (default https://api.graphsignal.com)")
	fs.String("otlp-endpoint", "", "OpenTelemetry OTLP endpoint")
	fs.String("data-dir", "", "local data directory (default $XDG_DATA_HOME/graphsignal)")
	fs.Bool("json", false, "print a JSON summary on stdout (docs/json.md)")
	return cmd
}

// uploadSummary is the JSON summary of `graphsignal upload` (docs/json.md).
type uploadSummary struct {
	SchemaVersion int `json:"schema_version"`
	// Pending is true when anything is left for any destination.
	Pending      bool                `json:"pending"`
	Destinations []uploadDestination `json:"destinations"`
}

type uploadDestination struct {
	Name            string     `json:"name"`
	Configured      bool       `json:"configured"`
	Records         int64      `json:"records_delivered"`
	Requests        int64      `json:"requests"`
	Bytes           int64      `json:"sent_bytes"`
	Rejected        int64      `json:"records_rejected"`
	Dropped         int64      `json:"records_dropped"`
	PendingJournals int        `json:"pending_journals"`
	PendingBytes    int64      `json:"pending_bytes"`
	Error           nullString `json:"error"`
	Hint            nullString `json:"hint"`
}

// nullString is a string that is null in JSON when empty (docs/json.md).
type nullString string

func (s nullString) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(s))
}

func uploadRun(ctx context.Context, opts *uploadOptions) error {
	cfg := opts.config
	stderr := opts.streams.ErrOut
	sp := spool.Open(cfg.DataDir)
	dests := configuredDestinations(cfg, opts.environ)
	if len(dests.invalid) > 0 {
		return usageErrorf("%s; nothing was sent", redact.String(strings.Join(dests.invalid, "; "), dests.secrets...))
	}
	dests.print(stderr, cfg.Debug)
	results := make([]uploadDestination, len(dests.senders))
	var wg sync.WaitGroup
	var progress sync.Mutex
	for i, snd := range dests.senders {
		wg.Go(func() {
			results[i] = drainDestination(ctx, sp, snd, cfg, dests.secrets, stderr, &progress)
		})
	}
	wg.Wait()

	sum := uploadSummary{SchemaVersion: 1, Destinations: results}
	configured := map[string]bool{}
	for _, r := range results {
		configured[r.Name] = true
	}
	others, err := sp.Destinations()
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	for _, name := range others {
		if configured[name] {
			continue
		}
		// The spool bounds hold for it too (docs/upload.md): what waited
		// past them is dropped and counted, not offered to a setting.
		dropped, _ := sp.Trim(name)
		p, _ := upload.PendingOf(sp, name)
		d := uploadDestination{Name: name, Dropped: dropped, PendingJournals: p.Journals, PendingBytes: p.Bytes, Error: "not configured now"}
		if p.Journals > 0 {
			d.Hint = nullString(settingFor(name))
		}
		sum.Destinations = append(sum.Destinations, d)
	}
	for _, d := range sum.Destinations {
		sum.Pending = sum.Pending || d.PendingJournals > 0
		printUploadLine(stderr, d)
	}
	if len(sum.Destinations) == 0 {
		fmt.Fprintln(stderr, "graphsignal: upload: nothing pending and no destination configured (set GRAPHSIGNAL_API_KEY or OTEL_EXPORTER_OTLP_ENDPOINT)")
	}
	if opts.json {
		if sum.Destinations == nil {
			sum.Destinations = []uploadDestination{}
		}
		enc := json.NewEncoder(opts.streams.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return err
		}
	}
	if sum.Pending {
		return &SilentError{Code: 1}
	}
	return nil
}

// drainDestination sends everything pending for snd, printing progress.
func drainDestination(ctx context.Context, sp *spool.Dir, snd upload.Sender, cfg *Config, secrets []string, stderr io.Writer, progress *sync.Mutex) uploadDestination {
	if c, ok := snd.(interface{ CloseIdleConnections() }); ok {
		defer c.CloseIdleConnections()
	}
	out := uploadDestination{Name: snd.Name(), Configured: true}
	s, err := upload.New(upload.Config{Sender: snd, Spool: sp, Stderr: stderr, Debug: cfg.Debug, SayRetries: true, Secrets: secrets, MaxRetryTime: uploadRetryTime})
	if err != nil {
		out.Error = nullString(err.Error())
		return out
	}
	err = s.Drain(ctx, func(name string, st upload.Stats) {
		progress.Lock()
		defer progress.Unlock()
		fmt.Fprintf(stderr, "graphsignal: upload: %s: %s done (%s delivered so far)\n", snd.Name(), journalLabel(name), report.Plural(int(st.Records), "record"))
	})
	st := s.Stats()
	out.Records, out.Requests, out.Bytes = st.Records, st.Requests, st.Bytes
	out.Rejected, out.Dropped = st.Rejected, st.Dropped
	p, _ := upload.PendingOf(sp, snd.Name())
	out.PendingJournals, out.PendingBytes = p.Journals, p.Bytes
	var perm *upload.PermanentError
	switch {
	case err == nil && p.Journals > 0:
		out.Error = "still written by a running program, or sent by another graphsignal process; try again when it ends"
	case errors.As(err, &perm):
		out.Error = nullString(redact.String(perm.Error(), secrets...))
		out.Hint = "fix the cause, then run graphsignal upload again"
	case err != nil:
		out.Error = nullString(redact.String(err.Error(), secrets...))
		out.Hint = "run graphsignal upload again later"
	}
	return out
}

// journalLabel names a journal for people: its run and when it started.
func journalLabel(name string) string {
	start, run, ok := spool.JournalRun(name)
	if !ok {
		return "journal " + name
	}
	return fmt.Sprintf("run %s of %s", run, start.UTC().Format("2006-01-02 15:04:05 UTC"))
}

// settingFor says which setting would send the journals pending for a
// destination that is not configured now.
func settingFor(dest string) string {
	switch {
	case strings.HasPrefix(dest, "Graphsignal API "):
		base := strings.TrimPrefix(dest, "Graphsignal API ")
		return "set GRAPHSIGNAL_API_KEY (or --api-key) with api_base " + base + " (--api-base) to send them"
	}
	if s, ok := otlpexport.SettingFor(dest); ok {
		return s + " to send them"
	}
	return "configure that destination again to send them"
}

func printUploadLine(w io.Writer, d uploadDestination) {
	line := fmt.Sprintf("graphsignal: upload: %s: %s delivered in %s (%s)", d.Name, report.Plural(int(d.Records), "record"), report.Plural(int(d.Requests), "request"), report.Bytes(d.Bytes))
	if d.Rejected > 0 {
		line += fmt.Sprintf(", %d rejected", d.Rejected)
	}
	if d.Dropped > 0 {
		line += fmt.Sprintf(", %d dropped", d.Dropped)
	}
	if !d.Configured {
		line = fmt.Sprintf("graphsignal: upload: %s: not configured now", d.Name)
		if d.Dropped > 0 {
			line += fmt.Sprintf("; %s dropped past the spool bounds", report.Plural(int(d.Dropped), "record"))
		}
	}
	if d.PendingJournals == 0 {
		fmt.Fprintln(w, line+"; nothing left")
		return
	}
	line += fmt.Sprintf("; left: %s (%s)", report.Plural(d.PendingJournals, "journal"), report.Bytes(d.PendingBytes))
	if d.Error != "" && d.Configured {
		line += ": " + string(d.Error)
	}
	if d.Hint != "" {
		line += "; " + string(d.Hint)
	}
	fmt.Fprintln(w, line)
}
