package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// nullFloat is a float64 column value: NULL for NaN, which SQLite cannot store.
func nullFloat(f float64) any {
	if math.IsNaN(f) {
		return nil
	}
	return f
}

// num is a float64 that encodes NaN and infinities as JSON null, which
// encoding/json would otherwise refuse.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return []byte(strconv.FormatFloat(f, 'g', -1, 64)), nil
}

// jsonText marshals v for a TEXT column; empty values are stored as NULL.
func jsonText(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func tagsText(t telemetry.Tags) any {
	if len(t) == 0 {
		return nil
	}
	b, err := json.Marshal(map[string]string(t))
	if err != nil {
		return nil // a map[string]string always marshals
	}
	return string(b)
}

// encodeAttrs writes attributes as a JSON object with sorted keys, keeping
// their types recoverable: integers are written without a decimal point and
// floats always with one (or an exponent), so decodeAttrs returns int64 and
// float64 as they were. NaN and infinities become the strings "NaN", "+Inf"
// and "-Inf". Values of types outside the data model are written as their
// JSON encoding or, failing that, as fmt.Sprint text.
func encodeAttrs(m map[string]any) any {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(encodeValue(m[k]))
	}
	b.WriteByte('}')
	return b.String()
}

func encodeValue(v any) []byte {
	switch x := v.(type) {
	case nil:
		return []byte("null")
	case bool:
		return strconv.AppendBool(nil, x)
	case int:
		return strconv.AppendInt(nil, int64(x), 10)
	case int8:
		return strconv.AppendInt(nil, int64(x), 10)
	case int16:
		return strconv.AppendInt(nil, int64(x), 10)
	case int32:
		return strconv.AppendInt(nil, int64(x), 10)
	case int64:
		return strconv.AppendInt(nil, x, 10)
	case uint8:
		return strconv.AppendUint(nil, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(nil, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(nil, uint64(x), 10)
	case uint:
		return encodeValue(float64OrInt(uint64(x)))
	case uint64:
		return encodeValue(float64OrInt(x))
	case float32:
		return encodeFloat(float64(x))
	case float64:
		return encodeFloat(x)
	}
	if b, err := json.Marshal(v); err == nil {
		return b
	}
	b, _ := json.Marshal(fmt.Sprint(v))
	return b
}

func float64OrInt(u uint64) any {
	if u <= math.MaxInt64 {
		return int64(u)
	}
	return float64(u)
}

func encodeFloat(f float64) []byte {
	switch {
	case math.IsNaN(f):
		return []byte(`"NaN"`)
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`)
	case math.IsInf(f, -1):
		return []byte(`"-Inf"`)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return []byte(s)
}

// JSON shapes of the span columns (docs/store.md).
type (
	eventJSON struct {
		Name       string          `json:"name"`
		TimeNS     int64           `json:"time_ns"`
		Attributes json.RawMessage `json:"attributes,omitempty"`
	}
	exceptionJSON struct {
		Type       string `json:"type"`
		Message    string `json:"message,omitempty"`
		StackTrace string `json:"stack_trace,omitempty"`
		TimeNS     int64  `json:"time_ns,omitempty"`
	}
	payloadJSON struct {
		Name        string `json:"name"`
		ContentType string `json:"content_type,omitempty"`
		Data        []byte `json:"data"`
	}
	usageJSON struct {
		PayloadName string `json:"payload_name,omitempty"`
		Name        string `json:"name"`
		Value       num    `json:"value"`
	}
	scoreJSON struct {
		Name     string `json:"name"`
		Value    num    `json:"value"`
		Unit     string `json:"unit,omitempty"`
		Comment  string `json:"comment,omitempty"`
		Severity int    `json:"severity,omitempty"`
		TimeNS   int64  `json:"time_ns,omitempty"`
	}
	histogramJSON struct {
		Buckets []num    `json:"buckets"`
		Counts  []uint64 `json:"counts"`
		Count   uint64   `json:"count"`
		Sum     num      `json:"sum"`
	}
)

// spanColumns returns the JSON columns of sp: events, exceptions, payloads,
// usage, scores (NULL when empty).
func spanColumns(sp *telemetry.Span) ([5]any, error) {
	var cols [5]any
	var err error
	if len(sp.Events) > 0 {
		evs := make([]eventJSON, len(sp.Events))
		for i, e := range sp.Events {
			evs[i] = eventJSON{Name: e.Name, TimeNS: telemetry.UnixNano(e.Time)}
			if a, ok := encodeAttrs(e.Attributes).(string); ok {
				evs[i].Attributes = json.RawMessage(a)
			}
		}
		if cols[0], err = jsonText(evs); err != nil {
			return cols, fmt.Errorf("encode events: %w", err)
		}
	}
	if len(sp.Exceptions) > 0 {
		exs := make([]exceptionJSON, len(sp.Exceptions))
		for i, e := range sp.Exceptions {
			exs[i] = exceptionJSON{Type: e.Type, Message: e.Message, StackTrace: e.StackTrace, TimeNS: telemetry.UnixNano(e.Time)}
		}
		if cols[1], err = jsonText(exs); err != nil {
			return cols, fmt.Errorf("encode exceptions: %w", err)
		}
	}
	if len(sp.Payloads) > 0 {
		ps := make([]payloadJSON, len(sp.Payloads))
		for i, p := range sp.Payloads {
			ps[i] = payloadJSON{Name: p.Name, ContentType: p.ContentType, Data: p.Data}
		}
		if cols[2], err = jsonText(ps); err != nil {
			return cols, fmt.Errorf("encode payloads: %w", err)
		}
	}
	if len(sp.Usage) > 0 {
		us := make([]usageJSON, len(sp.Usage))
		for i, u := range sp.Usage {
			us[i] = usageJSON{PayloadName: u.PayloadName, Name: u.Name, Value: num(u.Value)}
		}
		if cols[3], err = jsonText(us); err != nil {
			return cols, fmt.Errorf("encode usage: %w", err)
		}
	}
	if len(sp.Scores) > 0 {
		ss := make([]scoreJSON, len(sp.Scores))
		for i, s := range sp.Scores {
			ss[i] = scoreJSON{Name: s.Name, Value: num(s.Value), Unit: s.Unit, Comment: s.Comment,
				Severity: s.Severity, TimeNS: telemetry.UnixNano(s.Time)}
		}
		if cols[4], err = jsonText(ss); err != nil {
			return cols, fmt.Errorf("encode scores: %w", err)
		}
	}
	return cols, nil
}

func histogramText(m *telemetry.Metric) (any, error) {
	if m.Kind != telemetry.Histogram {
		return nil, nil
	}
	h := histogramJSON{Counts: m.Counts, Count: m.Count, Sum: num(m.Sum)}
	h.Buckets = make([]num, len(m.Buckets))
	for i, b := range m.Buckets {
		h.Buckets[i] = num(b)
	}
	if h.Counts == nil {
		h.Counts = []uint64{}
	}
	return jsonText(h)
}
