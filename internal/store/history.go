package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// HistoryRuns bounds the runs DeploymentHistory returns.
const HistoryRuns = 50

// PastRun is one of a deployment's earlier finished runs, as its final run
// span recorded it: what `show` compares a run's duration, error rate and
// cost with (docs/json.md, "Anomaly").
type PastRun struct {
	Duration time.Duration
	// CostUSD is its token cost (telemetry.AttrCostUSD); nil when it
	// recorded none (no priced tokens).
	CostUSD *float64
	// Spans counts its program's spans and ErrorSpans those that ended in
	// error (telemetry.AttrSpanCount, telemetry.AttrErrorSpanCount); both 0
	// when it recorded no valid pair (a graphsignal before them).
	Spans, ErrorSpans int64
}

// DeploymentHistory returns the last HistoryRuns finished runs of
// deployment that started before before, newest first. A run with no
// recorded end is not counted. An empty deployment has no history: the
// result is nil.
//
// The runs are found through the spans_runs index (is_run = 1), reading
// every run's row to match the deployment; only the runs returned have
// their attributes read.
func (s *Store) DeploymentHistory(ctx context.Context, deployment string, before time.Time) ([]PastRun, error) {
	var out []PastRun
	err := s.use(func() error {
		var err error
		out, err = queryDeploymentHistory(ctx, s.db, deployment, before)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("deployment %q history: %w", deployment, err)
	}
	return out, nil
}

// deploymentHistorySQL selects the newest ?3 finished runs of deployment
// ?1 that started before ?2 first, and only then reads their attributes
// ?4 (cost), ?5 (spans) and ?6 (error spans), as numbers or NULL.
const deploymentHistorySQL = `WITH h AS (
	SELECT rowid AS id, start_ns, end_ns - start_ns AS ns FROM spans
	WHERE is_run = 1 AND deployment = ?1 AND start_ns > 0 AND start_ns < ?2 AND end_ns > start_ns
	ORDER BY start_ns DESC, rowid DESC LIMIT ?3),
a AS (
	SELECT h.id, h.start_ns, h.ns, CASE WHEN json_valid(s.attributes) THEN s.attributes END AS attrs
	FROM h JOIN spans s ON s.rowid = h.id)
SELECT ns,
	CASE WHEN json_type(attrs, ?4) IN ('integer', 'real') THEN json_extract(attrs, ?4) END,
	CASE WHEN json_type(attrs, ?5) = 'integer' THEN json_extract(attrs, ?5) END,
	CASE WHEN json_type(attrs, ?6) = 'integer' THEN json_extract(attrs, ?6) END
FROM a ORDER BY start_ns DESC, id DESC`

// attrPath is the JSON path of attribute key in the attributes column.
func attrPath(key string) string { return `$."` + key + `"` }

// queryDeploymentHistory is DeploymentHistory on q, so that a read
// transaction can include it.
func queryDeploymentHistory(ctx context.Context, q querier, deployment string, before time.Time) ([]PastRun, error) {
	if deployment == "" {
		return nil, nil
	}
	rows, err := q.QueryContext(ctx, deploymentHistorySQL, deployment, before.UnixNano(), HistoryRuns,
		attrPath(telemetry.AttrCostUSD), attrPath(telemetry.AttrSpanCount), attrPath(telemetry.AttrErrorSpanCount))
	if err != nil {
		return nil, fmt.Errorf("query run history: %w", err)
	}
	defer rows.Close()
	var out []PastRun
	for rows.Next() {
		var ns int64
		var cost sql.NullFloat64
		var spans, errs sql.NullInt64
		if err := rows.Scan(&ns, &cost, &spans, &errs); err != nil {
			return nil, fmt.Errorf("scan run history: %w", err)
		}
		p := PastRun{Duration: time.Duration(ns)}
		if cost.Valid && cost.Float64 >= 0 {
			p.CostUSD = &cost.Float64
		}
		if spans.Valid && errs.Valid && errs.Int64 >= 0 && errs.Int64 <= spans.Int64 {
			p.Spans, p.ErrorSpans = spans.Int64, errs.Int64
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
