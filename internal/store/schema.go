package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one step of the schema's history. Version n's steps turn a
// database at version n-1 into version n. Steps are never edited once
// released; a change is a new migration appended to the list.
type migration struct {
	version int
	steps   []string
}

// migrations is the schema's history, in order. The schema version of a
// database is its PRAGMA user_version; 0 is an empty file.
var migrations = []migration{
	{version: 1, steps: []string{
		// Spans, one row per (trace_id, span_id), rewritten in place by
		// upserts. Runs are spans with is_run = 1. The columns after
		// user_id hold the rest of the span as JSON (docs/store.md).
		`CREATE TABLE spans (
			trace_id       TEXT    NOT NULL,
			span_id        TEXT    NOT NULL,
			parent_span_id TEXT    NOT NULL DEFAULT '',
			name           TEXT    NOT NULL DEFAULT '',
			start_ns       INTEGER NOT NULL DEFAULT 0,
			end_ns         INTEGER NOT NULL DEFAULT 0,
			status         INTEGER NOT NULL DEFAULT 0,
			status_message TEXT    NOT NULL DEFAULT '',
			is_run         INTEGER NOT NULL DEFAULT 0,
			session_id     TEXT    NOT NULL DEFAULT '',
			deployment     TEXT    NOT NULL DEFAULT '',
			user_id        TEXT    NOT NULL DEFAULT '',
			tags           TEXT,
			attributes     TEXT,
			events         TEXT,
			exceptions     TEXT,
			payloads       TEXT,
			usage          TEXT,
			scores         TEXT,
			UNIQUE (trace_id, span_id)
		)`,
		`CREATE INDEX spans_runs ON spans (is_run, session_id, start_ns)`,
		`CREATE INDEX spans_session ON spans (session_id, start_ns)`,
		`CREATE INDEX spans_trace_name ON spans (trace_id, name)`,
		`CREATE INDEX spans_start ON spans (start_ns)`,
		// Metric points. value is NULL for NaN; for a histogram it is the
		// point's mean (sum/count) and histogram holds the buckets.
		`CREATE TABLE metrics (
			trace_id  TEXT    NOT NULL DEFAULT '',
			name      TEXT    NOT NULL,
			kind      INTEGER NOT NULL DEFAULT 0,
			unit      TEXT    NOT NULL DEFAULT '',
			tags      TEXT,
			ts_ns     INTEGER NOT NULL,
			value     REAL,
			histogram TEXT
		)`,
		`CREATE INDEX metrics_trace ON metrics (trace_id, name, ts_ns)`,
		`CREATE INDEX metrics_ts ON metrics (ts_ns)`,
	}},
	{version: 2, steps: []string{
		`ALTER TABLE spans ADD COLUMN run_id TEXT NOT NULL DEFAULT ''`,
		// Scores, both standalone ones and those reported on a span
		// (from_span = 1, replaced when the span is rewritten).
		`CREATE TABLE scores (
			trace_id   TEXT    NOT NULL DEFAULT '',
			span_id    TEXT    NOT NULL DEFAULT '',
			name       TEXT    NOT NULL,
			value      REAL,
			unit       TEXT    NOT NULL DEFAULT '',
			comment    TEXT    NOT NULL DEFAULT '',
			severity   INTEGER NOT NULL DEFAULT 0,
			tags       TEXT,
			session_id TEXT    NOT NULL DEFAULT '',
			run_id     TEXT    NOT NULL DEFAULT '',
			user_id    TEXT    NOT NULL DEFAULT '',
			ts_ns      INTEGER NOT NULL DEFAULT 0,
			from_span  INTEGER NOT NULL DEFAULT 0
		)`,
		`CREATE INDEX scores_trace ON scores (trace_id, span_id)`,
		`CREATE INDEX scores_session ON scores (session_id)`,
		`CREATE INDEX scores_run ON scores (run_id)`,
		`CREATE INDEX scores_ts ON scores (ts_ns)`,
		// Version 1 kept span scores only in spans.scores: copy them.
		`INSERT INTO scores (trace_id, span_id, name, value, unit, comment, severity, session_id, user_id, ts_ns, from_span)
		 SELECT s.trace_id, s.span_id, json_extract(j.value, '$.name'), json_extract(j.value, '$.value'),
		        coalesce(json_extract(j.value, '$.unit'), ''), coalesce(json_extract(j.value, '$.comment'), ''),
		        coalesce(json_extract(j.value, '$.severity'), 0), s.session_id, s.user_id,
		        coalesce(json_extract(j.value, '$.time_ns'), 0), 1
		 FROM spans AS s, json_each(s.scores) AS j
		 WHERE s.scores IS NOT NULL AND json_extract(j.value, '$.name') IS NOT NULL`,
		`CREATE TABLE logs (
			trace_id   TEXT    NOT NULL DEFAULT '',
			span_id    TEXT    NOT NULL DEFAULT '',
			ts_ns      INTEGER NOT NULL DEFAULT 0,
			level      TEXT    NOT NULL DEFAULT '',
			message    TEXT    NOT NULL DEFAULT '',
			exception  TEXT    NOT NULL DEFAULT '',
			tags       TEXT,
			session_id TEXT    NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX logs_trace ON logs (trace_id)`,
		`CREATE INDEX logs_session ON logs (session_id)`,
		`CREATE INDEX logs_ts ON logs (ts_ns)`,
	}},
	{version: 3, steps: []string{
		// How far each external log (a run's journal) has been imported:
		// the offset is committed with the records read up to it. Rows
		// outlive their logs (an importer may still hold a deleted log
		// open) until Prune drops those not updated for importKeep.
		`CREATE TABLE imports (
			source      TEXT    PRIMARY KEY,
			byte_offset INTEGER NOT NULL,
			updated_ns  INTEGER NOT NULL
		)`,
	}},
	{version: 4, steps: sessionIndexSteps},
	{version: 5, steps: downsampleSteps},
	{version: 6, steps: []string{
		// A run's history: its deployment's earlier runs, newest first
		// (DeploymentHistory), found without reading every run span.
		`CREATE INDEX spans_run_history ON spans (deployment, start_ns) WHERE is_run = 1`,
	}},
}

// SchemaVersion is the schema version this build writes.
func SchemaVersion() int { return migrations[len(migrations)-1].version }

// migrate brings db to the last version in ms. It runs in one write
// transaction that re-reads the version under the lock, so processes opening
// the same new file at once apply each migration exactly once.
func migrate(ctx context.Context, db *sql.DB, ms []migration) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	target := ms[len(ms)-1].version
	var current int
	if err := conn.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current == target {
		return nil
	}
	if current > target {
		return fmt.Errorf("%w: file has version %d, this build knows up to %d", ErrSchemaTooNew, current, target)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > target {
		return fmt.Errorf("%w: file has version %d, this build knows up to %d", ErrSchemaTooNew, current, target)
	}
	for _, m := range ms {
		if m.version <= current {
			continue
		}
		for i, step := range m.steps {
			if _, err := tx.ExecContext(ctx, step); err != nil {
				return fmt.Errorf("migrate to version %d, step %d: %w", m.version, i+1, err)
			}
		}
		// PRAGMA takes no bound parameters; the version is our own integer.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, m.version)); err != nil {
			return fmt.Errorf("set schema version %d: %w", m.version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migration: %w", err)
	}
	return nil
}
