package graphsignal

import (
	"time"

	"github.com/graphsignal/graphsignal/internal/sockmsg"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// appendJSON writes the span message of docs/protocol.md. It is called by
// the writer goroutine after End, when the span no longer changes.
func (s *Span) appendJSON(b []byte, withPayloads bool) []byte {
	if withPayloads || len(s.rec.Payloads) == 0 {
		return sockmsg.AppendSpan(b, &s.rec)
	}
	lean := s.rec
	lean.Payloads = nil
	return sockmsg.AppendSpan(b, &lean)
}

// ScoreOption sets an optional field of a score.
type ScoreOption func(*scoreMsg)

// WithUnit sets the score's unit.
func WithUnit(unit string) ScoreOption { return func(m *scoreMsg) { m.sc.Unit = unit } }

// WithComment sets a free-text comment ("thumbs up").
func WithComment(comment string) ScoreOption { return func(m *scoreMsg) { m.sc.Comment = comment } }

// WithSeverity sets the severity (0 none; larger is worse).
func WithSeverity(severity int) ScoreOption {
	return func(m *scoreMsg) { m.sc.Severity = severity }
}

// WithScoreTags sets tags saying what is scored (run_id, session_id,
// user_id, ...). They override the run's and context tags, and for a
// span's score the span's tags.
func WithScoreTags(tags map[string]string) ScoreOption {
	return func(m *scoreMsg) {
		m.sc.Tags = make(telemetry.Tags, len(tags))
		for k, v := range tags {
			m.sc.Tags[k] = v
		}
	}
}

// WithSpanID ties a package- or client-level score to a span (Span.SpanID),
// which may have ended long before. Ignored by Span.Score.
func WithSpanID(id string) ScoreOption {
	return func(m *scoreMsg) {
		if sid, err := telemetry.ParseSpanID(id); err == nil {
			m.sc.SpanID = sid
		}
	}
}

// WithTime sets when the score was given (default: when it is sent; for a
// score sent with its span, the span's end).
func WithTime(t time.Time) ScoreOption { return func(m *scoreMsg) { m.sc.Time = t } }

// scoreMsg is a score sent on its own.
type scoreMsg struct{ sc telemetry.Score }

func (m *scoreMsg) appendJSON(b []byte, _ bool) []byte { return sockmsg.AppendScore(b, &m.sc) }

// tagMsg sets (or, with remove, removes) a context tag of the run.
type tagMsg struct {
	key, value string
	remove     bool
}

func (m *tagMsg) appendJSON(b []byte, _ bool) []byte {
	if m.remove {
		return sockmsg.AppendTagRemove(b, m.key)
	}
	return sockmsg.AppendTag(b, m.key, m.value)
}
