package store

import (
	"context"
	"fmt"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Default retention, which the caller passes to Prune.
const (
	DefaultMaxAge   = 30 * 24 * time.Hour
	DefaultMaxBytes = 1 << 30
)

// Prune applies retention, whole sessions at a time, oldest first:
//
//   - maxAge > 0: sessions whose last run start or end is older than
//     maxAge (by the store's clock) are deleted, and so are metric points,
//     spans, scores and logs older than that which belong to no run;
//   - maxBytes > 0: while the live data (pages in use) is larger than
//     maxBytes, the session with the oldest activity is deleted; the
//     newest session is never deleted for size.
//
// Each session is deleted in its own transaction, so a concurrent writer
// waits at most for one. Freed pages are then returned to the file system
// (incremental vacuum) and the write-ahead log is truncated, so the file
// shrinks. A zero or negative limit disables that rule. Import offsets not
// updated for a week are dropped too (see Import).
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

// sessionsByAge lists session ids, least recently active first.
func (s *Store) sessionsByAge(ctx context.Context, before int64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT session_id FROM session_links
		GROUP BY session_id HAVING max(last_ns) < ?
		ORDER BY max(last_ns), session_id`, before)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (s *Store) pruneAge(ctx context.Context, cutoff time.Time) error {
	ids, err := s.sessionsByAge(ctx, telemetry.UnixNano(cutoff))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.deleteSession(ctx, id); err != nil {
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
		if _, err := s.db.ExecContext(ctx, q, telemetry.UnixNano(cutoff)); err != nil {
			return fmt.Errorf("delete old records: %w", err)
		}
	}
	return nil
}

func (s *Store) pruneSize(ctx context.Context, maxBytes int64) error {
	used, err := s.usedBytes(ctx)
	if err != nil || used <= maxBytes {
		return err
	}
	ids, err := s.sessionsByAge(ctx, 1<<63-1)
	if err != nil {
		return err
	}
	for _, id := range ids[:max(len(ids)-1, 0)] {
		if err := s.deleteSession(ctx, id); err != nil {
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

// deleteSession deletes a session's runs (those whose own session it is) and
// everything in their traces or tagged with the session, and the session's
// index rows, in one transaction.
func (s *Store) deleteSession(ctx context.Context, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete session %q: %w", id, err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	stmts := []string{
		`DELETE FROM metrics WHERE trace_id IN (` + sessionTraces + `)`,
		`DELETE FROM scores WHERE session_id = ?1 OR trace_id IN (` + sessionTraces + `)`,
		`DELETE FROM logs WHERE session_id = ?1 OR trace_id IN (` + sessionTraces + `)`,
		// Spans last: the statements above find the traces through them.
		`DELETE FROM spans WHERE trace_id IN (` + sessionTraces + `)`,
		`DELETE FROM spans WHERE session_id = ?1`,
		`DELETE FROM session_links WHERE session_id = ?1`,
		`DELETE FROM session_tags WHERE session_id = ?1`,
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("delete session %q: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete session %q: %w", id, err)
	}
	return nil
}
