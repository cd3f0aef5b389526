package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Default retention, which the caller passes to Prune.
const (
	DefaultMaxAge   = 30 * 24 * time.Hour
	DefaultMaxBytes = 1 << 30
)

// Prune applies retention, whole sessions at a time, least recently active
// first. A session's activity is the latest of its records' times and of
// the last record (metric points included) of its own runs' traces.
//
//   - maxAge > 0: sessions whose activity is older than maxAge (by the
//     store's clock) are deleted, and so are metric points, spans, scores
//     and logs older than that which belong to no run;
//   - maxBytes > 0: while the live data (pages in use) is larger than
//     maxBytes, the least recently active session is deleted; the most
//     recently active session is never deleted for size.
//
// Neither rule deletes a session that has a record in the trace of a run in
// progress (a run span without an end; EndAbandoned gives a run whose
// recorder is gone one) or a record of such a run: a run is recorded in
// full while it lasts, however long.
//
// Each session is deleted in its own transaction, so a concurrent writer
// waits at most for one; the session index rows of every session whose
// records went with it are dropped in the same transaction. Freed pages are
// then returned to the file system (incremental vacuum) and the write-ahead
// log is truncated, so the file shrinks. A zero or negative limit disables
// that rule. Import offsets not updated for a week are dropped too (see
// Import).
func (s *Store) Prune(ctx context.Context, maxAge time.Duration, maxBytes int64) error {
	err := s.use(func() error {
		if maxAge > 0 {
			if err := s.pruneAge(ctx, s.now().Add(-maxAge)); err != nil {
				return err
			}
		}
		if maxBytes > 0 {
			if err := s.pruneSize(ctx, maxBytes); err != nil {
				return err
			}
		}
		if _, err := s.db.ExecContext(ctx, `DELETE FROM imports WHERE updated_ns < ?`,
			telemetry.UnixNano(s.now().Add(-importKeep))); err != nil {
			return fmt.Errorf("prune import offsets: %w", err)
		}
		if _, err := s.db.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
			return fmt.Errorf("vacuum: %w", err)
		}
		if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prune store: %w", err)
	}
	return nil
}

// sessionAge is a session and the time of its last activity (Unix ns).
type sessionAge struct {
	id   string
	last int64
}

// sessionsByAge lists every session of the index, least recently active
// first: by the latest of its records (session_links.last_ns) and of the
// last record of each of its own runs' traces, metric points included.
func (s *Store) sessionsByAge(ctx context.Context) ([]sessionAge, error) {
	rows, err := s.db.QueryContext(ctx, `WITH
		own AS (SELECT DISTINCT session_id, trace_id FROM spans WHERE is_run = 1 AND session_id != ''),
		traces AS (SELECT o.session_id, max(
				coalesce((SELECT max(ts_ns) FROM metrics WHERE trace_id = o.trace_id), 0),
				coalesce((SELECT max(max(start_ns, end_ns)) FROM spans WHERE trace_id = o.trace_id), 0),
				coalesce((SELECT max(ts_ns) FROM logs WHERE trace_id = o.trace_id), 0),
				coalesce((SELECT max(ts_ns) FROM scores WHERE trace_id = o.trace_id), 0)) AS last
			FROM own AS o),
		links AS (SELECT session_id, max(last_ns) AS last FROM session_links GROUP BY session_id)
		SELECT l.session_id, max(l.last, coalesce((SELECT max(t.last) FROM traces AS t WHERE t.session_id = l.session_id), 0)) AS last
		FROM links AS l ORDER BY last, l.session_id`)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []sessionAge
	for rows.Next() {
		var a sessionAge
		if err := rows.Scan(&a.id, &a.last); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// liveSessions returns the sessions that retention keeps whatever their
// age: those with a record (span, score, log; run spans included) in the
// trace of a run in progress, or a record of such a run (its run_id) in any
// trace. A run is in progress while its span has no end.
func (s *Store) liveSessions(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `WITH
		live AS (SELECT DISTINCT trace_id FROM spans WHERE is_run = 1 AND end_ns = 0),
		live_runs AS (SELECT DISTINCT run_id FROM spans WHERE is_run = 1 AND end_ns = 0 AND run_id != '')
		SELECT session_id FROM spans WHERE trace_id IN live
		UNION SELECT session_id FROM scores WHERE trace_id IN live
		UNION SELECT session_id FROM logs WHERE trace_id IN live
		UNION SELECT session_id FROM spans WHERE run_id IN live_runs
		UNION SELECT session_id FROM scores WHERE run_id IN live_runs
		UNION SELECT session_id FROM logs WHERE run_id IN live_runs`)
	if err != nil {
		return nil, fmt.Errorf("find sessions of runs in progress: %w", err)
	}
	defer rows.Close()
	live := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("find sessions of runs in progress: %w", err)
		}
		if id != "" {
			live[id] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find sessions of runs in progress: %w", err)
	}
	return live, nil
}

// deletable lists the sessions retention may delete, least recently active
// first: all but those of runs in progress.
func (s *Store) deletable(ctx context.Context) (all, candidates []sessionAge, err error) {
	all, err = s.sessionsByAge(ctx)
	if err != nil {
		return nil, nil, err
	}
	live, err := s.liveSessions(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, a := range all {
		if !live[a.id] {
			candidates = append(candidates, a)
		}
	}
	return all, candidates, nil
}

func (s *Store) pruneAge(ctx context.Context, cutoff time.Time) error {
	before := telemetry.UnixNano(cutoff)
	_, candidates, err := s.deletable(ctx)
	if err != nil {
		return err
	}
	for _, a := range candidates {
		if a.last >= before {
			break
		}
		if err := s.deleteSession(ctx, a.id); err != nil {
			return err
		}
	}
	const runTraces = `SELECT trace_id FROM spans WHERE is_run = 1`
	orphans := []string{
		`DELETE FROM metrics WHERE ts_ns < ? AND trace_id NOT IN (` + runTraces + `)`,
		`DELETE FROM scores WHERE ts_ns < ? AND trace_id NOT IN (` + runTraces + `)`,
		`DELETE FROM logs WHERE ts_ns < ? AND trace_id NOT IN (` + runTraces + `)`,
		`DELETE FROM spans WHERE is_run = 0 AND start_ns < ? AND trace_id NOT IN (` + runTraces + `)`,
	}
	for _, q := range orphans {
		if _, err := s.db.ExecContext(ctx, q, before); err != nil {
			return fmt.Errorf("delete old records: %w", err)
		}
	}
	// Records of no run are filed by trace: drop the index rows whose
	// records went with them.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("drop index rows of old records: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if err := dropDanglingLinks(ctx, tx, `trace_id != ''`); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("drop index rows of old records: %w", err)
	}
	return nil
}

func (s *Store) pruneSize(ctx context.Context, maxBytes int64) error {
	used, err := s.usedBytes(ctx)
	if err != nil || used <= maxBytes {
		return err
	}
	all, candidates, err := s.deletable(ctx)
	if err != nil || len(all) == 0 {
		return err
	}
	newest := all[len(all)-1].id
	for _, a := range candidates {
		if a.id == newest {
			break
		}
		if err := s.deleteSession(ctx, a.id); err != nil {
			return err
		}
		if used, err = s.usedBytes(ctx); err != nil || used <= maxBytes {
			return err
		}
	}
	return nil
}

// usedBytes is the size of the pages holding data (free pages excluded).
func (s *Store) usedBytes(ctx context.Context) (int64, error) {
	var pages, free, size int64
	err := s.db.QueryRowContext(ctx, `SELECT p.page_count, f.freelist_count, s.page_size
		FROM pragma_page_count() AS p, pragma_freelist_count() AS f, pragma_page_size() AS s`).Scan(&pages, &free, &size)
	if err != nil {
		return 0, fmt.Errorf("measure store: %w", err)
	}
	return (pages - free) * size, nil
}

// deleteSession deletes, in one transaction, a session's runs (those whose
// own session it is) with everything in their traces or carrying their
// run_id (but in the trace of a run in progress), the records tagged with
// the session, and the session index rows of every session left without
// records behind them (its tags too once it has no rows left).
func (s *Store) deleteSession(ctx context.Context, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete session %q: %w", id, err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	// The runs going, as JSON arrays: their traces, span ids and run ids.
	var traces, spans, runIDs string
	err = tx.QueryRowContext(ctx, `SELECT
			(SELECT json_group_array(DISTINCT trace_id) FROM spans WHERE trace_id IN (`+sessionTraces+`)),
			(SELECT json_group_array(span_id) FROM spans WHERE is_run = 1 AND trace_id IN (`+sessionTraces+`)),
			(SELECT json_group_array(DISTINCT run_id) FROM spans WHERE is_run = 1 AND run_id != '' AND trace_id IN (`+sessionTraces+`))`,
		id).Scan(&traces, &spans, &runIDs)
	if err != nil {
		return fmt.Errorf("delete session %q: %w", id, err)
	}
	const (
		inTraces = `trace_id IN (SELECT value FROM json_each(?2))`
		ofRuns   = `(run_id IN (SELECT value FROM json_each(?4)) AND trace_id NOT IN
			(SELECT trace_id FROM spans WHERE is_run = 1 AND end_ns = 0))`
	)
	stmts := []string{
		`DELETE FROM metrics WHERE ` + inTraces,
		`DELETE FROM scores WHERE session_id = ?1 OR ` + inTraces + ` OR ` + ofRuns,
		`DELETE FROM logs WHERE session_id = ?1 OR ` + inTraces + ` OR ` + ofRuns,
		`DELETE FROM spans WHERE session_id = ?1 OR ` + inTraces + ` OR ` + ofRuns,
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, id, traces, spans, runIDs); err != nil {
			return fmt.Errorf("delete session %q: %w", id, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM session_links WHERE session_id = ?`, id); err != nil {
		return fmt.Errorf("delete session %q: %w", id, err)
	}
	affected := `(span_id IN (SELECT value FROM json_each(?1)) OR trace_id IN (SELECT value FROM json_each(?2))
		OR run_id IN (SELECT value FROM json_each(?3)))`
	if traces != "[]" || spans != "[]" || runIDs != "[]" {
		if err := dropDanglingLinks(ctx, tx, affected, spans, traces, runIDs); err != nil {
			return fmt.Errorf("delete session %q: %w", id, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM session_tags WHERE session_id = ?`, id); err != nil {
		return fmt.Errorf("delete session %q: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete session %q: %w", id, err)
	}
	return nil
}

// dropDanglingLinks deletes the session_links rows matching where (an SQL
// condition on session_links, with args) that no stored record stands
// behind any more: a run span's row without the run span, a run_id's row
// without a record of the session with that run_id, a trace's row without a
// record of the session in the trace. Sessions left without rows lose their
// tags: they are no longer listed.
func dropDanglingLinks(ctx context.Context, tx *sql.Tx, where string, args ...any) error {
	q := `DELETE FROM session_links AS l WHERE ` + where + ` AND CASE
		WHEN l.span_id != '' THEN NOT EXISTS (SELECT 1 FROM spans WHERE is_run = 1 AND span_id = l.span_id)
		WHEN l.run_id != '' THEN NOT EXISTS (SELECT 1 FROM spans WHERE run_id = l.run_id AND session_id = l.session_id)
			AND NOT EXISTS (SELECT 1 FROM scores WHERE run_id = l.run_id AND session_id = l.session_id)
			AND NOT EXISTS (SELECT 1 FROM logs WHERE run_id = l.run_id AND session_id = l.session_id)
		ELSE NOT EXISTS (SELECT 1 FROM spans WHERE trace_id = l.trace_id AND session_id = l.session_id AND run_id = '')
			AND NOT EXISTS (SELECT 1 FROM scores WHERE trace_id = l.trace_id AND session_id = l.session_id AND run_id = '')
			AND NOT EXISTS (SELECT 1 FROM logs WHERE trace_id = l.trace_id AND session_id = l.session_id AND run_id = '')
		END`
	rows, err := tx.QueryContext(ctx, q+` RETURNING session_id`, args...)
	if err != nil {
		return fmt.Errorf("drop index rows: %w", err)
	}
	sessions := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("drop index rows: %w", err)
		}
		sessions[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("drop index rows: %w", err)
	}
	for id := range sessions {
		if _, err := tx.ExecContext(ctx, `DELETE FROM session_tags WHERE session_id = ?1
			AND NOT EXISTS (SELECT 1 FROM session_links WHERE session_id = ?1)`, id); err != nil {
			return fmt.Errorf("drop index rows: %w", err)
		}
	}
	return nil
}
