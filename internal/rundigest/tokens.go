package rundigest

import (
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// maxModels bounds the models whose token usage is kept apart; the tokens
// of further models are kept under no model (they have no price).
const maxModels = 100

// ModelTokens is the token usage of one model's spans.
type ModelTokens struct {
	// Model is the spans' gen_ai.response.model attribute, else
	// gen_ai.request.model, else their model attribute, else their model
	// tag; "" when none (as the store's TokenUsage).
	Model string
	// Spans counts the spans that report tokens.
	Spans                                   int
	Input, Output, CacheRead, CacheCreation float64
}

// tokenAttrs are the GenAI semantic conventions' attributes of each
// priced kind of token, the first one found counting.
var tokenAttrs = [...]struct {
	kind  string
	names []string
}{
	{telemetry.TokensInput, []string{"gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"}},
	{telemetry.TokensOutput, []string{"gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"}},
	{telemetry.TokensCacheRead, []string{"gen_ai.usage.cache_read.input_tokens"}},
	{telemetry.TokensCacheCreation, []string{"gen_ai.usage.cache_creation.input_tokens"}},
}

// spanTokens returns sp's token counts by kind, as the store counts them:
// its usage counters (by Usage.TokenKind), and for each priced kind that
// no counter gives, its GenAI attribute. Negative counts count 0.
func spanTokens(sp *telemetry.Span) map[string]float64 {
	var out map[string]float64
	add := func(kind string, v float64) {
		if out == nil {
			out = map[string]float64{}
		}
		out[kind] += max(v, 0)
	}
	for _, u := range sp.Usage {
		if k := u.TokenKind(); k != "" {
			add(k, u.Value)
		}
	}
	for _, ta := range tokenAttrs {
		if _, counted := out[ta.kind]; counted {
			continue
		}
		for _, name := range ta.names {
			if v, ok := number(sp.Attributes[name]); ok {
				add(ta.kind, v)
				break
			}
		}
	}
	return out
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	return 0, false
}

// spanModel is the model sp used (see ModelTokens.Model).
func spanModel(sp *telemetry.Span) string {
	for _, k := range []string{"gen_ai.response.model", "gen_ai.request.model", "model"} {
		if s, ok := sp.Attributes[k].(string); ok && s != "" {
			return s
		}
	}
	return sp.Tags["model"]
}

// addTokens counts sp's tokens in the totals and under its model.
func (d *Digest) addTokens(sp *telemetry.Span) {
	tokens := spanTokens(sp)
	if len(tokens) == 0 {
		return
	}
	for k, v := range tokens {
		d.sum.Tokens[k] += v
	}
	model := spanModel(sp)
	i, ok := d.modelIdx[model]
	if !ok {
		if len(d.models) >= maxModels {
			model = ""
		}
		if i, ok = d.modelIdx[model]; !ok {
			i = len(d.models)
			d.modelIdx[model] = i
			d.models = append(d.models, ModelTokens{Model: model})
		}
	}
	m := &d.models[i]
	m.Spans++
	m.Input += tokens[telemetry.TokensInput]
	m.Output += tokens[telemetry.TokensOutput]
	m.CacheRead += tokens[telemetry.TokensCacheRead]
	m.CacheCreation += tokens[telemetry.TokensCacheCreation]
}
