package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TraceOptions controls Trace.
type TraceOptions struct {
	Options
	// Full shows payloads and attribute values whole in text; otherwise
	// they are cut at PayloadLimit bytes. JSON is always whole.
	Full bool
}

// Reads says what of a trace Trace shows with o, for store.Trace: text
// details only the first MaxSpanDetails spans; JSON details them all.
func (o TraceOptions) Reads() []store.TraceOption {
	if o.Format == JSON {
		return nil
	}
	return []store.TraceOption{store.DetailFirst(MaxSpanDetails)}
}

// PayloadLimit is how many bytes of a payload or attribute value text
// output shows without TraceOptions.Full.
const PayloadLimit = 1000

// MaxSpanDetails is how many spans (the first in tree order) text output
// details; the waterfall lists them all and JSON details them all.
const MaxSpanDetails = 200

// waterfallWidth is the width of the waterfall bars, in columns.
const waterfallWidth = 40

// Trace writes one trace with everything recorded on its spans. A nil d is
// an error.
func Trace(w io.Writer, d *store.TraceDetail, opts TraceOptions) error {
	if d == nil {
		return errors.New("trace: no trace")
	}
	if opts.Format == JSON {
		return writeJSON(w, traceDetailDoc(d))
	}
	return traceText(w, d, opts)
}

func traceText(w io.Writer, d *store.TraceDetail, opts TraceOptions) error {
	ew := &errWriter{w: w}
	ew.printf("Trace %s\n", d.TraceID)
	kv := table{indent: "  "}
	kv.add("Session", clean(d.SessionID))
	kv.add("Started", when(d.Start, opts.Options))
	kv.add("Duration", Duration(d.Duration))
	kv.add("Spans", traceSpansText(d))
	ew.table(&kv)

	ew.printf("\n")
	full, empty := '█', '─'
	if !opts.Terminal {
		full, empty = '#', '.'
	}
	t := table{indent: "  ", right: map[int]bool{1: true}}
	t.add("SPAN", "DURATION", "0"+strings.Repeat(" ", waterfallWidth-1-len(Duration(d.Duration)))+Duration(d.Duration))
	for i := range d.Spans {
		sp := &d.Spans[i]
		row := []string{strings.Repeat("  ", min(sp.Depth, 20)) + clean(sp.Name), spanDuration(&sp.SpanNode),
			bar(d, &sp.SpanNode, full, empty)}
		if sp.Status == telemetry.StatusError {
			note := "error"
			if sp.Error != "" {
				note += ": " + firstLine(sp.Error)
			}
			row = append(row, clean(note))
		}
		t.add(row...)
	}
	ew.table(&t)
	if d.SpansOmitted > 0 {
		ew.printf("  ... %s not listed\n", Plural(d.SpansOmitted, "more span"))
	}
	if len(d.Scores) > 0 {
		ew.printf("\nTrace scores\n")
		scoreLines(ew, d.Scores, "  ")
	}
	details := min(len(d.Spans), MaxSpanDetails)
	for i := range details {
		spanDetail(ew, d, &d.Spans[i], opts)
	}
	if more := len(d.Spans) - details; more > 0 {
		ew.printf("\n%s not detailed: --json details every span\n", Plural(more, "more span"))
	}
	return ew.err
}

// traceSpansText says how many spans d has, how many failed, and how many
// are listed: "10005 (2 errors), the first 10000 by start listed".
func traceSpansText(d *store.TraceDetail) string {
	errs := 0
	for i := range d.Spans {
		if d.Spans[i].Status == telemetry.StatusError {
			errs++
		}
	}
	spans := strconv.Itoa(len(d.Spans) + d.SpansOmitted)
	if errs > 0 {
		spans += " (" + Plural(errs, "error") + ")"
	}
	if d.SpansOmitted > 0 {
		spans += ", the first " + strconv.Itoa(len(d.Spans)) + " by start listed"
	}
	return spans
}

// usageText writes a span's usage counters on one line:
// "input.token_count=120 output.token_count=30".
func usageText(usage []telemetry.Usage) string {
	parts := make([]string, len(usage))
	for i, u := range usage {
		name := u.Name
		if u.PayloadName != "" {
			name = u.PayloadName + "." + name
		}
		parts[i] = name + "=" + Number(u.Value)
	}
	return clean(strings.Join(parts, " "))
}

func spanDuration(sp *store.SpanNode) string {
	if sp.End.IsZero() {
		return "open"
	}
	return Duration(sp.Duration)
}

// bar draws sp's extent within the trace's as waterfallWidth cells: full
// from the cell its start falls in to the one its end falls in (at least
// one), empty elsewhere. An open span extends to the trace's end.
func bar(d *store.TraceDetail, sp *store.SpanNode, full, empty rune) string {
	total := float64(d.Duration)
	from, to := 0, waterfallWidth
	if total > 0 {
		cell := func(off float64) int {
			return min(max(int(math.Floor(off/total*waterfallWidth)), 0), waterfallWidth-1)
		}
		from = cell(float64(sp.Start.Sub(d.Start)))
		to = waterfallWidth
		if !sp.End.IsZero() {
			to = cell(float64(sp.End.Sub(d.Start))-1) + 1
		}
		to = max(to, from+1)
	}
	var b strings.Builder
	for i := range waterfallWidth {
		if i >= from && i < to {
			b.WriteRune(full)
		} else {
			b.WriteRune(empty)
		}
	}
	return b.String()
}

func spanDetail(ew *errWriter, d *store.TraceDetail, sp *store.TraceSpan, opts TraceOptions) {
	ew.printf("\n%s  %s\n", clean(sp.Name), sp.SpanID)
	kv := table{indent: "  "}
	if !sp.ParentSpanID.IsZero() {
		kv.add("Parent", sp.ParentSpanID.String())
	}
	kv.add("Started", when(sp.Start, opts.Options)+" (+"+Duration(sp.Start.Sub(d.Start))+")")
	kv.add("Duration", spanDuration(&sp.SpanNode))
	status := sp.Status.String()
	if sp.End.IsZero() {
		status = "in progress"
	}
	if sp.StatusMessage != "" {
		status += ": " + firstLine(sp.StatusMessage)
	}
	kv.add("Status", clean(status))
	if len(sp.Tags) > 0 {
		kv.add("Tags", pairs(sp.Tags))
	}
	if len(sp.Usage) > 0 {
		kv.add("Usage", usageText(sp.Usage))
	}
	ew.table(&kv)
	if len(sp.Attributes) > 0 {
		ew.printf("  Attributes\n")
		keys := make([]string, 0, len(sp.Attributes))
		for k := range sp.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		at := table{indent: "    "}
		for _, k := range keys {
			v, more := cut(attrText(sp.Attributes[k]), opts.Full)
			if more > 0 {
				v += " … " + strconv.Itoa(more) + " more bytes (--full)"
			}
			at.add(clean(k), clean(v))
		}
		ew.table(&at)
	}
	for _, e := range sp.Exceptions {
		head := e.Type
		if e.Message != "" {
			head += ": " + e.Message
		}
		ew.printf("  Exception %s\n", clean(firstLine(head)))
		if st := strings.TrimRight(e.StackTrace, "\n"); st != "" {
			lines(ew, st, "    ")
		}
	}
	if len(sp.Scores) > 0 {
		ew.printf("  Scores\n")
		scoreLines(ew, sp.Scores, "    ")
	}
	for _, p := range sp.Payloads {
		payloadText(ew, p, opts.Full)
	}
}

// lines writes s line by line after indent, without control characters.
func lines(ew *errWriter, s, indent string) {
	for _, l := range strings.Split(s, "\n") {
		ew.printf("%s%s\n", indent, strings.TrimRight(clean(strings.TrimSuffix(l, "\r")), " "))
	}
}

func scoreLines(ew *errWriter, scores []store.Score, indent string) {
	t := table{indent: indent, right: map[int]bool{1: true}}
	for _, s := range scores {
		value := Number(s.Value)
		if s.Unit != "" {
			value += " " + s.Unit
		}
		row := []string{clean(s.Name), clean(value)}
		if s.Severity != 0 {
			row = append(row, "severity "+strconv.Itoa(s.Severity))
		} else {
			row = append(row, "")
		}
		t.add(append(row, clean(firstLine(s.Comment)))...)
	}
	ew.table(&t)
}

// payloadText writes a payload's heading and its text (JSON indented),
// cut at PayloadLimit bytes unless full; a binary payload only as its size.
func payloadText(ew *errWriter, p telemetry.Payload, full bool) {
	head := "  Payload " + clean(p.Name) + " (" + Bytes(int64(len(p.Data)))
	if p.ContentType != "" {
		head += ", " + clean(p.ContentType)
	}
	text, ok := payloadString(p)
	if !ok {
		ew.printf("%s, binary)\n", head)
		return
	}
	ew.printf("%s)\n", head)
	text, more := cut(text, full)
	if text != "" {
		lines(ew, text, "    ")
	}
	if more > 0 {
		ew.printf("    … %d more bytes (--full)\n", more)
	}
}

// payloadString is a payload's data as text, JSON indented; false for
// binary data (not UTF-8, or holding NUL bytes).
func payloadString(p telemetry.Payload) (string, bool) {
	if !utf8.Valid(p.Data) || bytes.IndexByte(p.Data, 0) >= 0 {
		return "", false
	}
	var b bytes.Buffer
	if json.Valid(p.Data) && json.Indent(&b, p.Data, "", "  ") == nil {
		return b.String(), true
	}
	return strings.TrimRight(string(p.Data), "\n"), true
}

// cut returns s, or its first PayloadLimit bytes (on a character boundary)
// and how many bytes it left out unless full.
func cut(s string, full bool) (string, int) {
	if full || len(s) <= PayloadLimit {
		return s, 0
	}
	n := PayloadLimit
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], len(s) - n
}

// attrText is an attribute value for text: strings as they are, other
// values as JSON.
func attrText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return Number(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}

// The `show --trace --json` document (docs/json.md, "show --trace
// --json").
type (
	traceDocJSON struct {
		SchemaVersion int             `json:"schema_version"`
		Trace         traceDetailJSON `json:"trace"`
	}

	traceDetailJSON struct {
		TraceID         string          `json:"trace_id"`
		SessionID       string          `json:"session_id"`
		Start           *jsonTime       `json:"start"`
		End             *jsonTime       `json:"end"`
		DurationSeconds float64         `json:"duration_seconds"`
		Spans           []traceSpanJSON `json:"spans"`
		SpansOmitted    int             `json:"spans_omitted"`
		Scores          []scoreJSON     `json:"scores"`
	}

	traceSpanJSON struct {
		spanJSON
		RunID      *string           `json:"run_id"`
		Tags       map[string]string `json:"tags"`
		Attributes map[string]any    `json:"attributes"`
		Usage      []usageJSON       `json:"usage"`
		Exceptions []exceptionJSON   `json:"exceptions"`
		Scores     []scoreJSON       `json:"scores"`
		Payloads   []payloadJSON     `json:"payloads"`
	}

	usageJSON struct {
		PayloadName *string `json:"payload_name"`
		Name        string  `json:"name"`
		Value       jsonNum `json:"value"`
	}

	exceptionJSON struct {
		Type       string    `json:"type"`
		Message    *string   `json:"message"`
		StackTrace *string   `json:"stack_trace"`
		Time       *jsonTime `json:"time"`
	}

	payloadJSON struct {
		Name        string  `json:"name"`
		ContentType *string `json:"content_type"`
		SizeBytes   int     `json:"size_bytes"`
		Encoding    string  `json:"encoding"`
		Data        string  `json:"data"`
	}
)

func traceDetailDoc(d *store.TraceDetail) traceDocJSON {
	doc := traceDetailJSON{
		TraceID: d.TraceID.String(), SessionID: d.SessionID, Start: tp(d.Start), End: tp(d.End),
		DurationSeconds: d.Duration.Seconds(), Spans: make([]traceSpanJSON, 0, len(d.Spans)),
		SpansOmitted: d.SpansOmitted, Scores: scoresDoc(d.Scores),
	}
	for i := range d.Spans {
		s := &d.Spans[i]
		j := traceSpanJSON{
			spanJSON: spanJSON{
				SpanID: s.SpanID.String(), ParentSpanID: sp(s.ParentSpanID.String()), Name: s.Name,
				Start: tp(s.Start), End: tp(s.End), DurationSeconds: s.Duration.Seconds(), Status: spanStatus(&s.SpanNode),
				StatusMessage: sp(s.StatusMessage), Error: sp(s.Error), SessionID: sp(s.SessionID), Depth: s.Depth,
			},
			RunID: sp(s.RunID), Tags: tagsDoc(s.Tags), Attributes: s.Attributes,
			Usage: make([]usageJSON, 0, len(s.Usage)), Exceptions: make([]exceptionJSON, 0, len(s.Exceptions)),
			Scores: scoresDoc(s.Scores), Payloads: make([]payloadJSON, 0, len(s.Payloads)),
		}
		if j.Attributes == nil {
			j.Attributes = map[string]any{}
		}
		for _, u := range s.Usage {
			j.Usage = append(j.Usage, usageJSON{PayloadName: sp(u.PayloadName), Name: u.Name, Value: jsonNum(u.Value)})
		}
		for _, e := range s.Exceptions {
			j.Exceptions = append(j.Exceptions, exceptionJSON{Type: e.Type, Message: sp(e.Message),
				StackTrace: sp(e.StackTrace), Time: tp(e.Time)})
		}
		for _, p := range s.Payloads {
			pj := payloadJSON{Name: p.Name, ContentType: sp(p.ContentType), SizeBytes: len(p.Data), Encoding: "utf-8",
				Data: string(p.Data)}
			if !utf8.Valid(p.Data) {
				pj.Encoding, pj.Data = "base64", base64.StdEncoding.EncodeToString(p.Data)
			}
			j.Payloads = append(j.Payloads, pj)
		}
		doc.Spans = append(doc.Spans, j)
	}
	return traceDocJSON{SchemaVersion: SchemaVersion, Trace: doc}
}

func scoresDoc(scores []store.Score) []scoreJSON {
	out := make([]scoreJSON, 0, len(scores))
	for _, s := range scores {
		out = append(out, scoreJSON{
			Name: s.Name, Value: jsonNum(s.Value), Unit: s.Unit, Comment: s.Comment, Severity: s.Severity,
			TraceID: sp(s.TraceID.String()), SpanID: sp(s.SpanID.String()), Tags: tagsDoc(s.Tags), Time: tp(s.Time),
		})
	}
	return out
}
