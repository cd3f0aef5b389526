package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// EndAbandoned ends the run whose span id is run, and every run nested in
// it (run spans of its trace whose parents lead to it through run spans),
// that has no recorded end. The caller knows that nothing will ever record
// one: the run's journal is final (its writer is gone) and wholly imported.
// Each such run gets as its end the time of the last record of its trace
// (metric point, span start or end, log, score; its own start at least),
// status unset, the status message telemetry.RecorderLostMessage and the attribute
// telemetry.AttrErrorKind = telemetry.ErrorKindRecorderLost, so that
// `show` reports an unknown outcome rather than a run in progress forever.
// Runs that have an end are not touched, and a later write of the real end
// replaces this one. It returns the number of runs ended; an unknown run
// ends none.
func (s *Store) EndAbandoned(ctx context.Context, run telemetry.SpanID) (int, error) {
	var n int
	err := s.use(func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer func() { _ = tx.Rollback() }() // a no-op after Commit
		var trace string
		err = tx.QueryRowContext(ctx, `SELECT trace_id FROM spans WHERE is_run = 1 AND span_id = ?`,
			run.String()).Scan(&trace)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("find run: %w", err)
		}
		last, err := lastRecord(ctx, tx, trace)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `WITH RECURSIVE tree(span_id) AS (
				SELECT ?
				UNION
				SELECT s.span_id FROM spans AS s JOIN tree ON s.parent_span_id = tree.span_id
				WHERE s.is_run = 1 AND s.trace_id = ?
			)
			UPDATE spans SET end_ns = max(start_ns, ?), status = 0, status_message = ?,
				attributes = json_set(coalesce(attributes, '{}'), '$."`+telemetry.AttrErrorKind+`"', ?)
			WHERE trace_id = ? AND is_run = 1 AND end_ns = 0 AND span_id IN (SELECT span_id FROM tree)`,
			run.String(), trace, last, telemetry.RecorderLostMessage, telemetry.ErrorKindRecorderLost, trace)
		if err != nil {
			return fmt.Errorf("end abandoned runs: %w", err)
		}
		affected, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("end abandoned runs: %w", err)
		}
		n = int(affected)
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("end abandoned run %s: %w", run, err)
	}
	return n, nil
}

// lastRecord returns the time (Unix ns) of the last record of trace: 0
// when it has none.
func lastRecord(ctx context.Context, tx *sql.Tx, trace string) (int64, error) {
	var last int64
	err := tx.QueryRowContext(ctx, `SELECT max(
			coalesce((SELECT max(ts_ns) FROM metrics WHERE trace_id = ?1), 0),
			coalesce((SELECT max(max(start_ns, end_ns)) FROM spans WHERE trace_id = ?1), 0),
			coalesce((SELECT max(ts_ns) FROM logs WHERE trace_id = ?1), 0),
			coalesce((SELECT max(ts_ns) FROM scores WHERE trace_id = ?1), 0))`, trace).Scan(&last)
	if err != nil {
		return 0, fmt.Errorf("find last record: %w", err)
	}
	return last, nil
}
