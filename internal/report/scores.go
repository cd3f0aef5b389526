package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

type (
	// scoreSummaryJSON is docs/json.md, "Score summary".
	scoreSummaryJSON struct {
		Count        int               `json:"count"`
		WithValue    int               `json:"with_value"`
		Unit         *string           `json:"unit"`
		Mean         *jsonNum          `json:"mean"`
		Min          *jsonNum          `json:"min"`
		P50          *jsonNum          `json:"p50"`
		Max          *jsonNum          `json:"max"`
		Distribution []scoreBucketJSON `json:"distribution"`
		Worst        []worstScoreJSON  `json:"worst"`
	}

	scoreBucketJSON struct {
		Low   jsonNum `json:"low"`
		High  jsonNum `json:"high"`
		Count int     `json:"count"`
	}

	worstScoreJSON struct {
		Value    jsonNum           `json:"value"`
		Severity int               `json:"severity"`
		Comment  string            `json:"comment"`
		SpanName *string           `json:"span_name"`
		TraceID  *string           `json:"trace_id"`
		SpanID   *string           `json:"span_id"`
		Tags     map[string]string `json:"tags"`
		Time     *jsonTime         `json:"time"`
	}
)

// scoreSummariesDoc is the score summaries by name.
func scoreSummariesDoc(sums []store.ScoreSummary) map[string]scoreSummaryJSON {
	out := make(map[string]scoreSummaryJSON, len(sums))
	for _, s := range sums {
		j := scoreSummaryJSON{Count: s.Count, WithValue: s.Valued, Unit: sp(s.Unit),
			Distribution: make([]scoreBucketJSON, 0, len(s.Distribution)), Worst: make([]worstScoreJSON, 0, len(s.Worst))}
		if s.Valued > 0 {
			j.Mean, j.Min, j.P50, j.Max = np(s.Mean), np(s.Min), np(s.P50), np(s.Max)
		}
		for _, b := range s.Distribution {
			j.Distribution = append(j.Distribution, scoreBucketJSON{Low: jsonNum(b.Low), High: jsonNum(b.High), Count: b.Count})
		}
		for _, w := range s.Worst {
			j.Worst = append(j.Worst, worstScoreJSON{Value: jsonNum(w.Value), Severity: w.Severity, Comment: w.Comment,
				SpanName: sp(w.SpanName), TraceID: sp(w.TraceID.String()), SpanID: sp(w.SpanID.String()),
				Tags: tagsDoc(w.Tags), Time: tp(w.Time)})
		}
		out[s.Name] = j
	}
	return out
}

func np(v float64) *jsonNum {
	n := jsonNum(v)
	return &n
}

// scoresText writes a line per score name (count, mean, min, p50, max and
// the distribution), then the worst scores of every name.
func scoresText(ew *errWriter, sums []store.ScoreSummary) {
	if len(sums) == 0 {
		return
	}
	ew.printf("\nScores\n")
	t := table{indent: "  ", right: map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true}}
	t.add("NAME", "COUNT", "MEAN", "MIN", "P50", "MAX", "DISTRIBUTION")
	worst := table{indent: "  ", right: map[int]bool{1: true, 2: true}}
	worst.add("NAME", "VALUE", "SEVERITY", "SPAN", "TRACE", "COMMENT")
	for _, s := range sums {
		name := clean(scoreName(s))
		if s.Valued == 0 {
			t.add(name, scoreCount(s), "-", "-", "-", "-", "")
		} else {
			t.add(name, scoreCount(s), Number(s.Mean), Number(s.Min), Number(s.P50), Number(s.Max),
				distributionText(s.Distribution))
		}
		for _, w := range s.Worst {
			worst.add(name, Number(w.Value), severityText(w.Severity), orDash(clean(scoredSpan(w))),
				orDash(shortTrace(w.TraceID)), clean(firstLine(w.Comment)))
		}
	}
	ew.table(&t)
	if len(worst.rows) > 1 {
		ew.printf("\n  Worst scores (highest severity, then lowest value)\n")
		ew.table(&worst)
	}
}

// distributionText draws a distribution on one line: each distinct value,
// its bar and its count ("0: ▃ 2  1: █ 5"), or the buckets' bars between
// the lowest and highest value ("0 ▁▃▅█▆▂ 0.95").
func distributionText(ds []store.ScoreBucket) string {
	if len(ds) == 0 {
		return ""
	}
	counts := make([]int, len(ds))
	for i, b := range ds {
		counts[i] = b.Count
	}
	bars := []rune(countBars(counts))
	if ds[0].Low != ds[0].High {
		return Number(ds[0].Low) + " " + string(bars) + " " + Number(ds[len(ds)-1].High)
	}
	parts := make([]string, len(ds))
	for i, b := range ds {
		parts[i] = Number(b.Low) + ": " + string(bars[i]) + " " + strconv.Itoa(b.Count)
	}
	return strings.Join(parts, "  ")
}

// countBars draws counts as block characters scaled to the largest, a
// zero count as a space and any other as at least the lowest block.
func countBars(counts []int) string {
	top := 0
	for _, c := range counts {
		top = max(top, c)
	}
	var b strings.Builder
	for _, c := range counts {
		if c <= 0 {
			b.WriteRune(' ')
			continue
		}
		i := int(math.Ceil(float64(c)/float64(top)*float64(len(sparks)))) - 1
		b.WriteRune(sparks[min(max(i, 0), len(sparks)-1)])
	}
	return b.String()
}

// scoreName is a score name with its unit, if any.
func scoreName(s store.ScoreSummary) string {
	if s.Unit == "" {
		return s.Name
	}
	return s.Name + " (" + s.Unit + ")"
}

// scoreCount is the number of scores, and of those without a value.
func scoreCount(s store.ScoreSummary) string {
	count := strconv.Itoa(s.Count)
	if n := s.Count - s.Valued; n > 0 {
		count += fmt.Sprintf(" (%d without value)", n)
	}
	return count
}

// severityText is a severity, "-" for none.
func severityText(severity int) string {
	if severity == 0 {
		return "-"
	}
	return strconv.Itoa(severity)
}

// scoredSpan names the span a score names: its name when the store holds
// it, else its id.
func scoredSpan(w store.WorstScore) string {
	if w.SpanName != "" {
		return w.SpanName
	}
	return w.SpanID.String()
}

// shortTrace is a trace id's first 8 hex digits, "" for none.
func shortTrace(id telemetry.TraceID) string {
	s := id.String()
	if s == "" {
		return ""
	}
	return s[:8]
}

// maxHTMLScoreNames caps the score names the HTML report sums up.
const maxHTMLScoreNames = 200

type (
	// htmlScoreSummary is a store.ScoreSummary formatted for the page.
	htmlScoreSummary struct {
		Name, Count, Mean, Min, P50, Max string
		Bars                             []htmlScoreBar
	}

	// htmlScoreBar is one bucket of a distribution; Height is its count in
	// percent of the largest.
	htmlScoreBar struct {
		Label  string
		Height float64
	}

	htmlWorstScore struct {
		Name, Value, Severity, Span, Trace, Comment, Time string
	}
)

// scoreSummariesHTML describes the first maxHTMLScoreNames score
// summaries and their worst scores, and counts the summaries left out.
func scoreSummariesHTML(sums []store.ScoreSummary, opts Options) ([]htmlScoreSummary, int, []htmlWorstScore) {
	var (
		out   []htmlScoreSummary
		worst []htmlWorstScore
	)
	more := max(len(sums)-maxHTMLScoreNames, 0)
	for _, s := range sums[:len(sums)-more] {
		name := scoreName(s)
		h := htmlScoreSummary{Name: name, Count: scoreCount(s), Mean: "-", Min: "-", P50: "-", Max: "-"}
		if s.Valued > 0 {
			h.Mean, h.Min, h.P50, h.Max = Number(s.Mean), Number(s.Min), Number(s.P50), Number(s.Max)
		}
		top := 1
		for _, b := range s.Distribution {
			top = max(top, b.Count)
		}
		for _, b := range s.Distribution {
			label := Number(b.Low)
			if b.High != b.Low {
				label += " to " + Number(b.High)
			}
			h.Bars = append(h.Bars, htmlScoreBar{Label: label + ": " + strconv.Itoa(b.Count),
				Height: percent(float64(b.Count) / float64(top))})
		}
		out = append(out, h)
		for _, w := range s.Worst {
			worst = append(worst, htmlWorstScore{Name: name, Value: Number(w.Value), Severity: severityText(w.Severity),
				Span: orDash(scoredSpan(w)), Trace: orDash(w.TraceID.String()), Comment: cutHead(w.Comment),
				Time: when(w.Time, opts)})
		}
	}
	return out, more, worst
}
