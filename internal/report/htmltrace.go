package report

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// The bounds of the trace page (docs/ui.md), on top of the store's
// (store.MaxTraceSpans): the waterfall draws at most maxHTMLSpanRows
// spans, the first MaxSpanDetails spans are detailed, and the attribute
// values and payloads of the page hold at most maxHTMLDetailBytes, each
// value at most maxHTMLValue bytes (its start is kept).
const (
	maxHTMLDetailBytes = 2 << 20
	maxHTMLValue       = 16 << 10
)

// traceTemplates are the trace page and the show page, which defines the
// CSS ("css") that every page shares.
//
//go:embed htmltemplates/show.html.tmpl htmltemplates/trace.html.tmpl
var traceTemplates embed.FS

// TraceHTMLOptions controls TraceHTML.
type TraceHTMLOptions struct {
	Options
	// SessionURL, when not empty, links the trace's session to its page.
	SessionURL string
}

// Reads says what of a trace TraceHTML shows, for store.Trace: the details
// of the first MaxSpanDetails spans.
func (o TraceHTMLOptions) Reads() []store.TraceOption {
	return []store.TraceOption{store.DetailFirst(MaxSpanDetails)}
}

// TraceHTML writes one trace (the data of `show --trace`) as an HTML page
// in the style of ShowHTML: its spans as a tree and a waterfall, then each
// span's tags, attributes, usage, exceptions, scores and payloads. Like
// ShowHTML's, the page has inline CSS, no script and bounded size; text
// from the program is escaped. A nil d is an error.
func TraceHTML(w io.Writer, d *store.TraceDetail, opts TraceHTMLOptions) error {
	if d == nil {
		return errors.New("trace: no trace")
	}
	tmpl, err := template.ParseFS(traceTemplates, "htmltemplates/show.html.tmpl", "htmltemplates/trace.html.tmpl")
	if err != nil {
		return fmt.Errorf("parse html template: %w", err)
	}
	if err := tmpl.ExecuteTemplate(w, "trace.html.tmpl", traceHTMLDoc(d, opts)); err != nil {
		return fmt.Errorf("write trace page: %w", err)
	}
	return nil
}

// HTMLStyle is the style sheet that ShowHTML's and TraceHTML's pages
// share, for other pages that should look the same (graphsignal ui's
// session list).
func HTMLStyle() (template.CSS, error) {
	tmpl, err := template.ParseFS(htmlTemplates, "htmltemplates/show.html.tmpl")
	if err != nil {
		return "", fmt.Errorf("parse html template: %w", err)
	}
	var b strings.Builder
	if err := tmpl.ExecuteTemplate(&b, "css", nil); err != nil {
		return "", fmt.Errorf("write style sheet: %w", err)
	}
	return template.CSS(b.String()), nil
}

// htmlTracePage is what trace.html.tmpl draws.
type htmlTracePage struct {
	TraceID, SessionID, SessionURL string
	Facts                          []htmlFact
	Rows                           []htmlTraceRow
	// MoreRows counts the spans the waterfall leaves out: the page's
	// bound and the store's (TraceDetail.SpansOmitted).
	MoreRows    int
	Scores      []htmlTraceScore
	Spans       []htmlSpanDetail
	MoreDetails int
}

// htmlTraceRow is a waterfall row; Anchor is the id of the span's details
// on the page, empty when they are not there.
type htmlTraceRow struct {
	htmlSpanRow
	Anchor string
}

type htmlSpanDetail struct {
	Anchor, Name, SpanID string
	// Status is ok, error, unset or in progress; StatusClass is its
	// badge's class: failed, unset (also in progress) or none for ok.
	Status, StatusClass string
	// ParentID is the parent span's id; ParentAnchor its details' id
	// when they are on the page.
	ParentID, ParentAnchor string
	Facts                  []htmlFact
	Attributes             []htmlValue
	Exceptions             []htmlException
	Scores                 []htmlTraceScore
	Payloads               []htmlPayload
}

// htmlValue is a text cut to the page's bounds; Cut counts the bytes left
// out at its end.
type htmlValue struct {
	Key, Text string
	Cut       int
}

type htmlException struct {
	Head  string
	Stack htmlValue
}

type htmlPayload struct {
	htmlValue
	// Info is the payload's size and content type; Binary says its data
	// is not text and is not shown.
	Info   string
	Binary bool
}

func traceHTMLDoc(d *store.TraceDetail, opts TraceHTMLOptions) htmlTracePage {
	p := htmlTracePage{TraceID: d.TraceID.String(), SessionID: clean(d.SessionID), SessionURL: opts.SessionURL}
	nodes := make([]store.SpanNode, len(d.Spans))
	for i := range d.Spans {
		nodes[i] = d.Spans[i].SpanNode
		nodes[i].Name, nodes[i].Error = clean(nodes[i].Name), clean(firstLine(nodes[i].Error))
	}
	p.Facts = []htmlFact{{"Started", when(d.Start, opts.Options)}, {"Duration", Duration(d.Duration)},
		{"Spans", traceSpansText(d)}}

	details := min(len(d.Spans), MaxSpanDetails)
	anchors := make(map[telemetry.SpanID]string, details)
	for i := range details {
		anchors[d.Spans[i].SpanID] = "s-" + d.Spans[i].SpanID.String()
	}
	drawn := min(len(nodes), maxHTMLSpanRows)
	wf := traceHTML(&store.Run{}, d.TraceID, nodes, nodes[:drawn], true)
	for i, row := range wf.Rows {
		p.Rows = append(p.Rows, htmlTraceRow{htmlSpanRow: row, Anchor: anchors[nodes[i].SpanID]})
	}
	p.MoreRows = len(nodes) - drawn + d.SpansOmitted
	p.Scores = scoresHTML(d.Scores, opts.Options)

	left := maxHTMLDetailBytes
	for i := range details {
		p.Spans = append(p.Spans, spanDetailHTML(d, &d.Spans[i], anchors, opts.Options, &left))
	}
	p.MoreDetails = len(d.Spans) - details
	return p
}

// spanDetailHTML describes sp, its values cut to what is left of the
// page's *left bytes.
func spanDetailHTML(d *store.TraceDetail, sp *store.TraceSpan, anchors map[telemetry.SpanID]string, opts Options,
	left *int) htmlSpanDetail {
	h := htmlSpanDetail{Anchor: anchors[sp.SpanID], Name: clean(sp.Name), SpanID: sp.SpanID.String(),
		Status: sp.Status.String()}
	switch {
	case sp.End.IsZero():
		h.Status, h.StatusClass = "in progress", "unset"
	case sp.Status == telemetry.StatusError:
		h.StatusClass = "failed"
	case sp.Status != telemetry.StatusOK:
		h.StatusClass = "unset"
	}
	if !sp.ParentSpanID.IsZero() {
		h.ParentID, h.ParentAnchor = sp.ParentSpanID.String(), anchors[sp.ParentSpanID]
	}
	add := func(k, v string) { h.Facts = append(h.Facts, htmlFact{k, v}) }
	add("Started", when(sp.Start, opts)+" (+"+Duration(sp.Start.Sub(d.Start))+")")
	add("Duration", spanDuration(&sp.SpanNode))
	if sp.StatusMessage != "" {
		add("Message", clean(firstLine(cutHead(sp.StatusMessage))))
	}
	if sp.RunID != "" {
		add("Run", clean(sp.RunID))
	}
	if len(sp.Tags) > 0 {
		add("Tags", pairs(sp.Tags))
	}
	if len(sp.Usage) > 0 {
		add("Usage", usageText(sp.Usage))
	}
	keys := make([]string, 0, len(sp.Attributes))
	for k := range sp.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		text, n := cutTo(preText(attrText(sp.Attributes[k])), left)
		h.Attributes = append(h.Attributes, htmlValue{Key: clean(k), Text: text, Cut: n})
	}
	for _, e := range sp.Exceptions {
		head := e.Type
		if e.Message != "" {
			head += ": " + e.Message
		}
		stack, n := cutTo(preText(strings.TrimRight(e.StackTrace, "\n")), left)
		h.Exceptions = append(h.Exceptions, htmlException{Head: clean(firstLine(cutHead(head))),
			Stack: htmlValue{Text: stack, Cut: n}})
	}
	h.Scores = scoresHTML(sp.Scores, opts)
	for _, pl := range sp.Payloads {
		hp := htmlPayload{htmlValue: htmlValue{Key: clean(pl.Name)}, Info: Bytes(int64(len(pl.Data)))}
		if pl.ContentType != "" {
			hp.Info += ", " + clean(pl.ContentType)
		}
		text, ok := payloadString(pl)
		if ok {
			hp.Text, hp.Cut = cutTo(preText(text), left)
		} else {
			hp.Binary = true
		}
		h.Payloads = append(h.Payloads, hp)
	}
	return h
}

type htmlTraceScore struct {
	Time, Name, Value, Severity, Comment string
}

func scoresHTML(scores []store.Score, opts Options) []htmlTraceScore {
	out := make([]htmlTraceScore, 0, len(scores))
	for _, sc := range scores {
		value := Number(sc.Value)
		if sc.Unit != "" {
			value += " " + sc.Unit
		}
		out = append(out, htmlTraceScore{Time: when(sc.Time, opts), Name: clean(sc.Name), Value: clean(value),
			Severity: strconv.Itoa(sc.Severity), Comment: sc.Comment})
	}
	return out
}

// cutTo returns s cut to at most maxHTMLValue bytes and to what is left of
// *left (at a character boundary), takes its length from *left, and says
// how many bytes it left out.
func cutTo(s string, left *int) (string, int) {
	n := min(len(s), maxHTMLValue, max(*left, 0))
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	*left -= n
	return s[:n], len(s) - n
}

// preText is multi-line program text for a <pre>: terminal escapes
// removed, other control characters but newlines and tabs shown as U+FFFD.
func preText(s string) string {
	s = ansiSeq().ReplaceAllString(s, "")
	return strings.Map(func(r rune) rune {
		if r != '\n' && r != '\t' && isControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
}
