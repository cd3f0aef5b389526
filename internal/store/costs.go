package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// UsageScope selects the spans whose token usage TokenUsage totals.
type UsageScope struct {
	// Sessions keeps the spans tagged with one of these sessions; none
	// selects nothing.
	Sessions []string
	// User and Deployment, when set, keep the spans tagged with them.
	User       string
	Deployment string
}

// TokenUsage is the token usage of the spans of one model, provider, user
// and deployment.
//
// A span's tokens come from its usage counters (by Usage.TokenKind) and
// from the GenAI semantic conventions' attributes: gen_ai.usage.input_tokens
// (or prompt_tokens), output_tokens (or completion_tokens),
// cache_read.input_tokens and cache_creation.input_tokens. For each kind,
// counters win: an attribute counts only when the span has no counter of
// its kind, so a span carrying both forms counts once.
type TokenUsage struct {
	// Model is the span's gen_ai.response.model attribute, else
	// gen_ai.request.model, else its model attribute, else its model tag;
	// "" when none.
	Model string
	// Provider is gen_ai.provider.name, else gen_ai.system.
	Provider   string
	User       string
	Deployment string
	// Spans counts the spans that report tokens (a count of 0 included).
	Spans int
	// Token counts by kind.
	Input, Output, CacheRead, CacheCreation float64
}

// UsageTotals is what TokenUsage returns.
type UsageTotals struct {
	Usage []TokenUsage
	// Truncated says there were more than MaxUsageGroups groups: the
	// totals miss those left out.
	Truncated bool
}

// MaxUsageGroups bounds the groups of spans (by model, provider, user,
// deployment and the names of their usage counters) TokenUsage reads.
const MaxUsageGroups = 100_000

// tokenUsageSQL totals the token usage of the spans that %s selects (a
// condition on spans, with its arguments first), per model, provider,
// user, deployment and set of usage counter names (sig), so that Go can
// classify the counters with Usage.TokenKind and apply the per-span rule
// "counters win over attributes" to whole groups: every span of a group
// has counters of the same names. Attribute values and counters that are
// not numbers, or are negative, count 0.
const tokenUsageSQL = `WITH
src AS (
	SELECT rowid AS id, user_id AS usr, deployment AS dep,
		CASE WHEN json_valid(attributes) THEN attributes END AS attrs,
		CASE WHEN json_valid(tags) THEN tags END AS tg,
		CASE WHEN json_valid(usage) AND json_type(usage) = 'array' THEN usage END AS usage
	FROM spans WHERE is_run = 0 AND %s AND (usage IS NOT NULL OR instr(attributes, '"gen_ai.usage.') > 0)),
sp AS (
	SELECT id, usr, dep, usage,
		coalesce(nullif(json_extract(attrs, '$."gen_ai.response.model"'), ''),
			nullif(json_extract(attrs, '$."gen_ai.request.model"'), ''),
			nullif(json_extract(attrs, '$.model'), ''), nullif(json_extract(tg, '$.model'), ''), '') AS model,
		coalesce(nullif(json_extract(attrs, '$."gen_ai.provider.name"'), ''),
			nullif(json_extract(attrs, '$."gen_ai.system"'), ''), '') AS provider,
		max(coalesce(cast(coalesce(json_extract(attrs, '$."gen_ai.usage.input_tokens"'),
			json_extract(attrs, '$."gen_ai.usage.prompt_tokens"')) AS REAL), 0), 0) AS a_in,
		max(coalesce(cast(coalesce(json_extract(attrs, '$."gen_ai.usage.output_tokens"'),
			json_extract(attrs, '$."gen_ai.usage.completion_tokens"')) AS REAL), 0), 0) AS a_out,
		max(coalesce(cast(json_extract(attrs, '$."gen_ai.usage.cache_read.input_tokens"') AS REAL), 0), 0) AS a_cr,
		max(coalesce(cast(json_extract(attrs, '$."gen_ai.usage.cache_creation.input_tokens"') AS REAL), 0), 0) AS a_cc
	FROM src),
u AS (
	SELECT sp.id, coalesce(json_extract(j.value, '$.payload_name'), '') AS payload,
		coalesce(json_extract(j.value, '$.name'), '') AS name,
		sum(max(coalesce(cast(json_extract(j.value, '$.value') AS REAL), 0), 0)) AS value
	FROM sp, json_each(sp.usage) AS j WHERE j.type = 'object' GROUP BY 1, 2, 3),
sg AS (
	SELECT id, group_concat(json_array(payload, name), ',' ORDER BY payload, name) AS sig FROM u GROUP BY id),
g AS (
	SELECT model, provider, usr, dep, coalesce(sg.sig, '') AS sig, count(*) AS spans,
		sum(a_in) AS a_in, sum(a_out) AS a_out, sum(a_cr) AS a_cr, sum(a_cc) AS a_cc
	FROM sp LEFT JOIN sg USING (id) GROUP BY 1, 2, 3, 4, 5),
c AS (
	SELECT model, provider, usr, dep, sg.sig AS sig, u.payload, u.name, sum(u.value) AS value
	FROM sp JOIN sg USING (id) JOIN u USING (id) GROUP BY 1, 2, 3, 4, 5, 6, 7),
cj AS (
	SELECT model, provider, usr, dep, sig, json_group_array(json_array(payload, name, value)) AS counters
	FROM c GROUP BY 1, 2, 3, 4, 5)
SELECT g.model, g.provider, g.usr, g.dep, g.spans, g.a_in, g.a_out, g.a_cr, g.a_cc, coalesce(cj.counters, '[]')
FROM g LEFT JOIN cj USING (model, provider, usr, dep, sig)
ORDER BY g.model, g.provider, g.usr, g.dep, g.sig LIMIT ?`

// TokenUsage totals the token usage of the spans (but runs) that scope
// selects, per model, provider, user and deployment, in that order.
// Groups without tokens are left out. It reads in one query, and at most
// MaxUsageGroups groups.
func (s *Store) TokenUsage(ctx context.Context, scope UsageScope) (UsageTotals, error) {
	var out UsageTotals
	if len(scope.Sessions) == 0 {
		return out, nil
	}
	conds, args := []string{`session_id = ?`}, []any{scope.Sessions[0]}
	if len(scope.Sessions) > 1 {
		ids, err := json.Marshal(scope.Sessions)
		if err != nil {
			return out, fmt.Errorf("token usage: %w", err)
		}
		conds, args = []string{`session_id IN (SELECT value FROM json_each(?))`}, []any{string(ids)}
	}
	if scope.User != "" {
		conds, args = append(conds, `user_id = ?`), append(args, scope.User)
	}
	if scope.Deployment != "" {
		conds, args = append(conds, `deployment = ?`), append(args, scope.Deployment)
	}
	q := fmt.Sprintf(tokenUsageSQL, strings.Join(conds, " AND "))
	args = append(args, MaxUsageGroups+1)
	err := s.use(func() error {
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		idx := map[[4]string]int{}
		for n := 0; rows.Next(); n++ {
			if n == MaxUsageGroups {
				out.Truncated = true
				break
			}
			var (
				u        TokenUsage
				attrs    [4]float64
				counters string
			)
			if err := rows.Scan(&u.Model, &u.Provider, &u.User, &u.Deployment, &u.Spans,
				&attrs[0], &attrs[1], &attrs[2], &attrs[3], &counters); err != nil {
				return err
			}
			if !u.addTokens(attrs, counters) {
				continue
			}
			k := [4]string{u.Model, u.Provider, u.User, u.Deployment}
			i, ok := idx[k]
			if !ok {
				idx[k] = len(out.Usage)
				out.Usage = append(out.Usage, TokenUsage{Model: u.Model, Provider: u.Provider, User: u.User, Deployment: u.Deployment})
				i = idx[k]
			}
			t := &out.Usage[i]
			t.Spans += u.Spans
			t.Input += u.Input
			t.Output += u.Output
			t.CacheRead += u.CacheRead
			t.CacheCreation += u.CacheCreation
		}
		return rows.Err()
	})
	if err != nil {
		return UsageTotals{}, fmt.Errorf("token usage: %w", err)
	}
	return out, nil
}

// addTokens sets u's token counts from a group's sums of its attributes
// (input, output, cache read, cache creation) and of its counters (a JSON
// array of [payload name, name, sum]): counters of a kind, attributes for
// the kinds no counter gives. It reports whether the group has tokens.
func (u *TokenUsage) addTokens(attrs [4]float64, counters string) bool {
	var cs [][3]any
	if err := json.Unmarshal([]byte(counters), &cs); err != nil {
		cs = nil
	}
	kinds := [4]string{telemetry.TokensInput, telemetry.TokensOutput, telemetry.TokensCacheRead, telemetry.TokensCacheCreation}
	var sums [4]float64
	var counted [4]bool
	for _, c := range cs {
		payload, _ := c[0].(string)
		name, _ := c[1].(string)
		value, _ := c[2].(float64)
		kind := telemetry.Usage{PayloadName: payload, Name: name}.TokenKind()
		for i, k := range kinds {
			if kind == k {
				sums[i] += value
				counted[i] = true
			}
		}
	}
	for i := range sums {
		if !counted[i] {
			sums[i] = attrs[i]
		}
	}
	u.Input, u.Output, u.CacheRead, u.CacheCreation = sums[0], sums[1], sums[2], sums[3]
	return sums[0]+sums[1]+sums[2]+sums[3] > 0
}
