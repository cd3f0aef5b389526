package report

import (
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/graphsignal/graphsignal/internal/pricing"
)

// Costs is a cost report: the token usage of one session, or of a list of
// sessions, priced and totalled by one dimension.
type Costs struct {
	// Session is the session reported on, "" for a list of sessions.
	Session string
	// Sessions counts the sessions whose usage is totalled.
	Sessions int
	// By is what the rows total by: "model", "user" or "deployment".
	By      string
	Summary pricing.Summary
	// Truncated says the store read only part of the usage
	// (store.UsageTotals.Truncated).
	Truncated bool
}

// CostsReport writes a cost report: a table with a row per group and a
// total, or JSON (docs/json.md, "Costs").
func CostsReport(w io.Writer, c *Costs, opts Options) error {
	if opts.Format == JSON {
		return writeJSON(w, costsDoc(c))
	}
	return costsText(w, c)
}

func costsText(w io.Writer, c *Costs) error {
	ew := &errWriter{w: w}
	of := "session " + clean(c.Session)
	if c.Session == "" {
		of = Plural(c.Sessions, "session")
	}
	if len(c.Summary.Rows) == 0 {
		ew.printf("No token usage recorded in %s.\n", of)
		return ew.err
	}
	ew.printf("Costs of %s by %s (prices as of %s; set yours with prices: in the config file)\n\n", of, c.By, pricing.AsOf)
	byModel := c.By == "model"
	writes := c.Summary.Total.Tokens.CacheCreation > 0
	head := []string{strings.ToUpper(c.By)}
	if byModel {
		head = append(head, "PROVIDER")
	}
	head = append(head, "SPANS", "INPUT", "OUTPUT", "CACHED")
	if writes {
		head = append(head, "CACHE WRITE")
	}
	head = append(head, "COST", "SHARE")
	if byModel {
		head = append(head, "PRICED AS")
	}
	first := 1
	if byModel {
		first = 2
	}
	t := table{right: map[int]bool{}}
	for i := first; i < len(head); i++ {
		t.right[i] = head[i] != "PRICED AS"
	}
	t.add(head...)
	row := func(name, provider string, r *pricing.Row) {
		cells := []string{name}
		if byModel {
			cells = append(cells, provider)
		}
		cells = append(cells, strconv.Itoa(r.Spans), Number(r.Tokens.Input), Number(r.Tokens.Output), Number(r.Tokens.CacheRead))
		if writes {
			cells = append(cells, Number(r.Tokens.CacheCreation))
		}
		cells = append(cells, CostText(r), share(r))
		if byModel && r != &c.Summary.Total {
			cells = append(cells, orDash(r.PricedAs))
		}
		t.add(cells...)
	}
	for i := range c.Summary.Rows {
		r := &c.Summary.Rows[i]
		name := clean(r.Group)
		if name == "" {
			name = "(none)"
			if byModel {
				name = "(unknown)"
			}
		}
		row(name, orDash(clean(r.Provider)), r)
	}
	if len(c.Summary.Rows) > 1 {
		row("TOTAL", "", &c.Summary.Total)
	}
	ew.table(&t)
	if c.Summary.Total.UnpricedTokens > 0 {
		ew.printf("\n%s tokens of models without a known price are not in the costs.\n", Number(c.Summary.Total.UnpricedTokens))
	}
	if c.Truncated {
		ew.printf("\nThe totals are incomplete: too many groups of spans to read.\n")
	}
	return ew.err
}

// CostText is a row's cost in USD: cents for a dollar or more, else up
// to four decimals ($0.90, $0.0512); "price unknown" when none of its
// tokens has a price, marked "+" when some have none. The cost report and
// `graphsignal run`'s summaries say costs with it.
func CostText(r *pricing.Row) string {
	if !r.Priced() {
		return "price unknown"
	}
	s := USD(r.Cost)
	if r.UnpricedTokens > 0 {
		s += "+"
	}
	return s
}

// USD writes an amount of US dollars: cents for a dollar or more, else up
// to four decimals ($12.30, $0.90, $0.0512).
func USD(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if v < 1 {
		s = strings.TrimRight(strconv.FormatFloat(v, 'f', 4, 64), "0")
		if i := strings.IndexByte(s, '.'); len(s)-i < 3 {
			s += strings.Repeat("0", 3-(len(s)-i))
		}
	}
	return "$" + s
}

func share(r *pricing.Row) string {
	if !r.Priced() {
		return "-"
	}
	return strconv.FormatFloat(r.Share*100, 'f', 1, 64) + "%"
}

type (
	costsJSON struct {
		SchemaVersion int           `json:"schema_version"`
		SessionID     *string       `json:"session_id"`
		Sessions      int           `json:"sessions"`
		By            string        `json:"by"`
		PricesAsOf    string        `json:"prices_as_of"`
		Truncated     bool          `json:"truncated"`
		Rows          []costRowJSON `json:"rows"`
		Total         costTotalJSON `json:"total"`
	}

	costRowJSON struct {
		Key      *string `json:"key"`
		Provider *string `json:"provider"`
		PricedAs *string `json:"priced_as"`
		costTotalJSON
	}

	costTotalJSON struct {
		Spans               int      `json:"spans"`
		InputTokens         jsonNum  `json:"input_tokens"`
		OutputTokens        jsonNum  `json:"output_tokens"`
		CacheReadTokens     jsonNum  `json:"cache_read_tokens"`
		CacheCreationTokens jsonNum  `json:"cache_creation_tokens"`
		CostUSD             *jsonNum `json:"cost_usd"`
		UnpricedTokens      jsonNum  `json:"unpriced_tokens"`
		Share               jsonNum  `json:"share"`
	}
)

func costsDoc(c *Costs) costsJSON {
	doc := costsJSON{SchemaVersion: SchemaVersion, SessionID: sp(c.Session), Sessions: c.Sessions, By: c.By,
		PricesAsOf: pricing.AsOf, Truncated: c.Truncated, Rows: []costRowJSON{}, Total: costTotal(&c.Summary.Total)}
	for i := range c.Summary.Rows {
		r := &c.Summary.Rows[i]
		doc.Rows = append(doc.Rows, costRowJSON{Key: sp(r.Group), Provider: sp(r.Provider), PricedAs: sp(r.PricedAs),
			costTotalJSON: costTotal(r)})
	}
	return doc
}

func costTotal(r *pricing.Row) costTotalJSON {
	t := costTotalJSON{Spans: r.Spans, InputTokens: jsonNum(r.Tokens.Input), OutputTokens: jsonNum(r.Tokens.Output),
		CacheReadTokens: jsonNum(r.Tokens.CacheRead), CacheCreationTokens: jsonNum(r.Tokens.CacheCreation),
		UnpricedTokens: jsonNum(r.UnpricedTokens), Share: jsonNum(round(r.Share, 6))}
	if r.Priced() {
		cost := jsonNum(round(r.Cost, 9))
		t.CostUSD = &cost
	}
	return t
}

// round rounds v to digits decimals, so that sums print without float
// noise (0.0041 rather than 0.004100000000000001).
func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
