package store

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// llmCalls writes a run of session s-1 whose program calls models for two
// users, reporting tokens as usage counters, GenAI attributes, both, or
// neither, and one call in session s-2.
func llmCalls(t *testing.T, s *Store) {
	t.Helper()
	run := runSpan("s-1", 0, time.Minute)
	call := func(session, user string, attrs map[string]any, usage ...telemetry.Usage) telemetry.Span {
		sp := childSpan(&run, "llm", time.Second, time.Second)
		sp.Tags[telemetry.TagSessionID] = session
		sp.Tags[telemetry.TagUserID] = user
		sp.Attributes, sp.Usage = attrs, usage
		return sp
	}
	tagged := call("s-1", "bob", map[string]any{"temperature": 0.2}, telemetry.Usage{Name: "output_tokens", Value: 4})
	tagged.Tags["model"] = "gpt-4o-mini"
	run.Attributes["gen_ai.usage.input_tokens"] = int64(1e6) // a run span: never counted
	write(t, s, telemetry.Batch{Spans: []telemetry.Span{
		run,
		// Both forms: counted once, from the counters.
		call("s-1", "alice", map[string]any{"gen_ai.request.model": "gpt-4o", "gen_ai.system": "openai",
			"gen_ai.usage.input_tokens": int64(100), "gen_ai.usage.output_tokens": int64(20)},
			telemetry.Usage{Name: "prompt_tokens", Value: 100}, telemetry.Usage{Name: "completion_tokens", Value: 20},
			telemetry.Usage{Name: "cached_tokens", Value: 40}),
		// Counters only, the official SDK's model attribute (a string).
		call("s-1", "alice", map[string]any{"model": "gpt-4o"},
			telemetry.Usage{PayloadName: "input", Name: "token_count", Value: 10},
			telemetry.Usage{PayloadName: "output", Name: "token_count", Value: 5},
			telemetry.Usage{Name: "span.duration", Value: 3}),
		// Attributes only; the response model wins; numbers as strings.
		call("s-1", "bob", map[string]any{"gen_ai.request.model": "claude-3-5-sonnet",
			"gen_ai.response.model": "claude-3-5-sonnet-20241022", "gen_ai.provider.name": "anthropic",
			"gen_ai.usage.prompt_tokens": "1000", "gen_ai.usage.completion_tokens": int64(50),
			"gen_ai.usage.cache_read.input_tokens": int64(200), "gen_ai.usage.cache_creation.input_tokens": 30.0}),
		// A counter for input, an attribute for output: both count.
		call("s-1", "bob", map[string]any{"gen_ai.response.model": "claude-3-5-sonnet-20241022", "gen_ai.provider.name": "anthropic",
			"gen_ai.usage.input_tokens": int64(999), "gen_ai.usage.output_tokens": int64(3)},
			telemetry.Usage{Name: "input_tokens", Value: 7}),
		// The model tag; a NaN counter (0 tokens, but a span that
		// reports them).
		tagged,
		call("s-1", "bob", map[string]any{"model": "gpt-4o-mini"}, telemetry.Usage{Name: "output_tokens", Value: math.NaN()}),
		// No tokens: not counted.
		call("s-1", "alice", map[string]any{"gen_ai.request.model": "gpt-4o", "gen_ai.usage.foo": "x"},
			telemetry.Usage{Name: "span.duration", Value: 3}),
		// No model.
		call("s-1", "carol", nil, telemetry.Usage{Name: "total_tokens", Value: 9}, telemetry.Usage{Name: "input_tokens", Value: 6}),
		// Another session.
		call("s-2", "alice", map[string]any{"gen_ai.request.model": "gpt-4o", "gen_ai.usage.output_tokens": int64(1)}),
	}})
}

func TestTokenUsage(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, t.TempDir())
	llmCalls(t, s)
	dep := "train"
	tests := []struct {
		name  string
		scope UsageScope
		want  []TokenUsage
	}{
		{"one session", UsageScope{Sessions: []string{"s-1"}}, []TokenUsage{
			{Model: "", User: "carol", Deployment: dep, Spans: 1, Input: 6},
			{Model: "claude-3-5-sonnet-20241022", Provider: "anthropic", User: "bob", Deployment: dep, Spans: 2,
				Input: 1007, Output: 53, CacheRead: 200, CacheCreation: 30},
			{Model: "gpt-4o", User: "alice", Deployment: dep, Spans: 1, Input: 10, Output: 5},
			{Model: "gpt-4o", Provider: "openai", User: "alice", Deployment: dep, Spans: 1, Input: 100, Output: 20, CacheRead: 40},
			{Model: "gpt-4o-mini", User: "bob", Deployment: dep, Spans: 2, Output: 4},
		}},
		{"two sessions, one user", UsageScope{Sessions: []string{"s-1", "s-2"}, User: "alice"}, []TokenUsage{
			{Model: "gpt-4o", User: "alice", Deployment: dep, Spans: 2, Input: 10, Output: 6},
			{Model: "gpt-4o", Provider: "openai", User: "alice", Deployment: dep, Spans: 1, Input: 100, Output: 20, CacheRead: 40},
		}},
		{"another deployment", UsageScope{Sessions: []string{"s-1"}, Deployment: "serve"}, nil},
		{"no session", UsageScope{}, nil},
		{"unknown session", UsageScope{Sessions: []string{"nosuch"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.TokenUsage(ctx, tt.scope)
			if err != nil {
				t.Fatalf("TokenUsage(%+v) = %v", tt.scope, err)
			}
			if got.Truncated {
				t.Errorf("TokenUsage(%+v) truncated", tt.scope)
			}
			if diff := cmp.Diff(tt.want, got.Usage); diff != "" {
				t.Errorf("TokenUsage(%+v) mismatch (-want +got):\n%s", tt.scope, diff)
			}
		})
	}
}

func TestTokenUsageClosed(t *testing.T) {
	s := openStore(t, t.TempDir())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TokenUsage(context.Background(), UsageScope{Sessions: []string{"s"}}); err == nil {
		t.Errorf("TokenUsage after Close = nil error, want one")
	}
}
