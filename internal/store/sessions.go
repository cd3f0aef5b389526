package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// SessionSummary is one session as listed by `graphsignal sessions`.
//
// A session is every distinct session_id tag seen on a run or on any record
// (span, score, log): one run can hold many sessions (a chat server tags
// each request), and one session many runs (CI steps, processes).
type SessionSummary struct {
	ID string
	// FirstStart is the earliest start or time of the session's runs and
	// records.
	FirstStart time.Time
	// LastEnd is the latest end of its finished runs and of its records
	// (a span's end, a score's or log's time); zero when none has ended.
	LastEnd time.Time
	// Duration is LastEnd-FirstStart, 0 when LastEnd is zero.
	Duration time.Duration
	// Runs counts the runs the session's records came from; Failures those
	// with status error; InProgress those without an end (still running,
	// or their recorder was killed).
	Runs       int
	Failures   int
	InProgress int
	// Errors counts the session's error records: spans other than runs
	// with error status, and logs at level error or above.
	Errors int
	// Deployments and Users are the distinct non-empty deployment and
	// user_id tags of the session's runs and records, sorted.
	Deployments []string
	Users       []string
	// Programs are the distinct non-empty names of the session's runs
	// (the program's base name, `python3`), sorted: the first
	// MaxSessionPrograms of them.
	Programs []string
	// Nodes and Ranks count the nodes (distinct job_node_rank tags, or
	// job_node names where ranks carry no node rank) and the distinct
	// job_rank tags of the session's runs and records: a distributed
	// job's (docs/distributed.md); 0 outside one.
	Nodes, Ranks int
}

// MaxSessionPrograms bounds SessionSummary.Programs.
const MaxSessionPrograms = 5

// SessionFilter selects the sessions Sessions lists. The zero value lists
// them all; set fields must all match.
type SessionFilter struct {
	// Since keeps sessions with a run or record at or after it.
	Since time.Time
	// User and Deployment keep sessions with a run or record tagged
	// user_id=User or deployment=Deployment.
	User       string
	Deployment string
	// Tags keeps sessions where, for each entry, a run or record carries
	// that tag with that value.
	Tags telemetry.Tags
	// Failed keeps sessions with a failed run or an error record.
	Failed bool
}

// IsZero reports whether f selects every session.
func (f *SessionFilter) IsZero() bool {
	return f.Since.IsZero() && f.User == "" && f.Deployment == "" && len(f.Tags) == 0 && !f.Failed
}

// sessionsSQL lists sessions from the session index. %[1]s is an extra
// condition on the index tables, l (one session, for Session). The runs of a
// session are the run spans named by its links: the run spans themselves
// (own: their times are the session's), the runs of a run_id, and the
// earliest run of a trace for records with no run_id.
const sessionsSQL = `WITH
sel AS (
	SELECT session_id, min(CASE WHEN first_ns > 0 THEN first_ns END) AS first_ns, max(last_ns) AS last_ns,
		max(end_ns) AS end_ns, sum(errors) AS errors
	FROM session_links AS l WHERE 1 %[1]s GROUP BY session_id),
runs AS (
	SELECT l.session_id, r.rowid AS rid, r.start_ns, r.end_ns, r.status, r.name, 1 AS own
	FROM session_links AS l CROSS JOIN spans AS r ON r.span_id = l.span_id AND r.is_run = 1
	WHERE l.span_id != '' %[1]s
	UNION
	SELECT l.session_id, r.rowid, r.start_ns, r.end_ns, r.status, r.name, 0
	FROM session_links AS l JOIN spans AS r ON r.run_id = l.run_id AND r.is_run = 1
	WHERE l.run_id != '' %[1]s
	UNION
	SELECT l.session_id, r.rowid, r.start_ns, r.end_ns, r.status, r.name, 0
	FROM session_links AS l JOIN spans AS r ON r.rowid = (SELECT rowid FROM spans
		WHERE trace_id = l.trace_id AND is_run = 1 ORDER BY start_ns, rowid LIMIT 1)
	WHERE l.trace_id != '' %[1]s),
rs AS (
	SELECT session_id, count(DISTINCT rid) AS n, count(DISTINCT rid) FILTER (WHERE status = 2) AS failures,
		count(DISTINCT rid) FILTER (WHERE end_ns = 0) AS open,
		min(start_ns) FILTER (WHERE own AND start_ns > 0) AS first_start,
		max(end_ns) FILTER (WHERE own) AS last_end,
		json_group_array(DISTINCT name) AS programs
	FROM runs GROUP BY session_id),
tg AS (
	SELECT session_id,
		json_group_array(value) FILTER (WHERE key = 'deployment') AS deployments,
		json_group_array(value) FILTER (WHERE key = 'user_id') AS users,
		max(count(DISTINCT value) FILTER (WHERE key = 'job_node_rank'),
			count(DISTINCT value) FILTER (WHERE key = 'job_node')) AS nodes,
		count(DISTINCT value) FILTER (WHERE key = 'job_rank') AS ranks
	FROM session_tags AS l WHERE key IN ('deployment', 'user_id', 'job_node_rank', 'job_node', 'job_rank') %[1]s
	GROUP BY session_id)
SELECT sel.session_id,
	coalesce(min(coalesce(sel.first_ns, rs.first_start), coalesce(rs.first_start, sel.first_ns)), 0) AS first,
	max(sel.end_ns, coalesce(rs.last_end, 0)) AS last_end,
	max(sel.last_ns, coalesce(rs.last_end, 0)) AS activity,
	coalesce(rs.n, 0), coalesce(rs.failures, 0), coalesce(rs.open, 0), coalesce(sel.errors, 0),
	coalesce(tg.deployments, '[]'), coalesce(tg.users, '[]'), coalesce(rs.programs, '[]'),
	coalesce(tg.nodes, 0), coalesce(tg.ranks, 0)
FROM sel LEFT JOIN rs ON rs.session_id = sel.session_id LEFT JOIN tg ON tg.session_id = sel.session_id`

// Sessions lists the sessions f selects, newest first start first.
func (s *Store) Sessions(ctx context.Context, f SessionFilter) ([]SessionSummary, error) {
	var out []SessionSummary
	err := s.use(func() error {
		where, args := f.where()
		q := fmt.Sprintf(sessionsSQL, "") + where + ` ORDER BY first DESC, sel.session_id`
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		dec := newColumnDecoder()
		for rows.Next() {
			sum, err := scanSummary(rows, dec)
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

// where is the filter's WHERE clause over the columns of sessionsSQL.
func (f *SessionFilter) where() (string, []any) {
	var (
		conds []string
		args  []any
	)
	tag := func(k, v string) {
		conds = append(conds, `sel.session_id IN (SELECT session_id FROM session_tags WHERE key = ? AND value = ?)`)
		args = append(args, k, v)
	}
	if !f.Since.IsZero() {
		conds = append(conds, `activity >= ?`)
		args = append(args, telemetry.UnixNano(f.Since))
	}
	if f.User != "" {
		tag(telemetry.TagUserID, f.User)
	}
	if f.Deployment != "" {
		tag(telemetry.TagDeployment, f.Deployment)
	}
	keys := make([]string, 0, len(f.Tags))
	for k := range f.Tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == telemetry.TagSessionID {
			conds = append(conds, `sel.session_id = ?`)
			args = append(args, f.Tags[k])
			continue
		}
		tag(k, f.Tags[k])
	}
	if f.Failed {
		conds = append(conds, `(coalesce(rs.failures, 0) > 0 OR coalesce(sel.errors, 0) > 0)`)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
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

// AmbiguousError is returned by ResolveSession for a prefix that starts
// several session ids.
type AmbiguousError struct {
	Prefix string
	// Candidates are the first matching ids, sorted; More says there are
	// others.
	Candidates []string
	More       bool
}

func (e *AmbiguousError) Error() string {
	more := ""
	if e.More {
		more = ", …"
	}
	return fmt.Sprintf("session prefix %q is ambiguous: %s%s", e.Prefix, strings.Join(e.Candidates, ", "), more)
}

// maxCandidates is how many ids an AmbiguousError lists.
const maxCandidates = 10

// ResolveSession returns the session id that is id, or else the one id
// that id is a prefix of. It returns an error wrapping ErrNotFound when no
// session matches and an *AmbiguousError when several do.
func (s *Store) ResolveSession(ctx context.Context, id string) (string, error) {
	var found []string
	err := s.use(func() error {
		var exact int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM session_links WHERE session_id = ? LIMIT 1)`,
			id).Scan(&exact); err != nil {
			return err
		}
		if exact == 1 {
			found = []string{id}
			return nil
		}
		// Every string starting with id sorts between id and id+"\xff":
		// UTF-8 text never holds the byte 0xff.
		rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT session_id FROM session_links
			WHERE session_id >= ? AND session_id < ? ORDER BY session_id LIMIT ?`, id, id+"\xff", maxCandidates+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				return err
			}
			found = append(found, c)
		}
		return rows.Err()
	})
	switch {
	case err != nil:
		return "", fmt.Errorf("find session %q: %w", id, err)
	case len(found) == 0 || id == "":
		return "", fmt.Errorf("session %q: %w", id, ErrNotFound)
	case len(found) > 1:
		e := &AmbiguousError{Prefix: id, Candidates: found, More: len(found) > maxCandidates}
		if e.More {
			e.Candidates = found[:maxCandidates]
		}
		return "", e
	}
	return found[0], nil
}

// summary returns one session's summary, or ErrNotFound.
func (s *Store) summary(ctx context.Context, conn querier, id string) (SessionSummary, error) {
	q := fmt.Sprintf(sessionsSQL, "AND l.session_id = ?1")
	sum, err := scanSummary(conn.QueryRowContext(ctx, q, id), newColumnDecoder())
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

// scanSummary reads one row of sessionsSQL, its JSON arrays with dec.
func scanSummary(r scanner, dec *columnDecoder) (SessionSummary, error) {
	var (
		sum                   SessionSummary
		first, last, activity int64
		deps, users, programs string
	)
	if err := r.Scan(&sum.ID, &first, &last, &activity, &sum.Runs, &sum.Failures, &sum.InProgress, &sum.Errors,
		&deps, &users, &programs, &sum.Nodes, &sum.Ranks); err != nil {
		return sum, err
	}
	sum.FirstStart, sum.LastEnd = telemetry.FromUnixNano(first), telemetry.FromUnixNano(last)
	if last > first && first != 0 {
		sum.Duration = time.Duration(last - first)
	}
	sum.Deployments = distinct(dec, deps)
	sum.Users = distinct(dec, users)
	sum.Programs = distinct(dec, programs)
	if len(sum.Programs) > MaxSessionPrograms {
		sum.Programs = sum.Programs[:MaxSessionPrograms]
	}
	return sum, nil
}

// distinct returns the non-empty strings of the JSON array s, sorted.
func distinct(dec *columnDecoder, s string) []string {
	var out []string
	for _, v := range dec.strings([]byte(s)) {
		if v != "" {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}
