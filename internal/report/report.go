// Package report renders the results of the store's queries for people and
// scripts: `graphsignal sessions` and `graphsignal show`, as aligned text or
// as the stable JSON documented in docs/json.md.
//
// Rendering is pure: it reads its input, writes to the given io.Writer and
// returns the first write error. It starts no goroutines and keeps no state.
package report

import (
	"errors"
	"io"
	"time"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// SchemaVersion is the value of "schema_version" in the JSON output. It
// changes only when a field is removed or changes meaning; fields may be
// added within a version.
const SchemaVersion = 1

// Format selects the output form.
type Format int

// Output forms.
const (
	Text Format = iota
	JSON
)

// Options controls rendering.
type Options struct {
	Format Format
	// Terminal says the text goes to a terminal: metric sparklines are drawn
	// only then.
	Terminal bool
	// Location is the time zone of times in text output (default
	// time.Local). JSON times are always UTC.
	Location *time.Location
	// StderrLines is how many of the last stderr lines text output shows
	// per run (default 10). JSON carries the whole stored tail.
	StderrLines int
	// Deliveries says, for Show, where each run's records went among the
	// remote destinations; runs absent from it had none.
	Deliveries Deliveries
	// Costs are, for ShowHTML, the session's costs (by model, as
	// CostsReport writes them); nil or without usage, the page has no
	// Costs section.
	Costs *Costs
	// Selection describes, for Sessions, what was asked for when it is not
	// every session ("active within 1s", "of user alice"): an empty list
	// then says "No sessions " + Selection rather than that none were
	// recorded.
	Selection string
	// TraceURL, when not nil, gives the address of a trace's own page
	// (graphsignal ui, docs/ui.md): ShowHTML then links each waterfall's
	// trace id to it. A file report leaves it nil and links nothing.
	TraceURL func(telemetry.TraceID) string
}

func (o Options) loc() *time.Location {
	if o.Location == nil {
		return time.Local
	}
	return o.Location
}

func (o Options) stderrLines() int {
	if o.StderrLines <= 0 {
		return 10
	}
	return o.StderrLines
}

// Sessions writes the session list, newest first as given.
func Sessions(w io.Writer, sessions []store.SessionSummary, opts Options) error {
	if opts.Format == JSON {
		return writeJSON(w, sessionsDoc(sessions))
	}
	return sessionsText(w, sessions, opts)
}

// Show writes one session's detail. A nil d is an error.
func Show(w io.Writer, d *store.SessionDetail, opts Options) error {
	if d == nil {
		return errors.New("show: no session")
	}
	if opts.Format == JSON {
		return writeJSON(w, showDoc(d, opts.Deliveries))
	}
	return showText(w, d, opts)
}
