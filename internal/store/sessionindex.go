package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// sessionIndexSteps is schema version 4: the session index. A session is
// every distinct session_id seen on a run or on any record (span, score,
// log), so one run can hold many sessions and one session span many runs
// (docs/store.md, "Sessions"). The index is written with the records, in
// the same transaction, and backfilled here from what older versions stored.
var sessionIndexSteps = []string{
	// Logs learn their run, as spans and scores did in version 2.
	`ALTER TABLE logs ADD COLUMN run_id TEXT NOT NULL DEFAULT ''`,
	`UPDATE logs SET run_id = coalesce(json_extract(tags, '$.run_id'), '')
	 WHERE tags IS NOT NULL AND json_valid(tags) AND json_type(tags, '$.run_id') = 'text'`,
	`CREATE INDEX logs_run ON logs (run_id)`,
	// A run's spans, whatever their trace, in start order; runs by span id.
	`CREATE INDEX spans_run ON spans (run_id, start_ns)`,
	`CREATE INDEX spans_run_span ON spans (span_id) WHERE is_run = 1`,
	// Which runs each session's records came from, and when: one row per
	// session and run span (span_id) for run spans; per session and
	// run_id for other records, or per session and trace (whose earliest
	// run they belong to) for records without a run_id. Only one of
	// run_id, trace_id and span_id is set. end_ns is the latest end of a
	// record that is not a run span (a run's end is read from the run
	// span, which EndAbandoned may set); errors counts error records
	// (spans with error status, logs at level error or above) as they
	// were imported.
	`CREATE TABLE session_links (
		session_id TEXT    NOT NULL,
		run_id     TEXT    NOT NULL,
		trace_id   TEXT    NOT NULL,
		span_id    TEXT    NOT NULL,
		first_ns   INTEGER NOT NULL,
		last_ns    INTEGER NOT NULL,
		end_ns     INTEGER NOT NULL,
		errors     INTEGER NOT NULL,
		PRIMARY KEY (session_id, run_id, trace_id, span_id)
	) WITHOUT ROWID`,
	`CREATE INDEX session_links_run ON session_links (run_id)`,
	// The distinct tags (but session_id) of each session's records, for
	// its users and deployments and the --user/--deployment/--tag filters.
	`CREATE TABLE session_tags (
		session_id TEXT NOT NULL,
		key        TEXT NOT NULL,
		value      TEXT NOT NULL,
		PRIMARY KEY (session_id, key, value)
	) WITHOUT ROWID`,
	`CREATE INDEX session_tags_kv ON session_tags (key, value)`,
	`INSERT INTO session_links (session_id, run_id, trace_id, span_id, first_ns, last_ns, end_ns, errors)
	 SELECT session_id, '', '', span_id, start_ns, max(start_ns, end_ns), 0, 0
	 FROM spans WHERE is_run = 1 AND session_id != ''`,
	`INSERT INTO session_links (session_id, run_id, trace_id, span_id, first_ns, last_ns, end_ns, errors)
	 SELECT session_id, run_id, CASE WHEN run_id = '' THEN trace_id ELSE '' END, '',
	        min(start_ns), max(max(start_ns, end_ns)), max(end_ns), sum(status = 2)
	 FROM spans WHERE is_run = 0 AND session_id != '' GROUP BY 1, 2, 3`,
	`INSERT INTO session_links (session_id, run_id, trace_id, span_id, first_ns, last_ns, end_ns, errors)
	 SELECT session_id, run_id, CASE WHEN run_id = '' THEN trace_id ELSE '' END, '', min(ts_ns), max(ts_ns), max(ts_ns), 0
	 FROM scores WHERE session_id != '' GROUP BY 1, 2, 3
	 ON CONFLICT DO UPDATE SET first_ns = min(first_ns, excluded.first_ns), last_ns = max(last_ns, excluded.last_ns),
	        end_ns = max(end_ns, excluded.end_ns)`,
	`INSERT INTO session_links (session_id, run_id, trace_id, span_id, first_ns, last_ns, end_ns, errors)
	 SELECT session_id, run_id, CASE WHEN run_id = '' THEN trace_id ELSE '' END, '', min(ts_ns), max(ts_ns), max(ts_ns),
	        sum(lower(level) IN ` + errorLevels + `)
	 FROM logs WHERE session_id != '' GROUP BY 1, 2, 3
	 ON CONFLICT DO UPDATE SET first_ns = min(first_ns, excluded.first_ns), last_ns = max(last_ns, excluded.last_ns),
	        end_ns = max(end_ns, excluded.end_ns), errors = errors + excluded.errors`,
	`INSERT OR IGNORE INTO session_tags (session_id, key, value)
	 SELECT DISTINCT r.session_id, j.key, j.value FROM spans AS r, json_each(r.tags) AS j
	 WHERE r.session_id != '' AND r.tags IS NOT NULL AND json_valid(r.tags) AND j.type = 'text' AND j.key != 'session_id'`,
	`INSERT OR IGNORE INTO session_tags (session_id, key, value)
	 SELECT DISTINCT r.session_id, j.key, j.value FROM scores AS r, json_each(r.tags) AS j
	 WHERE r.session_id != '' AND r.tags IS NOT NULL AND json_valid(r.tags) AND j.type = 'text' AND j.key != 'session_id'`,
	`INSERT OR IGNORE INTO session_tags (session_id, key, value)
	 SELECT DISTINCT r.session_id, j.key, j.value FROM logs AS r, json_each(r.tags) AS j
	 WHERE r.session_id != '' AND r.tags IS NOT NULL AND json_valid(r.tags) AND j.type = 'text' AND j.key != 'session_id'`,
}

// errorLevels is telemetry.ErrorLevels as an SQL list: ('error', …).
var errorLevels = "('" + strings.Join(telemetry.ErrorLevels, "', '") + "')"

// linkKey is a row of session_links: a session and the run its records
// came from: a run span's own id, or the run_id of other records, or
// their trace id when they carry no run_id.
type linkKey struct{ session, run, trace, span string }

type linkAgg struct {
	first, last, end int64
	errors           int
}

type tagKey struct{ session, key, value string }

// maxIndexedTag is the longest tag value the session index keeps: longer
// ones (a prompt put in a tag) are stored on their records only.
const maxIndexedTag = 256

// sessionIndex accumulates the session index rows of the records written
// in one transaction, so that a batch of a thousand spans of one session
// costs one upsert, not a thousand.
type sessionIndex struct {
	links map[linkKey]*linkAgg
	tags  map[tagKey]struct{}
	// retracted counts, per row, the stored error spans that the batch
	// rewrites (an exporter's retry, a span corrected to OK): each was
	// counted when first written, and is counted again by add only if it
	// still failed.
	retracted map[linkKey]int
	prior     *sql.Stmt // reads a span about to be rewritten; nil until used
}

func newSessionIndex() *sessionIndex {
	return &sessionIndex{links: map[linkKey]*linkAgg{}, tags: map[tagKey]struct{}{}, retracted: map[linkKey]int{}}
}

// add records that a record of session with tags in trace, run span run if
// it is one, happened from start to end (end 0: not ended), with errors
// error records. A run span's end counts only as activity (last_ns): it is
// read from the span itself.
func (x *sessionIndex) add(session string, tags telemetry.Tags, trace telemetry.TraceID, run telemetry.SpanID,
	start, end int64, errors int) {
	if session == "" {
		return
	}
	k := linkKey{session: session}
	switch {
	case !run.IsZero():
		k.span = run.String()
	case tags[telemetry.TagRunID] != "":
		k.run = tags[telemetry.TagRunID]
	default:
		k.trace = trace.String()
	}
	recEnd := end
	if !run.IsZero() {
		recEnd = 0
	}
	a := x.links[k]
	if a == nil {
		a = &linkAgg{first: start, last: max(start, end), end: recEnd}
		x.links[k] = a
	} else {
		a.first = minTime(a.first, start)
		a.last = max(a.last, start, end)
		a.end = max(a.end, recEnd)
	}
	a.errors += errors
	for key, v := range tags {
		if key != telemetry.TagSessionID && v != "" && len(v) <= maxIndexedTag {
			x.tags[tagKey{session, key, v}] = struct{}{}
		}
	}
}

// minTime is the earlier of two Unix-ns times, 0 meaning unknown.
func minTime(a, b int64) int64 {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}

func (x *sessionIndex) addSpan(sp *telemetry.Span, session string) {
	var run telemetry.SpanID
	errs := 0
	switch {
	case sp.IsRun():
		run = sp.SpanID
	case sp.Status == telemetry.StatusError:
		errs = 1
	}
	x.add(session, sp.Tags, sp.TraceID, run, telemetry.UnixNano(sp.Start), telemetry.UnixNano(sp.End), errs)
}

// replacing is called, in tx, before sp is upserted: when it rewrites a
// stored span that was counted as an error, that count is taken back, so
// that a span delivered again counts once and one rewritten as OK no more.
func (x *sessionIndex) replacing(ctx context.Context, tx *sql.Tx, sp *telemetry.Span) error {
	if x.prior == nil {
		st, err := tx.PrepareContext(ctx, `SELECT session_id, run_id FROM spans
			WHERE trace_id = ? AND span_id = ? AND is_run = 0 AND status = ?`)
		if err != nil {
			return fmt.Errorf("prepare span lookup: %w", err)
		}
		x.prior = st // closed with tx
	}
	var session, runID string
	err := x.prior.QueryRowContext(ctx, sp.TraceID.String(), sp.SpanID.String(), int(telemetry.StatusError)).Scan(&session, &runID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("read span %s/%s: %w", sp.TraceID, sp.SpanID, err)
	case session == "":
		return nil
	}
	k := linkKey{session: session, run: runID}
	if runID == "" {
		k.trace = sp.TraceID.String()
	}
	x.retracted[k]++
	return nil
}

func (x *sessionIndex) addScore(sc *telemetry.Score) {
	ts := telemetry.UnixNano(sc.Time)
	x.add(sc.Tags[telemetry.TagSessionID], sc.Tags, sc.TraceID, telemetry.SpanID{}, ts, ts, 0)
}

func (x *sessionIndex) addLog(l *telemetry.Log) {
	ts, errs := telemetry.UnixNano(l.Time), 0
	if telemetry.IsErrorLevel(l.Level) {
		errs = 1
	}
	x.add(l.Tags[telemetry.TagSessionID], l.Tags, l.TraceID, telemetry.SpanID{}, ts, ts, errs)
}

const upsertLinkSQL = `INSERT INTO session_links (session_id, run_id, trace_id, span_id, first_ns, last_ns, end_ns, errors)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (session_id, run_id, trace_id, span_id) DO UPDATE SET
	first_ns = CASE WHEN session_links.first_ns = 0 THEN excluded.first_ns
		WHEN excluded.first_ns = 0 THEN session_links.first_ns
		ELSE min(session_links.first_ns, excluded.first_ns) END,
	last_ns  = max(session_links.last_ns, excluded.last_ns),
	end_ns   = max(session_links.end_ns, excluded.end_ns),
	errors   = session_links.errors + excluded.errors`

// retractSQL takes back error counts of rewritten spans (sessionIndex.replacing).
const retractSQL = `UPDATE session_links SET errors = max(errors - ?, 0)
WHERE session_id = ? AND run_id = ? AND trace_id = ? AND span_id = ''`

// flush writes the accumulated rows in tx.
func (x *sessionIndex) flush(ctx context.Context, tx *sql.Tx) error {
	if len(x.links) > 0 {
		st, err := tx.PrepareContext(ctx, upsertLinkSQL)
		if err != nil {
			return fmt.Errorf("prepare session link upsert: %w", err)
		}
		defer st.Close()
		for k, a := range x.links {
			if _, err := st.ExecContext(ctx, k.session, k.run, k.trace, k.span, a.first, a.last, a.end, a.errors); err != nil {
				return fmt.Errorf("index session %q: %w", k.session, err)
			}
		}
	}
	if len(x.tags) > 0 {
		st, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO session_tags (session_id, key, value) VALUES (?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("prepare session tag insert: %w", err)
		}
		defer st.Close()
		for k := range x.tags {
			if _, err := st.ExecContext(ctx, k.session, k.key, k.value); err != nil {
				return fmt.Errorf("index session %q: %w", k.session, err)
			}
		}
	}
	// After the upserts: a span first written and rewritten in this
	// batch is in both the batch's count and the retracted one.
	for k, n := range x.retracted {
		if _, err := tx.ExecContext(ctx, retractSQL, n, k.session, k.run, k.trace); err != nil {
			return fmt.Errorf("index session %q: %w", k.session, err)
		}
	}
	return nil
}
