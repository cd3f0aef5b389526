package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// SessionSummary is one session as listed by `graphsignal sessions`.
type SessionSummary struct {
	ID string
	// FirstStart is the earliest start of the session's runs.
	FirstStart time.Time
	// LastEnd is the latest end of its finished runs; zero when none has
	// finished.
	LastEnd time.Time
	// Duration is LastEnd-FirstStart, 0 when LastEnd is zero.
	Duration time.Duration
	// Runs counts run spans; Failures those with status error; InProgress
	// those without an end (still running, or their recorder was killed).
	Runs       int
	Failures   int
	InProgress int
	// Deployments and Users are the distinct non-empty deployment and
	// user_id tags of the runs, sorted.
	Deployments []string
	Users       []string
}

const sessionsSQL = `SELECT session_id, min(start_ns), max(end_ns), count(*),
	sum(status = 2), sum(end_ns = 0), max(max(start_ns, end_ns)) AS last_activity,
	json_group_array(DISTINCT deployment), json_group_array(DISTINCT user_id)
FROM spans WHERE is_run = 1 %s GROUP BY session_id %s`

// Sessions lists the sessions with a run started or ended at or after since
// (all sessions for the zero time), newest first start first.
func (s *Store) Sessions(ctx context.Context, since time.Time) ([]SessionSummary, error) {
	var out []SessionSummary
	err := s.use(func() error {
		q := fmt.Sprintf(sessionsSQL, "", "HAVING last_activity >= ? ORDER BY min(start_ns) DESC, session_id")
		rows, err := s.db.QueryContext(ctx, q, telemetry.UnixNano(since))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			sum, err := scanSummary(rows)
			if err != nil {
				return err
			}
			out = append(out, sum)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// LastSessionID returns the session of the most recently started run, or an
// error wrapping ErrNotFound when the store holds no run.
func (s *Store) LastSessionID(ctx context.Context) (string, error) {
	var id string
	err := s.use(func() error {
		return s.db.QueryRowContext(ctx,
			`SELECT session_id FROM spans WHERE is_run = 1 ORDER BY start_ns DESC, rowid DESC LIMIT 1`).Scan(&id)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("last session: %w", ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("last session: %w", err)
	}
	return id, nil
}

// summary returns one session's summary, or ErrNotFound.
func (s *Store) summary(ctx context.Context, conn querier, id string) (SessionSummary, error) {
	q := fmt.Sprintf(sessionsSQL, "AND session_id = ?", "")
	sum, err := scanSummary(conn.QueryRowContext(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return sum, ErrNotFound
	}
	return sum, err
}

type scanner interface {
	Scan(dest ...any) error
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func scanSummary(r scanner) (SessionSummary, error) {
	var (
		sum                   SessionSummary
		first, last, activity int64
		deps, users           string
	)
	if err := r.Scan(&sum.ID, &first, &last, &sum.Runs, &sum.Failures, &sum.InProgress, &activity,
		&deps, &users); err != nil {
		return sum, err
	}
	if sum.Runs == 0 {
		// An aggregate over no rows still yields one row of NULLs.
		return sum, sql.ErrNoRows
	}
	sum.FirstStart, sum.LastEnd = telemetry.FromUnixNano(first), telemetry.FromUnixNano(last)
	if last > first && first != 0 {
		sum.Duration = time.Duration(last - first)
	}
	sum.Deployments = distinct(deps)
	sum.Users = distinct(users)
	return sum, nil
}

// distinct decodes a json_group_array of strings, dropping empty ones.
func distinct(s string) []string {
	var all []string
	if err := json.Unmarshal([]byte(s), &all); err != nil {
		return nil
	}
	var out []string
	for _, v := range all {
		if v != "" {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}
