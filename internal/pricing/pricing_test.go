package pricing

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestLookup(t *testing.T) {
	table := Builtin()
	tests := []struct {
		model, want string
	}{
		{"gpt-4o", "gpt-4o"},
		{"gpt-4o-2024-08-06", "gpt-4o"},
		{"gpt-4o-2024-05-13", "gpt-4o-2024-05-13"},
		{"GPT-4o-Mini", "gpt-4o-mini"},
		{"gpt-4o-mini-2024-07-18", "gpt-4o-mini"},
		{"gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"},
		{"gpt-4-0613", "gpt-4"},
		{"o1-mini-2024-09-12", "o1-mini"},
		{"o3-2025-04-16", "o3"},
		{"claude-3-5-sonnet-20241022", "claude-3-5-sonnet"},
		{"claude-3-5-sonnet@20240620", "claude-3-5-sonnet"},
		{"claude-sonnet-4-5-20250929", "claude-sonnet-4-5"},
		{"claude-sonnet-4-20250514", "claude-sonnet-4"},
		{"claude-opus-4-1-20250805", "claude-opus-4-1"},
		{"anthropic/claude-3-haiku", "claude-3-haiku"},
		{"us.anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-3-7-sonnet"},
		{"openai/gpt-4o", "gpt-4o"},
		{"gemini-2.0-flash-001", "gemini-2.0-flash"},
		{"gemini-2.5-flash-lite", "gemini-2.5-flash-lite"},
		{"models/gemini-1.5-pro-002", "gemini-1.5-pro"},
		{"mistral-large-latest", "mistral-large"},
		{"  deepseek-chat ", "deepseek-chat"},
		// No match: not at a separator, unknown, empty.
		{"gpt-4.5", ""},
		{"gpt-4oo", ""},
		{"llama-3.1-8b", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, _, ok := table.Lookup(tt.model)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Lookup(%q) = %q, %v, want %q", tt.model, got, ok, tt.want)
		}
	}
}

func TestCost(t *testing.T) {
	openai := Price{Input: 2.5, Output: 10, CachedInput: 1.25}
	claude := Price{Input: 3, Output: 15, CachedInput: 0.3, CacheWrite: 3.75, CachedSeparate: true}
	tests := []struct {
		name   string
		price  Price
		tokens Tokens
		want   float64
	}{
		{"input and output", openai, Tokens{Input: 1e6, Output: 1e6}, 12.5},
		{"cache reads are part of input", openai, Tokens{Input: 1e6, CacheRead: 4e5}, 0.6*2.5 + 0.4*1.25},
		{"cache reads beyond input are apart", openai, Tokens{Input: 1e5, CacheRead: 4e5}, 0.1*2.5 + 0.4*1.25},
		{"separate cache reads and writes", claude, Tokens{Input: 1e6, CacheRead: 1e6, CacheCreation: 1e6, Output: 1e5},
			3 + 0.3 + 3.75 + 1.5},
		{"no cached price: input price", Price{Input: 1, Output: 2}, Tokens{Input: 1e6, CacheRead: 5e5, CacheCreation: 1e6}, 2},
		{"nothing", openai, Tokens{}, 0},
	}
	for _, tt := range tests {
		if got := tt.price.Cost(tt.tokens); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: %+v.Cost(%+v) = %v, want %v", tt.name, tt.price, tt.tokens, got, tt.want)
		}
	}
}

func TestWith(t *testing.T) {
	base := Builtin()
	table, err := base.With(map[string]Price{
		"My-Model":       {Input: 0.5, Output: 1.5, CachedInput: 0.05},
		"claude-3-haiku": {Input: 1, Output: 2},
	})
	if err != nil {
		t.Fatalf("With = %v", err)
	}
	tests := []struct {
		model, name string
		want        Price
	}{
		{"my-model-v2", "my-model", Price{Input: 0.5, Output: 1.5, CachedInput: 0.05}},
		{"claude-3-haiku-20240307", "claude-3-haiku", Price{Input: 1, Output: 2, CachedSeparate: true}},
		{"gpt-4o", "gpt-4o", Price{Input: 2.5, Output: 10, CachedInput: 1.25}},
	}
	for _, tt := range tests {
		name, p, ok := table.Lookup(tt.model)
		if !ok || name != tt.name || p != tt.want {
			t.Errorf("Lookup(%q) = %q, %+v, %v, want %q, %+v", tt.model, name, p, ok, tt.name, tt.want)
		}
	}
	if _, _, ok := base.Lookup("my-model"); ok {
		t.Errorf("With changed the table it was called on")
	}
	for _, bad := range []map[string]Price{{"x": {Input: -1}}, {"": {Input: 1}}, {"x": {Output: math.NaN()}}} {
		if _, err := base.With(bad); err == nil {
			t.Errorf("With(%v) = nil error, want one", bad)
		}
	}
}

func TestBuiltinPricesAreSane(t *testing.T) {
	for name, p := range builtin() {
		if p.Input <= 0 || p.Output < 0 || p.CachedInput < 0 || p.CachedInput > p.Input || p.CacheWrite < 0 {
			t.Errorf("builtin %q = %+v: want input > 0, output >= 0, 0 <= cached input <= input", name, p)
		}
	}
}

func TestSummarize(t *testing.T) {
	table, err := Builtin().With(map[string]Price{"local": {Input: 1, Output: 1}})
	if err != nil {
		t.Fatal(err)
	}
	lines := []Line{
		{Group: "alice", Model: "gpt-4o-2024-08-06", Provider: "openai", Spans: 2, Tokens: Tokens{Input: 1e6, Output: 1e5}},
		{Group: "alice", Model: "mystery", Spans: 1, Tokens: Tokens{Input: 500}},
		{Group: "bob", Model: "local", Spans: 3, Tokens: Tokens{Input: 1e6, Output: 1e6}},
		{Group: "carol", Model: "mystery", Spans: 1, Tokens: Tokens{Output: 7}},
	}
	got := table.Summarize(lines, false)
	total := 3.5 + 2
	want := Summary{
		Rows: []Row{
			{Group: "alice", Spans: 3, Tokens: Tokens{Input: 1e6 + 500, Output: 1e5}, Cost: 3.5, UnpricedTokens: 500, Share: 3.5 / total},
			{Group: "bob", Spans: 3, Tokens: Tokens{Input: 1e6, Output: 1e6}, Cost: 2, Share: 2 / total},
			{Group: "carol", Spans: 1, Tokens: Tokens{Output: 7}, UnpricedTokens: 7},
		},
		Total: Row{Spans: 7, Tokens: Tokens{Input: 2e6 + 500, Output: 1.1e6 + 7}, Cost: total, UnpricedTokens: 507, Share: 1},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("Summarize by user mismatch (-want +got):\n%s", diff)
	}
	if !got.Rows[0].Priced() || got.Rows[2].Priced() {
		t.Errorf("Priced() = %v, %v, want true, false", got.Rows[0].Priced(), got.Rows[2].Priced())
	}

	byModel := table.Summarize([]Line{
		{Group: "gpt-4o-2024-08-06", Model: "gpt-4o-2024-08-06", Provider: "openai", Spans: 1, Tokens: Tokens{Output: 1e6}},
		{Group: "mystery", Model: "mystery", Spans: 1, Tokens: Tokens{Output: 1e6}},
	}, true)
	if r := byModel.Rows[0]; r.PricedAs != "gpt-4o" || r.Provider != "openai" || r.Cost != 10 {
		t.Errorf("Summarize by model: first row = %+v, want gpt-4o pricing, provider openai, cost 10", r)
	}
	if r := byModel.Rows[1]; r.PricedAs != "" || r.Priced() {
		t.Errorf("Summarize by model: unknown model row = %+v, want no price", r)
	}
}
