package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

const upsertSpanSQL = `INSERT INTO spans (
	trace_id, span_id, parent_span_id, name, start_ns, end_ns, status, status_message,
	is_run, session_id, run_id, deployment, user_id,
	tags, attributes, events, exceptions, payloads, usage, scores)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (trace_id, span_id) DO UPDATE SET
	parent_span_id = excluded.parent_span_id,
	name           = excluded.name,
	start_ns       = excluded.start_ns,
	end_ns         = CASE WHEN excluded.end_ns = 0 THEN spans.end_ns ELSE excluded.end_ns END,
	status         = excluded.status,
	status_message = excluded.status_message,
	is_run         = excluded.is_run,
	session_id     = excluded.session_id,
	run_id         = excluded.run_id,
	deployment     = excluded.deployment,
	user_id        = excluded.user_id,
	tags           = excluded.tags,
	attributes     = excluded.attributes,
	events         = excluded.events,
	exceptions     = excluded.exceptions,
	payloads       = excluded.payloads,
	usage          = excluded.usage,
	scores         = excluded.scores`

const insertMetricSQL = `INSERT INTO metrics (trace_id, name, kind, unit, tags, ts_ns, value, histogram)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

const insertScoreSQL = `INSERT INTO scores (trace_id, span_id, name, value, unit, comment, severity, tags,
	session_id, run_id, user_id, ts_ns, from_span)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

const insertLogSQL = `INSERT INTO logs (trace_id, span_id, ts_ns, level, message, exception, tags, session_id, run_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

// Write stores every record of b in one transaction: all or nothing.
//
// Every record with a session_id tag, run span or not, files its session in
// the session index (docs/store.md, "Sessions").
//
// Spans are upserted by (trace id, span id): writing a span again replaces
// the stored one, except that a zero End never erases a stored end. The
// recorder relies on this to write the run span when the child starts (End
// zero: in progress) and again at exit. Scores carried on a span are replaced
// with the span. Metric points, scores and logs are appended.
//
// A run span (attribute telemetry.AttrSpanKind = telemetry.SpanKindRun)
// without a session_id tag is filed under a session named after its trace
// id. Write blocks up to the busy timeout while another process writes, and
// honours ctx while waiting for a connection.
func (s *Store) Write(ctx context.Context, b telemetry.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	err := s.use(func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer func() { _ = tx.Rollback() }() // a no-op after Commit
		idx := newSessionIndex()
		if err := writeBatch(ctx, tx, &b, idx); err != nil {
			return err
		}
		if err := idx.flush(ctx, tx); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write %d records to store: %w", b.Len(), err)
	}
	return nil
}

// writeBatch writes b in tx and adds its records to idx, which the caller
// flushes before committing.
func writeBatch(ctx context.Context, tx *sql.Tx, b *telemetry.Batch, idx *sessionIndex) error {
	if err := writeSpans(ctx, tx, b.Spans, idx); err != nil {
		return err
	}
	if err := writeMetrics(ctx, tx, b.Metrics); err != nil {
		return err
	}
	if err := writeScores(ctx, tx, b.Scores, idx); err != nil {
		return err
	}
	return writeLogs(ctx, tx, b.Logs, idx)
}

func writeSpans(ctx context.Context, tx *sql.Tx, spans []telemetry.Span, idx *sessionIndex) error {
	if len(spans) == 0 {
		return nil
	}
	up, err := tx.PrepareContext(ctx, upsertSpanSQL)
	if err != nil {
		return fmt.Errorf("prepare span upsert: %w", err)
	}
	defer up.Close()
	var delScores, addScore *sql.Stmt
	for i := range spans {
		sp := &spans[i]
		run := sp.IsRun()
		session := sp.Tags[telemetry.TagSessionID]
		if run && session == "" {
			session = sp.TraceID.String()
		}
		cols, err := spanColumns(sp)
		if err != nil {
			return fmt.Errorf("span %s/%s: %w", sp.TraceID, sp.SpanID, err)
		}
		if err := idx.replacing(ctx, tx, sp); err != nil {
			return err
		}
		_, err = up.ExecContext(ctx,
			sp.TraceID.String(), sp.SpanID.String(), sp.ParentSpanID.String(), sp.Name,
			telemetry.UnixNano(sp.Start), telemetry.UnixNano(sp.End), int(sp.Status), sp.StatusMessage,
			run, session, sp.Tags[telemetry.TagRunID], sp.Tags[telemetry.TagDeployment], sp.Tags[telemetry.TagUserID],
			tagsText(sp.Tags), encodeAttrs(sp.Attributes), cols[0], cols[1], cols[2], cols[3], cols[4])
		if err != nil {
			return fmt.Errorf("upsert span %s/%s: %w", sp.TraceID, sp.SpanID, err)
		}
		idx.addSpan(sp, session)
		if delScores == nil {
			if delScores, err = tx.PrepareContext(ctx,
				`DELETE FROM scores WHERE trace_id = ? AND span_id = ? AND from_span = 1`); err != nil {
				return fmt.Errorf("prepare score delete: %w", err)
			}
			defer delScores.Close()
		}
		if _, err := delScores.ExecContext(ctx, sp.TraceID.String(), sp.SpanID.String()); err != nil {
			return fmt.Errorf("replace scores of span %s/%s: %w", sp.TraceID, sp.SpanID, err)
		}
		for _, sc := range sp.Scores {
			if addScore == nil {
				if addScore, err = tx.PrepareContext(ctx, insertScoreSQL); err != nil {
					return fmt.Errorf("prepare score insert: %w", err)
				}
				defer addScore.Close()
			}
			sc.TraceID, sc.SpanID = sp.TraceID, sp.SpanID
			sc.Tags = sp.Tags.Merge(sc.Tags)
			if err := insertScore(ctx, addScore, &sc, true); err != nil {
				return err
			}
			if sc.Tags[telemetry.TagSessionID] != session {
				idx.addScore(&sc)
			}
		}
	}
	return nil
}

func writeMetrics(ctx context.Context, tx *sql.Tx, ms []telemetry.Metric) error {
	if len(ms) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, insertMetricSQL)
	if err != nil {
		return fmt.Errorf("prepare metric insert: %w", err)
	}
	defer st.Close()
	for i := range ms {
		m := &ms[i]
		value := nullFloat(m.Value)
		hist, err := histogramText(m)
		if err != nil {
			return fmt.Errorf("metric %q: %w", m.Name, err)
		}
		if m.Kind == telemetry.Histogram {
			value = nil
			if m.Count > 0 {
				value = nullFloat(m.Sum / float64(m.Count))
			}
		}
		if _, err := st.ExecContext(ctx, m.TraceID.String(), m.Name, int(m.Kind), m.Unit, tagsText(m.Tags),
			telemetry.UnixNano(m.Time), value, hist); err != nil {
			return fmt.Errorf("insert metric %q: %w", m.Name, err)
		}
	}
	return nil
}

func writeScores(ctx context.Context, tx *sql.Tx, scores []telemetry.Score, idx *sessionIndex) error {
	if len(scores) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, insertScoreSQL)
	if err != nil {
		return fmt.Errorf("prepare score insert: %w", err)
	}
	defer st.Close()
	for i := range scores {
		if err := insertScore(ctx, st, &scores[i], false); err != nil {
			return err
		}
		idx.addScore(&scores[i])
	}
	return nil
}

func insertScore(ctx context.Context, st *sql.Stmt, sc *telemetry.Score, fromSpan bool) error {
	_, err := st.ExecContext(ctx, sc.TraceID.String(), sc.SpanID.String(), sc.Name, nullFloat(sc.Value),
		sc.Unit, sc.Comment, sc.Severity, tagsText(sc.Tags), sc.Tags[telemetry.TagSessionID],
		sc.Tags[telemetry.TagRunID], sc.Tags[telemetry.TagUserID], telemetry.UnixNano(sc.Time), fromSpan)
	if err != nil {
		return fmt.Errorf("insert score %q: %w", sc.Name, err)
	}
	return nil
}

func writeLogs(ctx context.Context, tx *sql.Tx, logs []telemetry.Log, idx *sessionIndex) error {
	if len(logs) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, insertLogSQL)
	if err != nil {
		return fmt.Errorf("prepare log insert: %w", err)
	}
	defer st.Close()
	for i := range logs {
		l := &logs[i]
		if _, err := st.ExecContext(ctx, l.TraceID.String(), l.SpanID.String(), telemetry.UnixNano(l.Time), l.Level,
			l.Message, l.Exception, tagsText(l.Tags), l.Tags[telemetry.TagSessionID], l.Tags[telemetry.TagRunID]); err != nil {
			return fmt.Errorf("insert log: %w", err)
		}
		idx.addLog(l)
	}
	return nil
}
