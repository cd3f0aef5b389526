package store

import (
	"context"
	"fmt"
	"time"
)

// HistoryRuns bounds the durations DeploymentDurations returns.
const HistoryRuns = 50

// DeploymentDurations returns the durations of the last HistoryRuns
// finished runs of deployment that started before before, newest first:
// the baseline that `show` compares a run's duration with (docs/json.md,
// "anomalies"). A run with no recorded end is not counted. An empty
// deployment has no history: the result is nil.
func (s *Store) DeploymentDurations(ctx context.Context, deployment string, before time.Time) ([]time.Duration, error) {
	var out []time.Duration
	err := s.use(func() error {
		var err error
		out, err = queryDeploymentDurations(ctx, s.db, deployment, before)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("deployment %q history: %w", deployment, err)
	}
	return out, nil
}

// queryDeploymentDurations is DeploymentDurations on q, so that a read
// transaction can include it.
func queryDeploymentDurations(ctx context.Context, q querier, deployment string, before time.Time) ([]time.Duration, error) {
	if deployment == "" {
		return nil, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT end_ns - start_ns FROM spans
		WHERE is_run = 1 AND deployment = ?1 AND start_ns > 0 AND start_ns < ?2 AND end_ns > start_ns
		ORDER BY start_ns DESC, rowid DESC LIMIT ?3`, deployment, before.UnixNano(), HistoryRuns)
	if err != nil {
		return nil, fmt.Errorf("query run durations: %w", err)
	}
	defer rows.Close()
	var out []time.Duration
	for rows.Next() {
		var ns int64
		if err := rows.Scan(&ns); err != nil {
			return nil, fmt.Errorf("scan run duration: %w", err)
		}
		out = append(out, time.Duration(ns))
	}
	return out, rows.Err()
}
