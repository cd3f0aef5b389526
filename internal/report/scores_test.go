package report

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// scoresDetail is a session with three score names: thumbs (two distinct
// values), relevance (a histogram, a severe score first among the worst)
// and broken (no value at all).
func scoresDetail() *store.SessionDetail {
	trace := mustTrace("5bf92f3577b34da6a3ce929d0e0e4736")
	return &store.SessionDetail{
		Summary: store.SessionSummary{ID: "s-1", FirstStart: t0},
		ScoreSummaries: []store.ScoreSummary{
			{Name: "broken", Count: 2},
			{Name: "relevance", Unit: "p", Count: 500, Valued: 499, Mean: 0.71, Min: 0.02, P50: 0.75, Max: 0.99,
				Distribution: []store.ScoreBucket{{Low: 0.02, High: 0.117, Count: 10}, {Low: 0.117, High: 0.214, Count: 0},
					{Low: 0.214, High: 0.311, Count: 40}, {Low: 0.311, High: 0.99, Count: 449}},
				Worst: []store.WorstScore{
					{Score: store.Score{Name: "relevance", Value: 0.5, Severity: 2, Comment: "unsafe\nsecond line",
						TraceID: trace, SpanID: mustSpan("00000000000000a2"), Time: t0.Add(time.Second)}, SpanName: "llm"},
					{Score: store.Score{Name: "relevance", Value: 0.02, Comment: "off topic", TraceID: trace,
						SpanID: mustSpan("00000000000000a3"), Time: t0.Add(2 * time.Second)}},
				}},
			{Name: "thumbs", Count: 5, Valued: 5, Mean: 0.6, Min: 0, P50: 1, Max: 1,
				Distribution: []store.ScoreBucket{{Low: 0, High: 0, Count: 2}, {Low: 1, High: 1, Count: 3}},
				Worst: []store.WorstScore{{Score: store.Score{Name: "thumbs", Value: 0, Comment: "wrong answer",
					Tags: telemetry.Tags{"user_id": "bob"}, Time: t0.Add(3 * time.Second)}}}},
		},
	}
}

func TestScoresText(t *testing.T) {
	var b bytes.Buffer
	if err := Show(&b, scoresDetail(), Options{Format: Text}); err != nil {
		t.Fatal(err)
	}
	_, got, ok := strings.Cut(b.String(), "\nScores\n")
	if !ok {
		t.Fatalf("Show() = %q, want a Scores section", b.String())
	}
	want := `  NAME                           COUNT  MEAN   MIN   P50   MAX  DISTRIBUTION
  broken           2 (2 without value)     -     -     -     -
  relevance (p)  500 (1 without value)  0.71  0.02  0.75  0.99  0.02 ▁ ▁█ 0.99
  thumbs                             5   0.6     0     1     1  0: ▆ 2  1: █ 3

  Worst scores (highest severity, then lowest value)
  NAME           VALUE  SEVERITY  SPAN              TRACE     COMMENT
  relevance (p)    0.5         2  llm               5bf92f35  unsafe
  relevance (p)   0.02         -  00000000000000a3  5bf92f35  off topic
  thumbs             0         -  -                 -         wrong answer
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Scores section mismatch (-want +got):\n%s", diff)
	}
}

func TestScoresTextNone(t *testing.T) {
	var b bytes.Buffer
	d := scoresDetail()
	d.ScoreSummaries = nil
	if err := Show(&b, d, Options{Format: Text}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "Scores") {
		t.Errorf("Show() without scores = %q, want no Scores section", b.String())
	}
}

func TestDistributionText(t *testing.T) {
	tests := []struct {
		name    string
		buckets []store.ScoreBucket
		want    string
	}{
		{"none", nil, ""},
		{"one value", []store.ScoreBucket{{Low: 1, High: 1, Count: 7}}, "1: █ 7"},
		{"values", []store.ScoreBucket{{Low: 1, High: 1, Count: 1}, {Low: 2, High: 2, Count: 8}, {Low: 5, High: 5, Count: 4}},
			"1: ▁ 1  2: █ 8  5: ▄ 4"},
		{"buckets", []store.ScoreBucket{{Low: 0, High: 0.5, Count: 8}, {Low: 0.5, High: 1, Count: 0}, {Low: 1, High: 1.5, Count: 1}},
			"0 █ ▁ 1.5"},
	}
	for _, tt := range tests {
		if got := distributionText(tt.buckets); got != tt.want {
			t.Errorf("distributionText(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestScoresJSON(t *testing.T) {
	var b bytes.Buffer
	if err := Show(&b, scoresDetail(), Options{Format: JSON}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Scores         []any `json:"scores"`
		ScoreSummaries map[string]struct {
			Count        int      `json:"count"`
			WithValue    int      `json:"with_value"`
			Unit         *string  `json:"unit"`
			Mean         *float64 `json:"mean"`
			Min          *float64 `json:"min"`
			P50          *float64 `json:"p50"`
			Max          *float64 `json:"max"`
			Distribution []struct {
				Low, High float64
				Count     int
			} `json:"distribution"`
			Worst []struct {
				Value    *float64          `json:"value"`
				Severity int               `json:"severity"`
				Comment  string            `json:"comment"`
				SpanName *string           `json:"span_name"`
				TraceID  *string           `json:"trace_id"`
				SpanID   *string           `json:"span_id"`
				Tags     map[string]string `json:"tags"`
				Time     *string           `json:"time"`
			} `json:"worst"`
		} `json:"score_summaries"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("Show(--json) = %v\n%s", err, b.String())
	}
	if doc.Scores == nil {
		t.Errorf("scores = null, want []")
	}
	if len(doc.ScoreSummaries) != 3 {
		t.Fatalf("score_summaries = %+v, want broken, relevance, thumbs", doc.ScoreSummaries)
	}
	broken := doc.ScoreSummaries["broken"]
	if broken.Count != 2 || broken.WithValue != 0 || broken.Mean != nil || broken.P50 != nil || broken.Unit != nil ||
		broken.Distribution == nil || broken.Worst == nil {
		t.Errorf("score_summaries.broken = %+v, want count 2, null statistics, empty lists", broken)
	}
	rel := doc.ScoreSummaries["relevance"]
	if rel.Count != 500 || rel.WithValue != 499 || *rel.Unit != "p" || *rel.Mean != 0.71 || *rel.Min != 0.02 ||
		*rel.P50 != 0.75 || *rel.Max != 0.99 || len(rel.Distribution) != 4 || rel.Distribution[3].Count != 449 ||
		rel.Distribution[3].High != 0.99 {
		t.Errorf("score_summaries.relevance = %+v", rel)
	}
	if len(rel.Worst) != 2 {
		t.Fatalf("score_summaries.relevance.worst = %+v, want 2", rel.Worst)
	}
	w := rel.Worst[0]
	if *w.Value != 0.5 || w.Severity != 2 || w.Comment != "unsafe\nsecond line" || *w.SpanName != "llm" ||
		*w.TraceID != "5bf92f3577b34da6a3ce929d0e0e4736" || *w.SpanID != "00000000000000a2" ||
		*w.Time != "2026-11-20T10:00:01.123456789Z" || w.Tags == nil {
		t.Errorf("score_summaries.relevance.worst[0] = %+v", w)
	}
	if w := rel.Worst[1]; w.SpanName != nil || *w.SpanID != "00000000000000a3" {
		t.Errorf("score_summaries.relevance.worst[1] = %+v, want span_name null", w)
	}
	if w := doc.ScoreSummaries["thumbs"].Worst[0]; w.TraceID != nil || w.SpanID != nil || w.Tags["user_id"] != "bob" {
		t.Errorf("score_summaries.thumbs.worst[0] = %+v, want no ids, its tags", w)
	}
}

func TestScoresHTML(t *testing.T) {
	var b bytes.Buffer
	if err := ShowHTML(&b, scoresDetail(), Options{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		"<h2>Scores</h2>",
		`<td>relevance (p)</td><td class="num">500 (1 without value)</td><td class="num">0.71</td><td class="num">0.02</td><td class="num">0.75</td><td class="num">0.99</td>`,
		`<span title="0.311 to 0.99: 449" style="height:100%"></span>`,
		`<span title="0.117 to 0.214: 0" style="height:0%"></span>`,
		`<span title="0: 2" style="height:66.67%"></span><span title="1: 3" style="height:100%"></span>`,
		`<td>broken</td><td class="num">2 (2 without value)</td><td class="num">-</td>`,
		"<h3>Worst scores</h3>",
		`<td>relevance (p)</td><td class="num">0.5</td><td class="num">2</td><td>llm</td><td class="mono">5bf92f3577b34da6a3ce929d0e0e4736</td><td>unsafe
second line</td>`,
		`<td>thumbs</td><td class="num">0</td><td class="num">-</td><td>-</td><td class="mono">-</td><td>wrong answer</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("ShowHTML() lacks %q", want)
		}
	}
	if strings.Contains(page, "more score names") {
		t.Errorf("ShowHTML() says score names were left out")
	}
}

func TestScoresHTMLBound(t *testing.T) {
	d := scoresDetail()
	d.ScoreSummaries = make([]store.ScoreSummary, maxHTMLScoreNames+3)
	for i := range d.ScoreSummaries {
		d.ScoreSummaries[i] = store.ScoreSummary{Name: "n", Count: 1, Valued: 1, Mean: math.Pi}
	}
	var b bytes.Buffer
	if err := ShowHTML(&b, d, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(b.String(), "<td>n</td>"); got != maxHTMLScoreNames {
		t.Errorf("ShowHTML() sums up %d score names, want %d", got, maxHTMLScoreNames)
	}
	if !strings.Contains(b.String(), "3 more score names (see show --json)") {
		t.Errorf("ShowHTML() does not count the 3 score names left out")
	}
}
