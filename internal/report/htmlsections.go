package report

import (
	"strconv"
	"strings"

	"github.com/graphsignal/graphsignal/internal/pricing"
	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// The HTML report's session-wide parts beyond errors and scores: the
// anomalies, the costs, the errors by type and the logs, as text's
// sections of the same names say them.

type (
	htmlAnomaly struct {
		Kind, Reason, Run, Trace, Span string
		// URL is the trace's page (Options.TraceURL), empty in a file.
		URL string
	}

	// htmlCosts is CostsReport's table: a row per group, then a total
	// when there are several.
	htmlCosts struct {
		// Head names the groups' column ("Model").
		By, Head, AsOf string
		// ByModel says the rows are models: they have a provider and
		// say what they were priced as.
		ByModel bool
		// CacheWrite says a column of cache-write tokens is drawn.
		CacheWrite bool
		Rows       []htmlCostRow
		// Unpriced counts the tokens of models without a price, "" for
		// none; Truncated says the store read only part of the usage.
		Unpriced  string
		Truncated bool
	}

	htmlCostRow struct {
		Name, Provider, Spans, Input, Output, Cached, CacheWrite, Cost, Share, PricedAs string
		Total                                                                           bool
	}

	htmlErrorGroup struct {
		Count, Kind, Type, Summary, Message string
	}

	htmlLogLine struct {
		Time, Level, Span, Summary, Message string
		// URL is the span's trace's page (Options.TraceURL), empty in a
		// file.
		URL string
	}
)

// anomaliesHTML describes what detectAnomalies finds in d, in its order,
// each with the run it concerns, numbered as in ordered (the page's runs).
func anomaliesHTML(d *store.SessionDetail, ordered []*store.Run, link func(telemetry.TraceID) string) []htmlAnomaly {
	as := detectAnomalies(d, d.History)
	out := make([]htmlAnomaly, 0, len(as))
	for i := range as {
		a := &as[i]
		h := htmlAnomaly{Kind: AnomalyKind(a), Reason: AnomalyReason(a), Run: "-", Trace: "-", Span: "-"}
		if n := runOfAnomaly(ordered, a.RunID, a.SpanID, a.TraceID); n >= 0 {
			h.Run = "Run " + strconv.Itoa(n+1) + ": " + ordered[n].Name
		}
		if !a.TraceID.IsZero() {
			h.Trace = a.TraceID.String()
			if link != nil {
				h.URL = link(a.TraceID)
			}
		}
		if !a.SpanID.IsZero() {
			h.Span = a.SpanID.String()
		}
		out = append(out, h)
	}
	return out
}

// runOfAnomaly is the index in runs of the run an anomaly names: by its run
// span, its run id, or its trace; -1 for none (an error burst).
func runOfAnomaly(runs []*store.Run, runID string, span telemetry.SpanID, trace telemetry.TraceID) int {
	for i, r := range runs {
		if (!span.IsZero() && r.SpanID == span) || (runID != "" && r.RunID == runID) {
			return i
		}
	}
	for i, r := range runs {
		if !trace.IsZero() && r.TraceID == trace {
			return i
		}
	}
	return -1
}

// costsHTML is c's table as costsText draws it; nil for no usage.
func costsHTML(c *Costs) *htmlCosts {
	if c == nil || len(c.Summary.Rows) == 0 {
		return nil
	}
	h := &htmlCosts{By: c.By, Head: "Group", AsOf: pricing.AsOf, ByModel: c.By == "model",
		CacheWrite: c.Summary.Total.Tokens.CacheCreation > 0, Truncated: c.Truncated}
	if c.By != "" {
		h.Head = strings.ToUpper(c.By[:1]) + c.By[1:]
	}
	row := func(name string, r *pricing.Row) htmlCostRow {
		return htmlCostRow{Name: name, Provider: orDash(r.Provider), Spans: strconv.Itoa(r.Spans),
			Input: Number(r.Tokens.Input), Output: Number(r.Tokens.Output), Cached: Number(r.Tokens.CacheRead),
			CacheWrite: Number(r.Tokens.CacheCreation), Cost: CostText(r), Share: share(r), PricedAs: orDash(r.PricedAs)}
	}
	for i := range c.Summary.Rows {
		r := &c.Summary.Rows[i]
		name := r.Group
		switch {
		case name == "" && h.ByModel:
			name = "(unknown)"
		case name == "":
			name = "(none)"
		}
		h.Rows = append(h.Rows, row(name, r))
	}
	if len(c.Summary.Rows) > 1 {
		total := row("Total", &c.Summary.Total)
		total.Provider, total.PricedAs, total.Total = "", "", true
		h.Rows = append(h.Rows, total)
	}
	if n := c.Summary.Total.UnpricedTokens; n > 0 {
		h.Unpriced = Number(n)
	}
	return h
}

// errorGroupsHTML describes the session's errors by type, as
// errorGroupsText does, every one the store gives (store.MaxErrorGroups).
func errorGroupsHTML(groups []store.ErrorGroup) []htmlErrorGroup {
	out := make([]htmlErrorGroup, 0, len(groups))
	for _, g := range groups {
		msg := cutHeadTo(g.Message, maxHTMLLogMessage)
		out = append(out, htmlErrorGroup{Count: strconv.Itoa(g.Count), Kind: g.Kind, Type: orDash(g.Type),
			Summary: firstLine(msg), Message: msg})
	}
	return out
}

// logLinesHTML describes the session's logs and span exceptions, newest
// first, as logLinesText does, every one the store gives
// (store.MaxLogLines); each span is linked to its trace's page when link
// is not nil.
func logLinesHTML(lines []store.LogLine, opts Options) []htmlLogLine {
	out := make([]htmlLogLine, 0, len(lines))
	for _, l := range lines {
		level, msg := logLineText(&l)
		msg = cutHeadTo(msg, maxHTMLLogMessage)
		h := htmlLogLine{Time: when(l.Time, opts), Level: orDash(level), Span: orDash(l.SpanName),
			Summary: firstLine(msg), Message: msg}
		if opts.TraceURL != nil && !l.TraceID.IsZero() {
			h.URL = opts.TraceURL(l.TraceID)
		}
		out = append(out, h)
	}
	return out
}
