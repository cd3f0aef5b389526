package cli

import (
	"context"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/graphsignal/graphsignal/internal/pricing"
	"github.com/graphsignal/graphsignal/internal/report"
	"github.com/graphsignal/graphsignal/internal/store"
)

// Dimensions a cost report totals by (--by).
const (
	byModel      = "model"
	byUser       = "user"
	byDeployment = "deployment"
)

// resolvePrices reads the config file's prices map (README, "Costs"):
// model name to {input, output, cached_input, cache_write}, USD per 1M
// tokens. Anything else is a usage error.
func resolvePrices(v *viper.Viper, file string) (map[string]pricing.Price, error) {
	if file == "" || !v.IsSet("prices") {
		return nil, nil
	}
	m, ok := v.Get("prices").(map[string]any)
	if !ok {
		return nil, usageErrorf("config file %s: prices: want a map of model: {input: USD, output: USD, cached_input: USD} per 1M tokens", file)
	}
	out := make(map[string]pricing.Price, len(m))
	for model, val := range m {
		fields, ok := val.(map[string]any)
		if !ok {
			return nil, usageErrorf("config file %s: prices: %q: want {input: USD, output: USD, cached_input: USD} per 1M tokens", file, model)
		}
		var p pricing.Price
		for k, f := range fields {
			var n float64
			switch x := f.(type) {
			case int:
				n = float64(x)
			case int64:
				n = float64(x)
			case float64:
				n = x
			default:
				return nil, usageErrorf("config file %s: prices: %s.%s: want a number (USD per 1M tokens)", file, model, k)
			}
			switch k {
			case "input":
				p.Input = n
			case "output":
				p.Output = n
			case "cached_input":
				p.CachedInput = n
			case "cache_write":
				p.CacheWrite = n
			default:
				return nil, usageErrorf("config file %s: prices: %s: unknown field %q (want input, output, cached_input, cache_write)", file, model, k)
			}
		}
		out[model] = p
	}
	if _, err := pricing.Builtin().With(out); err != nil {
		return nil, usageErrorf("config file %s: prices: %w", file, err)
	}
	return out, nil
}

// costsBy reads --by: "" when not given, else a dimension that allowed
// lists.
func costsBy(cmd *cobra.Command, allowed ...string) (string, error) {
	by, _ := cmd.Flags().GetString("by")
	if by == "" {
		return "", nil
	}
	for _, a := range allowed {
		if by == a {
			return by, nil
		}
	}
	return "", usageErrorf("--by %q: want one of %v", by, allowed)
}

// priceTable is the built-in price table with the config file's prices
// applied. The configuration was resolved once already, its warnings given.
func priceTable(cmd *cobra.Command, environ []string) (*pricing.Table, error) {
	configFlag, _ := cmd.Flags().GetString("config")
	cfg, _, err := resolveConfig(cmd.Flags(), environ, configFlag, false)
	if cfg == nil {
		return nil, err
	}
	return pricing.Builtin().With(cfg.Prices)
}

// writeCosts totals the token usage of scope by c.By, prices it and
// writes the report.
func writeCosts(ctx context.Context, cmd *cobra.Command, environ []string, st *store.Store, scope store.UsageScope,
	c *report.Costs, w io.Writer, opts report.Options) error {
	if err := priceCosts(ctx, cmd, environ, st, scope, c); err != nil {
		return err
	}
	return report.CostsReport(w, c, opts)
}

// priceCosts totals the token usage of scope by c.By and prices it into
// c.Summary and c.Truncated.
func priceCosts(ctx context.Context, cmd *cobra.Command, environ []string, st *store.Store, scope store.UsageScope,
	c *report.Costs) error {
	table, err := priceTable(cmd, environ)
	if err != nil {
		return err
	}
	totals, err := st.TokenUsage(ctx, scope)
	if err != nil {
		return fmt.Errorf("costs: %w", err)
	}
	lines := make([]pricing.Line, 0, len(totals.Usage))
	for _, u := range totals.Usage {
		group := u.Model
		switch c.By {
		case byUser:
			group = u.User
		case byDeployment:
			group = u.Deployment
		}
		lines = append(lines, pricing.Line{Group: group, Model: u.Model, Provider: u.Provider, Spans: u.Spans,
			Tokens: pricing.Tokens{Input: u.Input, Output: u.Output, CacheRead: u.CacheRead, CacheCreation: u.CacheCreation}})
	}
	c.Summary = table.Summarize(lines, c.By == byModel)
	c.Truncated = totals.Truncated
	return nil
}

// sessionCosts are the costs of session id by model, for its HTML page.
func sessionCosts(ctx context.Context, cmd *cobra.Command, environ []string, st *store.Store, id string) (*report.Costs, error) {
	costs := &report.Costs{Session: id, Sessions: 1, By: byModel}
	if err := priceCosts(ctx, cmd, environ, st, store.UsageScope{Sessions: []string{id}}, costs); err != nil {
		return nil, err
	}
	return costs, nil
}

// showCosts writes `show SESSION --by BY`: the session's costs.
func showCosts(cmd *cobra.Command, environ []string, st *store.Store, session, by string, streams *IOStreams) error {
	c := &report.Costs{Session: session, Sessions: 1, By: by}
	return writeCosts(cmd.Context(), cmd, environ, st, store.UsageScope{Sessions: []string{session}}, c,
		streams.Out, reportOptions(cmd, streams))
}

// sessionsCosts writes `sessions --by BY`: the costs of the sessions
// listed, of the --user and --deployment given only.
func sessionsCosts(cmd *cobra.Command, environ []string, st *store.Store, sessions []store.SessionSummary,
	f store.SessionFilter, by string, streams *IOStreams) error {
	ids := make([]string, len(sessions))
	for i, s := range sessions {
		ids[i] = s.ID
	}
	sort.Strings(ids)
	c := &report.Costs{Sessions: len(ids), By: by}
	scope := store.UsageScope{Sessions: ids, User: f.User, Deployment: f.Deployment}
	return writeCosts(cmd.Context(), cmd, environ, st, scope, c, streams.Out, reportOptions(cmd, streams))
}
