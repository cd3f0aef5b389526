package pricing

// AsOf is the date of the built-in prices.
const AsOf = "2025-11"

// Sources are the public pricing pages the built-in prices were read from,
// by provider. Prices change: a config file's prices map overrides and
// extends the table (README, "Costs").
var Sources = []string{
	"OpenAI: https://openai.com/api/pricing/",
	"Anthropic: https://platform.claude.com/docs/en/about-claude/pricing",
	"Google Gemini API: https://ai.google.dev/gemini-api/docs/pricing",
	"Mistral: https://mistral.ai/pricing#api-pricing",
	"DeepSeek: https://api-docs.deepseek.com/quick_start/pricing",
	"xAI: https://docs.x.ai/docs/models",
	"Cohere: https://cohere.com/pricing",
}

// builtin returns the built-in prices: standard (not batch or priority)
// tier, USD per 1M tokens, as of AsOf, from Sources. Where a provider
// prices long prompts higher (Gemini 2.5 Pro and Claude Sonnet 4 over
// 200k tokens), the table holds the lower tier. Keys are model names or
// families in lower case; a name is priced by its longest matching key
// (Table.Lookup).
func builtin() map[string]Price {
	// Anthropic reports cache reads and writes apart from input tokens
	// and prices a 5-minute cache write at 1.25 times input, a read at 0.1
	// (Claude Haiku 3 excepted: its prices are listed as they are).
	claude := func(in, out float64) Price {
		return Price{Input: in, Output: out, CachedInput: in / 10, CacheWrite: in * 1.25, CachedSeparate: true}
	}
	return map[string]Price{
		// OpenAI
		"gpt-5":                  {Input: 1.25, Output: 10, CachedInput: 0.125},
		"gpt-5-mini":             {Input: 0.25, Output: 2, CachedInput: 0.025},
		"gpt-5-nano":             {Input: 0.05, Output: 0.40, CachedInput: 0.005},
		"gpt-4.1":                {Input: 2, Output: 8, CachedInput: 0.50},
		"gpt-4.1-mini":           {Input: 0.40, Output: 1.60, CachedInput: 0.10},
		"gpt-4.1-nano":           {Input: 0.10, Output: 0.40, CachedInput: 0.025},
		"gpt-4.5-preview":        {Input: 75, Output: 150, CachedInput: 37.5},
		"gpt-4o":                 {Input: 2.50, Output: 10, CachedInput: 1.25},
		"gpt-4o-2024-05-13":      {Input: 5, Output: 15},
		"gpt-4o-mini":            {Input: 0.15, Output: 0.60, CachedInput: 0.075},
		"chatgpt-4o-latest":      {Input: 5, Output: 15},
		"gpt-4-turbo":            {Input: 10, Output: 30},
		"gpt-4":                  {Input: 30, Output: 60},
		"gpt-3.5-turbo":          {Input: 0.50, Output: 1.50},
		"o1":                     {Input: 15, Output: 60, CachedInput: 7.50},
		"o1-mini":                {Input: 1.10, Output: 4.40, CachedInput: 0.55},
		"o1-pro":                 {Input: 150, Output: 600},
		"o3":                     {Input: 2, Output: 8, CachedInput: 0.50},
		"o3-mini":                {Input: 1.10, Output: 4.40, CachedInput: 0.55},
		"o3-pro":                 {Input: 20, Output: 80},
		"o4-mini":                {Input: 1.10, Output: 4.40, CachedInput: 0.275},
		"text-embedding-3-small": {Input: 0.02},
		"text-embedding-3-large": {Input: 0.13},
		"text-embedding-ada-002": {Input: 0.10},

		// Anthropic
		"claude-opus-4-5":   claude(5, 25),
		"claude-opus-4-1":   claude(15, 75),
		"claude-opus-4":     claude(15, 75),
		"claude-sonnet-4-5": claude(3, 15),
		"claude-sonnet-4":   claude(3, 15),
		"claude-haiku-4-5":  claude(1, 5),
		"claude-3-7-sonnet": claude(3, 15),
		"claude-3-5-sonnet": claude(3, 15),
		"claude-3-5-haiku":  claude(0.80, 4),
		"claude-3-opus":     claude(15, 75),
		"claude-3-haiku":    {Input: 0.25, Output: 1.25, CachedInput: 0.03, CacheWrite: 0.30, CachedSeparate: true},

		// Google Gemini API (prompts up to 200k tokens; 128k for 1.5)
		"gemini-2.5-pro":        {Input: 1.25, Output: 10, CachedInput: 0.31},
		"gemini-2.5-flash":      {Input: 0.30, Output: 2.50, CachedInput: 0.075},
		"gemini-2.5-flash-lite": {Input: 0.10, Output: 0.40, CachedInput: 0.025},
		"gemini-2.0-flash":      {Input: 0.10, Output: 0.40, CachedInput: 0.025},
		"gemini-2.0-flash-lite": {Input: 0.075, Output: 0.30},
		"gemini-1.5-pro":        {Input: 1.25, Output: 5, CachedInput: 0.3125},
		"gemini-1.5-flash":      {Input: 0.075, Output: 0.30, CachedInput: 0.01875},
		"gemini-1.5-flash-8b":   {Input: 0.0375, Output: 0.15, CachedInput: 0.01},

		// Mistral
		"mistral-large":     {Input: 2, Output: 6},
		"mistral-medium":    {Input: 0.40, Output: 2},
		"mistral-small":     {Input: 0.10, Output: 0.30},
		"codestral":         {Input: 0.30, Output: 0.90},
		"pixtral-large":     {Input: 2, Output: 6},
		"ministral-8b":      {Input: 0.10, Output: 0.10},
		"ministral-3b":      {Input: 0.04, Output: 0.04},
		"open-mistral-nemo": {Input: 0.15, Output: 0.15},

		// DeepSeek (V3.2 prices; input includes cache hits)
		"deepseek-chat":     {Input: 0.28, Output: 0.42, CachedInput: 0.028},
		"deepseek-reasoner": {Input: 0.28, Output: 0.42, CachedInput: 0.028},

		// xAI
		"grok-4":      {Input: 3, Output: 15, CachedInput: 0.75},
		"grok-3":      {Input: 3, Output: 15, CachedInput: 0.75},
		"grok-3-mini": {Input: 0.30, Output: 0.50, CachedInput: 0.075},

		// Cohere
		"command-a":      {Input: 2.50, Output: 10},
		"command-r-plus": {Input: 2.50, Output: 10},
		"command-r":      {Input: 0.15, Output: 0.60},
	}
}
