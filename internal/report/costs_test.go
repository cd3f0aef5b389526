package report

import (
	"bytes"
	"testing"

	"github.com/graphsignal/graphsignal/internal/pricing"
)

// fixtureCosts prices three models' usage by two users and one without
// one: gpt-4o for alice, Claude with cache reads and writes for bob, and a
// model without a price.
func fixtureCosts(by string) *Costs {
	table, err := pricing.Builtin().With(map[string]pricing.Price{"gpt-4o": {Input: 2, Output: 8}})
	if err != nil {
		panic(err)
	}
	type use struct {
		model, provider, user string
		spans                 int
		tokens                pricing.Tokens
	}
	uses := []use{
		{"gpt-4o-2024-08-06", "openai", "alice", 3, pricing.Tokens{Input: 12000, Output: 3400, CacheRead: 2000}},
		{"claude-3-5-sonnet-20241022", "anthropic", "bob", 2, pricing.Tokens{Input: 1500, Output: 700, CacheRead: 40000, CacheCreation: 2000}},
		{"local-llama", "", "", 1, pricing.Tokens{Input: 800, Output: 200}},
	}
	lines := make([]pricing.Line, len(uses))
	for i, u := range uses {
		group := u.model
		if by == "user" {
			group = u.user
		}
		lines[i] = pricing.Line{Group: group, Model: u.model, Provider: u.provider, Spans: u.spans, Tokens: u.tokens}
	}
	return &Costs{Session: "s-42", Sessions: 1, By: by, Summary: table.Summarize(lines, by == "model")}
}

func TestCostsGolden(t *testing.T) {
	text := Options{}
	jsonOpts := Options{Format: JSON}
	users := fixtureCosts("user")
	users.Session, users.Sessions = "", 3
	tests := []struct {
		name  string
		costs *Costs
		opts  Options
	}{
		{"costs_model.txt", fixtureCosts("model"), text},
		{"costs_model.json", fixtureCosts("model"), jsonOpts},
		{"costs_user.txt", users, text},
		{"costs_user.json", users, jsonOpts},
		{"costs_empty.txt", &Costs{Session: "s-1", Sessions: 1, By: "deployment"}, text},
		{"costs_empty.json", &Costs{Session: "s-1", Sessions: 1, By: "deployment"}, jsonOpts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := CostsReport(&b, tt.costs, tt.opts); err != nil {
				t.Fatalf("CostsReport = %v", err)
			}
			golden(t, tt.name, b.Bytes())
		})
	}
}

func TestCostsWriteError(t *testing.T) {
	for _, opts := range []Options{{}, {Format: JSON}} {
		if err := CostsReport(&failWriter{}, fixtureCosts("model"), opts); err == nil {
			t.Errorf("CostsReport(format %v) to a failing writer = nil error, want one", opts.Format)
		}
	}
}
