// Package pricing prices the token usage of model APIs: a built-in table
// of public per-token prices (prices.go: dated, with its sources), the
// matching of model names to it, overrides from the config file, and the
// cost of token counts and of their totals per model, user or deployment.
//
// It does no I/O and keeps no state: a *Table is read-only once built and
// safe for concurrent use.
package pricing

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Price is a model's price in USD per 1M tokens.
type Price struct {
	Input  float64
	Output float64
	// CachedInput prices input tokens read from the provider's prompt
	// cache; 0 prices them as Input.
	CachedInput float64
	// CacheWrite prices input tokens written to the prompt cache; 0
	// prices them as Input.
	CacheWrite float64
	// CachedSeparate says the provider counts cache reads apart from
	// input tokens (Anthropic). Otherwise cache reads are part of the
	// input count (OpenAI, Google, DeepSeek), and are priced at
	// CachedInput instead of Input.
	CachedSeparate bool
}

// Tokens are the token counts of one or more model calls, by kind
// (telemetry.Usage.TokenKind).
type Tokens struct {
	Input         float64
	Output        float64
	CacheRead     float64
	CacheCreation float64
}

// Add returns t plus o.
func (t Tokens) Add(o Tokens) Tokens {
	return Tokens{Input: t.Input + o.Input, Output: t.Output + o.Output,
		CacheRead: t.CacheRead + o.CacheRead, CacheCreation: t.CacheCreation + o.CacheCreation}
}

// Total is the sum of every kind.
func (t Tokens) Total() float64 { return t.Input + t.Output + t.CacheRead + t.CacheCreation }

// Cost is the price of t in USD. Cache reads are taken out of the input
// count unless p.CachedSeparate, or unless they exceed it (a producer that
// counts them apart); cache writes are always apart from it.
func (p Price) Cost(t Tokens) float64 {
	uncached := t.Input
	if !p.CachedSeparate && t.CacheRead <= t.Input {
		uncached -= t.CacheRead
	}
	cached, write := p.CachedInput, p.CacheWrite
	if cached == 0 {
		cached = p.Input
	}
	if write == 0 {
		write = p.Input
	}
	return (uncached*p.Input + t.CacheRead*cached + t.CacheCreation*write + t.Output*p.Output) / 1e6
}

// Table maps model names to prices.
type Table struct {
	prices map[string]Price // by lower-case name
}

// Builtin returns the built-in table (prices.go).
func Builtin() *Table { return &Table{prices: builtin()} }

// With returns a copy of t with overrides applied: each entry replaces
// the price of that name (case-insensitive) or adds one. An override of a
// built-in name keeps its CachedSeparate. A negative price is an error.
func (t *Table) With(overrides map[string]Price) (*Table, error) {
	c := &Table{prices: make(map[string]Price, len(t.prices)+len(overrides))}
	for k, p := range t.prices {
		c.prices[k] = p
	}
	for name, p := range overrides {
		k := strings.ToLower(strings.TrimSpace(name))
		if k == "" {
			return nil, fmt.Errorf("price of an empty model name")
		}
		for _, v := range []float64{p.Input, p.Output, p.CachedInput, p.CacheWrite} {
			if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("price of %q: want numbers of 0 or more (USD per 1M tokens)", name)
			}
		}
		if old, ok := t.prices[k]; ok {
			p.CachedSeparate = old.CachedSeparate
		}
		c.prices[k] = p
	}
	return c, nil
}

// Lookup returns the price of model and the table name it matched, or
// ok false. Names compare in lower case: first the name itself, then the
// longest table name it starts with that ends at a separator (-, _, @ or
// :), so gpt-4o-2024-08-06 is priced as gpt-4o and claude-3-5-sonnet@20240620
// as claude-3-5-sonnet, but gpt-4.5 not as gpt-4. A name with a routing
// prefix (openai/gpt-4o, us.anthropic.claude-3-5-sonnet-…) is tried again
// after each / and . of the prefix.
func (t *Table) Lookup(model string) (name string, p Price, ok bool) {
	m := strings.ToLower(strings.TrimSpace(model))
	for m != "" {
		if name, ok = t.match(m); ok {
			return name, t.prices[name], true
		}
		i := strings.IndexAny(m, "/.")
		if i < 0 {
			break
		}
		m = m[i+1:]
	}
	return "", Price{}, false
}

func (t *Table) match(m string) (string, bool) {
	if _, ok := t.prices[m]; ok {
		return m, true
	}
	best := ""
	for k := range t.prices {
		if len(k) > len(best) && len(k) < len(m) && strings.HasPrefix(m, k) && strings.IndexByte("-_@:", m[len(k)]) >= 0 {
			best = k
		}
	}
	return best, best != ""
}

// Line is the token usage of one model within one group (a model, a user,
// a deployment).
type Line struct {
	Group    string
	Model    string
	Provider string
	Spans    int
	Tokens   Tokens
}

// Row is a group's totals.
type Row struct {
	Group string
	// Provider is the group's provider when it is a model and its spans
	// named one.
	Provider string
	Spans    int
	Tokens   Tokens
	// Cost totals the priced tokens, in USD.
	Cost float64
	// UnpricedTokens counts the tokens of models without a price: a row
	// whose every token is unpriced has no cost ("price unknown").
	UnpricedTokens float64
	// PricedAs is the table name a model group was priced by, "" when it
	// has no price or the group is not a model.
	PricedAs string
	// Share is Cost's part of the total cost, 0 to 1.
	Share float64
}

// Priced reports whether any of the row's tokens has a price.
func (r *Row) Priced() bool { return r.UnpricedTokens < r.Tokens.Total() }

// Summary is the cost of token usage by group, costliest first.
type Summary struct {
	Rows  []Row
	Total Row
}

// Summarize prices lines with t and totals them by group. byModel says
// the groups are the lines' models, so that rows say what they were
// priced as. Rows go costliest first, then by tokens and name.
func (t *Table) Summarize(lines []Line, byModel bool) Summary {
	idx := map[string]int{}
	var s Summary
	for _, l := range lines {
		i, ok := idx[l.Group]
		if !ok {
			i = len(s.Rows)
			idx[l.Group] = i
			s.Rows = append(s.Rows, Row{Group: l.Group})
		}
		r := &s.Rows[i]
		r.Spans += l.Spans
		r.Tokens = r.Tokens.Add(l.Tokens)
		if r.Provider == "" && byModel {
			r.Provider = l.Provider
		}
		name, p, ok := t.Lookup(l.Model)
		if !ok {
			r.UnpricedTokens += l.Tokens.Total()
			continue
		}
		r.Cost += p.Cost(l.Tokens)
		if byModel {
			r.PricedAs = name
		}
	}
	for i := range s.Rows {
		r := &s.Rows[i]
		s.Total.Spans += r.Spans
		s.Total.Tokens = s.Total.Tokens.Add(r.Tokens)
		s.Total.Cost += r.Cost
		s.Total.UnpricedTokens += r.UnpricedTokens
	}
	for i := range s.Rows {
		if s.Total.Cost > 0 {
			s.Rows[i].Share = s.Rows[i].Cost / s.Total.Cost
		}
	}
	if s.Total.Cost > 0 {
		s.Total.Share = 1
	}
	slices.SortFunc(s.Rows, func(a, b Row) int {
		return cmp.Or(cmp.Compare(b.Cost, a.Cost), cmp.Compare(b.Tokens.Total(), a.Tokens.Total()),
			strings.Compare(a.Group, b.Group))
	})
	return s
}
