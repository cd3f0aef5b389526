package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/graphsignal/graphsignal/internal/env"
	"github.com/graphsignal/graphsignal/internal/pipeline"
	"github.com/graphsignal/graphsignal/internal/redact"
	"github.com/graphsignal/graphsignal/internal/report"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/upload"
	"github.com/graphsignal/graphsignal/internal/upload/gsapi"
	"github.com/graphsignal/graphsignal/internal/upload/otlpexport"
)

// Delivery of a run to the remote destinations (docs/upload.md,
// "Delivery"): the run's journal is expected by each destination before it
// is created, one upload.Shipper per destination streams it while the run
// goes on (and sends older pending journals in the background), and the
// run's exit flushes it within the flush timeout, at the same time as the
// journal itself.

// destinations are the Senders configured now: the Graphsignal API when a
// key is set, OTLP when an endpoint is. secrets are the values to redact.
type destinations struct {
	senders []upload.Sender
	secrets []string
	// settings describes the OTLP destination's signals, for --debug
	// (secrets not yet redacted); nil without one. Only --debug calls it.
	settings func() []string
	// invalid are settings that leave a destination out (a malformed
	// endpoint, key or variable), one line each: a run warns and goes on
	// (invalidNote says what becomes of the program's own data), while
	// graphsignal upload refuses to start.
	invalid     []string
	invalidNote string
	// warnings are other one-line problems found while configuring them.
	warnings []string
}

// print writes the warnings, and with debug the settings, redacted.
func (d destinations) print(w io.Writer, debug bool) {
	for _, line := range d.invalid {
		fmt.Fprintf(w, "graphsignal: warning: %s\n", redact.String(line+" ("+d.invalidNote+")", d.secrets...))
	}
	for _, line := range d.warnings {
		fmt.Fprintf(w, "graphsignal: warning: %s\n", redact.String(line, d.secrets...))
	}
	if !debug || d.settings == nil {
		return
	}
	for _, line := range d.settings() {
		fmt.Fprintf(w, "graphsignal: upload: OTLP %s\n", redact.String(line, d.secrets...))
	}
}

// configuredDestinations builds the Senders of cfg and environ. It opens
// no connection.
func configuredDestinations(cfg *Config, environ []string) destinations {
	var d destinations
	if cfg.APIKey != "" {
		gs, err := gsapi.New(gsapi.Config{APIBase: cfg.APIBase, APIKey: cfg.APIKey})
		switch {
		case err != nil:
			d.invalid = append(d.invalid, fmt.Sprintf("Graphsignal API: %v", err))
		default:
			d.senders = append(d.senders, gs)
			if gs.InsecureKey() {
				d.warnings = append(d.warnings, fmt.Sprintf("the API key is sent over plain HTTP to %s; use https", gs.Name()))
			}
		}
		d.secrets = append(d.secrets, cfg.APIKey)
	}
	d.invalidNote = "graphsignal sends nothing there"
	oc, err := otlpexport.FromEnv(environ, cfg.OTLPEndpoint)
	if err != nil {
		d.invalid = append(d.invalid, fmt.Sprintf("OTLP: %v", err))
		if userOTLPEndpoint(environ) {
			d.invalidNote += "; the program's own OpenTelemetry data goes there directly, unrecorded"
		}
		return d
	}
	d.secrets = append(d.secrets, oc.Secrets()...)
	if !oc.Enabled() {
		return d
	}
	d.settings = oc.Describe
	ox, err := otlpexport.New(oc)
	if err != nil {
		d.invalid = append(d.invalid, fmt.Sprintf("OTLP: %v", err))
		return d
	}
	d.senders = append(d.senders, ox)
	return d
}

// wantsDelivery reports, without building anything, whether a run may
// have a destination: a key, or an OTLP endpoint in the configuration or
// the environment.
func wantsDelivery(cfg *Config, environ []string) bool {
	return cfg.APIKey != "" || cfg.OTLPEndpoint != "" || userOTLPEndpoint(environ)
}

// userOTLPEndpoint reports whether the environment names an OTLP endpoint:
// where the program's own OpenTelemetry SDK would export without
// graphsignal.
func userOTLPEndpoint(environ []string) bool {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"} {
		if v, ok := env.Lookup(environ, name); ok && v != "" {
			return true
		}
	}
	return false
}

// routeOTLP reports whether the program's OpenTelemetry exporters are
// pointed at the run's intake (docs/intake.md): always, except when the
// environment names an OTLP endpoint that graphsignal cannot export to
// itself (a setting it refuses): then the program keeps exporting there
// directly, as without graphsignal, rather than only into the local store.
func routeOTLP(cfg *Config, environ []string) bool {
	if !userOTLPEndpoint(environ) {
		return true
	}
	_, err := otlpexport.FromEnv(environ, cfg.OTLPEndpoint)
	return err == nil
}

// delivery streams one run's journal to the configured destinations. All
// its methods are safe on a nil *delivery (no destination, or a nested
// run, which reports through the enclosing run).
type delivery struct {
	cfg     *Config
	environ []string
	journal string
	stderr  io.Writer
	spool   *spool.Dir

	prepOnce sync.Once
	dests    destinations
	expected []upload.Sender // those whose Expect succeeded

	mu       sync.Mutex
	shippers []*upload.Shipper
	cancel   context.CancelFunc
	started  chan struct{} // closed once the Shippers run (or none will)
	stopped  bool
	closed   bool // the run's journal is closed (or was never created)
}

// newDelivery returns the delivery of the run whose journal is named
// journal, or nil when it has no destination or is nested.
func newDelivery(cfg *Config, environ []string, journal string, stderr io.Writer) *delivery {
	if isNested(environ) || !wantsDelivery(cfg, environ) {
		return nil
	}
	return &delivery{cfg: cfg, environ: environ, journal: journal,
		stderr: stderr, spool: spool.Open(cfg.DataDir), started: make(chan struct{})}
}

// prepare builds the Senders and expects the run's journal for each; it
// runs once, in the pipeline's worker, just before the journal is created.
func (d *delivery) prepare() {
	if d == nil {
		return
	}
	d.prepOnce.Do(func() {
		d.dests = configuredDestinations(d.cfg, d.environ)
		d.dests.print(d.stderr, d.cfg.Debug)
		for _, s := range d.dests.senders {
			if err := d.spool.Expect(s.Name(), d.journal); err != nil {
				fmt.Fprintf(d.stderr, "graphsignal: warning: %s: %v (this run is not sent there)\n", s.Name(), err)
				continue
			}
			d.expected = append(d.expected, s)
		}
	})
}

// opener wraps the journal's opener: the destinations expect the journal
// before it exists, each append kicks the Shippers, and its close tells
// them at once (so that the exit's flush never waits to find it out).
func (d *delivery) opener(open func(context.Context) (pipeline.Exporter, error)) func(context.Context) (pipeline.Exporter, error) {
	if d == nil {
		return open
	}
	return func(ctx context.Context) (pipeline.Exporter, error) {
		d.prepare()
		e, err := open(ctx)
		if err != nil {
			return nil, err
		}
		return kickingExporter{Exporter: e, kick: d.kick, closed: d.journalClosed}, nil
	}
}

// kickingExporter kicks the Shippers after each append to the journal and
// tells them once it is closed.
type kickingExporter struct {
	pipeline.Exporter
	kick   func()
	closed func()
}

func (k kickingExporter) Export(ctx context.Context, b telemetry.Batch) error {
	err := k.Exporter.Export(ctx, b)
	k.kick()
	return err
}

func (k kickingExporter) Close() error {
	var err error
	if c, ok := k.Exporter.(io.Closer); ok {
		err = c.Close()
	}
	k.closed()
	return err
}

// shipperStartDelay holds the Shippers' first request (and connection)
// while the child starts: on a busy machine it would take CPU from the
// child's exec, and a short run would pay for an early request as well as
// for the final one. Measured with bench/upload-overhead.sh on a 2-vCPU VM
// under load: `run -- true` with a reachable destination costs 2-3 ms less
// with it (docs/upload.md, "Streaming while the run goes on").
const shipperStartDelay = 25 * time.Millisecond

// start starts a Shipper per destination in the background; the run calls
// it once the child has started, so that nothing of it delays the child.
func (d *delivery) start(ctx context.Context) {
	if d == nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	d.mu.Lock()
	d.cancel = cancel
	d.mu.Unlock()
	go func() { // ends once the Shippers are started; flush and stop wait for it
		defer close(d.started)
		d.prepare()
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.stopped {
			return
		}
		for _, snd := range d.expected {
			s, err := upload.New(upload.Config{Sender: snd, Spool: d.spool, Live: d.journal, StartDelay: shipperStartDelay,
				Stderr: d.stderr, Debug: d.cfg.Debug, Secrets: d.dests.secrets})
			if err != nil {
				continue
			}
			if d.closed {
				s.LiveClosed()
			}
			s.Start(ctx)
			d.shippers = append(d.shippers, s)
		}
	}()
}

func (d *delivery) kick() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.shippers {
		s.Kick()
	}
}

// journalClosed tells the Shippers that the run's journal is closed, or
// will never be written: their flush sends the rest at once. The run calls
// it once its pipeline is shut down (the journal exporter's Close calls it
// first); it is safe to call more than once.
func (d *delivery) journalClosed() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	for _, s := range d.shippers {
		s.LiveClosed()
	}
}

// destinationResult is what one destination got of the run.
type destinationResult struct {
	stats   upload.Stats
	flush   error          // nil when the run's journal was wholly delivered
	pending upload.Pending // what is left for the destination, all runs (measurePending)
}

// flush sends what remains of the run's journal to every destination at
// once, within ctx (the flush timeout), stops the Shippers and returns
// what each destination got. It returns by ctx's deadline whatever the
// destinations do.
func (d *delivery) flush(ctx context.Context) []destinationResult {
	if d == nil {
		return nil
	}
	select {
	case <-d.started:
	case <-ctx.Done():
	}
	d.mu.Lock()
	shippers := d.shippers
	d.mu.Unlock()
	errs := make([]error, len(shippers))
	var wg sync.WaitGroup
	for i, s := range shippers {
		wg.Go(func() { errs[i] = s.Flush(ctx) })
	}
	wg.Wait()
	d.stop()
	out := make([]destinationResult, len(shippers))
	for i, s := range shippers {
		out[i] = destinationResult{stats: s.Stats(), flush: errs[i]}
	}
	return out
}

// measurePending fills in what is left pending for each destination, for
// the summary and --debug: it lists the destination's cursors, whose
// delivered markers are kept for a month, so a run that prints neither
// does not pay for it at exit.
func (d *delivery) measurePending(results []destinationResult) {
	if d == nil {
		return
	}
	for i := range results {
		results[i].pending, _ = upload.PendingOf(d.spool, results[i].stats.Destination)
	}
}

// stop cancels what is in flight and joins the Shippers. It is safe to
// call more than once.
func (d *delivery) stop() {
	if d == nil {
		return
	}
	d.mu.Lock()
	d.stopped = true
	cancel := d.cancel
	shippers := d.shippers
	d.mu.Unlock()
	if cancel == nil {
		return // never started
	}
	cancel()
	<-d.started
	for _, s := range shippers {
		s.Stop()
	}
	for _, snd := range d.expected {
		if c, ok := snd.(interface{ CloseIdleConnections() }); ok {
			c.CloseIdleConnections()
		}
	}
}

// printDelivery writes one summary line per destination: what was
// delivered and what is pending.
func printDelivery(w io.Writer, results []destinationResult) {
	for _, r := range results {
		fmt.Fprintf(w, "graphsignal: %s: %s\n", r.stats.Destination, describeDelivery(r))
	}
}

func describeDelivery(r destinationResult) string {
	var parts []string
	parts = append(parts, report.Plural(int(r.stats.Records), "record")+" delivered")
	if r.stats.Rejected > 0 {
		parts = append(parts, fmt.Sprintf("%d rejected", r.stats.Rejected))
	}
	if r.stats.Dropped > 0 {
		parts = append(parts, fmt.Sprintf("%d dropped", r.stats.Dropped))
	}
	if r.pending.Journals > 0 {
		why, next := "", "graphsignal upload sends them"
		switch {
		case r.stats.Permanent:
			// Sending again changes nothing until the key, the
			// certificate or the endpoint is put right.
			why, next = "refused", "fix the cause, then graphsignal upload sends them"
		case errors.Is(r.flush, context.DeadlineExceeded) && r.stats.LastError != "":
			why = "flush timeout; last error: " + lastError(r)
		case errors.Is(r.flush, context.DeadlineExceeded):
			why = "flush timeout"
		case r.stats.LastError != "":
			why = lastError(r)
		}
		p := fmt.Sprintf("pending: %s in %s", report.Bytes(r.pending.Bytes), report.Plural(r.pending.Journals, "journal"))
		if why != "" {
			p += " (" + why + ")"
		}
		parts = append(parts, p+"; "+next)
	}
	return strings.Join(parts, " · ")
}

// warnUndelivered says, when no summary is shown, that part of this run
// stays pending for a destination (a permanent refusal has said so
// already).
func warnUndelivered(w io.Writer, results []destinationResult, flushTimeout fmt.Stringer) {
	for _, r := range results {
		if r.flush == nil || r.stats.Permanent {
			continue
		}
		fmt.Fprintf(w, "graphsignal: warning: %s: this run was not wholly delivered within the flush timeout of %v (%s); it is kept locally and sent by the next run or graphsignal upload\n",
			r.stats.Destination, flushTimeout, reasonOf(r))
	}
}

func reasonOf(r destinationResult) string {
	if r.stats.LastError != "" {
		return lastError(r)
	}
	return "no answer"
}

// lastError is the destination's last error without the destination,
// which the line that shows it names already.
func lastError(r destinationResult) string {
	msg := r.stats.LastError
	for _, prefix := range []string{"upload to " + r.stats.Destination + " failed: ", "upload to " + r.stats.Destination + ": "} {
		msg = strings.TrimPrefix(msg, prefix)
	}
	return msg
}

// flushDelivery starts dl's flush within ctx and returns the wait for its
// results.
func flushDelivery(ctx context.Context, dl *delivery) func() []destinationResult {
	if dl == nil {
		return func() []destinationResult { return nil }
	}
	var out []destinationResult
	done := make(chan struct{})
	go func() { // joined by the returned function
		defer close(done)
		out = dl.flush(ctx)
	}()
	return func() []destinationResult {
		<-done
		return out
	}
}

// printDeliveryDebug writes every destination's counters, for --debug.
func printDeliveryDebug(w io.Writer, results []destinationResult) {
	for _, r := range results {
		s := r.stats
		fmt.Fprintf(w, "graphsignal: upload: %s: delivered=%d requests=%d bytes=%d failed=%d rejected=%d dropped=%d pending_journals=%d pending_bytes=%d last_error=%q\n",
			s.Destination, s.Records, s.Requests, s.Bytes, s.Failed, s.Rejected, s.Dropped, r.pending.Journals, r.pending.Bytes, s.LastError)
	}
}
