package graphsignal

import (
	"context"
	"testing"
	"time"
)

// TestSpanScoreOptions: a score sent with its span keeps its time and its
// own tags (over the span's), as a score sent alone does.
func TestSpanScoreOptions(t *testing.T) {
	srv, col := intake(t, true)
	c := NewClient(srv.Addr())
	at := time.Unix(1_750_000_000, 0)
	s := c.Trace(context.Background(), "generate", map[string]string{"user_id": "u1", "model": "m"})
	s.Score("relevance", 0.5, WithTime(at), WithScoreTags(map[string]string{"user_id": "judge"}))
	s.Score("plain", 1)
	s.End()
	closeClient(t, c)
	settle(t, srv)
	b := col.get()
	if len(b.Spans) != 1 || len(b.Spans[0].Scores) != 2 {
		t.Fatalf("got %+v, want one span with two scores", b.Spans)
	}
	sp := b.Spans[0]
	rel, plain := sp.Scores[0], sp.Scores[1]
	if !rel.Time.Equal(at) || rel.Tags["user_id"] != "judge" || rel.Tags["model"] != "m" || rel.Tags["session_id"] != "s" {
		t.Errorf("relevance score = %+v, want its own time and user_id over the span's tags", rel)
	}
	if !plain.Time.Equal(sp.End) || plain.Tags["user_id"] != "u1" {
		t.Errorf("plain score = %+v, want the span's end and tags", plain)
	}
}
