package journal

import "github.com/graphsignal/graphsignal/internal/telemetry"

// The records of the line format (encode.go), field by field.

// Field names by record, for keys that are not exactly one of them.
var (
	batchKeys     = []string{"spans", "metrics", "scores", "logs", "sdk_uploads"}
	spanKeys      = []string{"trace_id", "span_id", "parent_span_id", "name", "start", "end", "tags", "attributes", "status", "status_message", "events", "exceptions", "payloads", "usage", "scores", "in_sdk_upload"}
	eventKeys     = []string{"name", "time", "attributes"}
	exceptionKeys = []string{"type", "message", "stack_trace", "time"}
	payloadKeys   = []string{"Name", "ContentType", "Data"}
	usageKeys     = []string{"payload_name", "name", "value"}
	scoreKeys     = []string{"name", "value", "unit", "comment", "severity", "tags", "trace_id", "span_id", "time"}
	metricKeys    = []string{"trace_id", "name", "kind", "unit", "tags", "time", "value", "buckets", "counts", "count", "sum", "in_sdk_upload"}
	logKeys       = []string{"time", "level", "message", "exception", "tags", "trace_id", "span_id", "in_sdk_upload"}
	uploadKeys    = []string{"time", "body"}
	valueKeys     = []string{"s", "i", "f", "b", "a"}
)

func (d *decoder) span(sp *telemetry.Span, aux *spanAux) error {
	return d.fields(spanKeys, func(key []byte) error {
		switch string(key) {
		case "trace_id":
			return d.traceID(&sp.TraceID, &aux.bad, badTrace)
		case "span_id":
			return d.spanID(&sp.SpanID, &aux.bad, badSpan)
		case "parent_span_id":
			return d.spanID(&sp.ParentSpanID, &aux.bad, badParent)
		case "name":
			return d.str(&sp.Name)
		case "start":
			return d.time(&sp.Start)
		case "end":
			return d.time(&sp.End)
		case "tags":
			return d.tags(&sp.Tags)
		case "attributes":
			return d.attrs(&sp.Attributes)
		case "status":
			return d.int((*int)(&sp.Status))
		case "status_message":
			return d.str(&sp.StatusMessage)
		case "events":
			return list(d, &sp.Events, d.event)
		case "exceptions":
			return list(d, &sp.Exceptions, d.exception)
		case "payloads":
			return list(d, &sp.Payloads, d.payload)
		case "usage":
			return list(d, &sp.Usage, d.usage)
		case "scores":
			return list2(d, &sp.Scores, &aux.scores, d.score)
		case "in_sdk_upload":
			return d.bool(&sp.InSDKUpload)
		default:
			return errNoField
		}
	})
}

func (d *decoder) event(e *telemetry.Event) error {
	return d.fields(eventKeys, func(key []byte) error {
		switch string(key) {
		case "name":
			return d.str(&e.Name)
		case "time":
			return d.time(&e.Time)
		case "attributes":
			return d.attrs(&e.Attributes)
		default:
			return errNoField
		}
	})
}

func (d *decoder) exception(x *telemetry.Exception) error {
	return d.fields(exceptionKeys, func(key []byte) error {
		switch string(key) {
		case "type":
			return d.str(&x.Type)
		case "message":
			return d.str(&x.Message)
		case "stack_trace":
			return d.str(&x.StackTrace)
		case "time":
			return d.time(&x.Time)
		default:
			return errNoField
		}
	})
}

func (d *decoder) payload(p *telemetry.Payload) error {
	return d.fields(payloadKeys, func(key []byte) error {
		switch string(key) {
		case "Name":
			return d.str(&p.Name)
		case "ContentType":
			return d.str(&p.ContentType)
		case "Data":
			return d.bytes(&p.Data)
		default:
			return errNoField
		}
	})
}

func (d *decoder) usage(u *telemetry.Usage) error {
	return d.fields(usageKeys, func(key []byte) error {
		switch string(key) {
		case "payload_name":
			return d.str(&u.PayloadName)
		case "name":
			return d.str(&u.Name)
		case "value":
			return d.float(&u.Value)
		default:
			return errNoField
		}
	})
}

func (d *decoder) score(sc *telemetry.Score, bad *idFlags) error {
	return d.fields(scoreKeys, func(key []byte) error {
		switch string(key) {
		case "name":
			return d.str(&sc.Name)
		case "value":
			return d.float(&sc.Value)
		case "unit":
			return d.str(&sc.Unit)
		case "comment":
			return d.str(&sc.Comment)
		case "severity":
			return d.int(&sc.Severity)
		case "tags":
			return d.tags(&sc.Tags)
		case "trace_id":
			return d.traceID(&sc.TraceID, bad, badTrace)
		case "span_id":
			return d.spanID(&sc.SpanID, bad, badSpan)
		case "time":
			return d.time(&sc.Time)
		default:
			return errNoField
		}
	})
}

func (d *decoder) metric(m *telemetry.Metric, bad *idFlags) error {
	return d.fields(metricKeys, func(key []byte) error {
		switch string(key) {
		case "trace_id":
			return d.traceID(&m.TraceID, bad, badTrace)
		case "name":
			return d.str(&m.Name)
		case "kind":
			return d.int((*int)(&m.Kind))
		case "unit":
			return d.str(&m.Unit)
		case "tags":
			return d.tags(&m.Tags)
		case "time":
			return d.time(&m.Time)
		case "value":
			return d.float(&m.Value)
		case "buckets":
			return list(d, &m.Buckets, d.float)
		case "counts":
			return list(d, &m.Counts, d.uint)
		case "count":
			return d.uint(&m.Count)
		case "sum":
			return d.float(&m.Sum)
		case "in_sdk_upload":
			return d.bool(&m.InSDKUpload)
		default:
			return errNoField
		}
	})
}

func (d *decoder) log(l *telemetry.Log, bad *idFlags) error {
	return d.fields(logKeys, func(key []byte) error {
		switch string(key) {
		case "time":
			return d.time(&l.Time)
		case "level":
			return d.str(&l.Level)
		case "message":
			return d.str(&l.Message)
		case "exception":
			return d.str(&l.Exception)
		case "tags":
			return d.tags(&l.Tags)
		case "trace_id":
			return d.traceID(&l.TraceID, bad, badTrace)
		case "span_id":
			return d.spanID(&l.SpanID, bad, badSpan)
		case "in_sdk_upload":
			return d.bool(&l.InSDKUpload)
		default:
			return errNoField
		}
	})
}

func (d *decoder) upload(u *telemetry.SDKUpload) error {
	return d.fields(uploadKeys, func(key []byte) error {
		switch string(key) {
		case "time":
			return d.time(&u.Time)
		case "body":
			return d.bytes(&u.Body)
		default:
			return errNoField
		}
	})
}

// traceID and spanID read an id: "" for none, else exactly the hex of a
// non-zero id (telemetry.ParseTraceID, ParseSpanID). Other text leaves the
// id zero and sets flag in bad (cleared by a later valid one): the line
// is rejected once read.
func (d *decoder) traceID(dst *telemetry.TraceID, bad *idFlags, flag idFlags) error {
	return d.id(dst[:], bad, flag)
}

func (d *decoder) spanID(dst *telemetry.SpanID, bad *idFlags, flag idFlags) error {
	return d.id(dst[:], bad, flag)
}

func (d *decoder) id(dst []byte, bad *idFlags, flag idFlags) error {
	if null, err := d.s.null(); null || err != nil {
		return err
	}
	text, _, err := d.s.str()
	if err != nil {
		return err
	}
	if parseID(text, dst) {
		*bad &^= flag
	} else {
		clear(dst)
		*bad |= flag
	}
	return nil
}

// parseID decodes text into dst and reports whether it is an id: empty,
// or 2*len(dst) hex digits not all zero.
func parseID(text, dst []byte) bool {
	if len(text) == 0 {
		clear(dst)
		return true
	}
	if len(text) != 2*len(dst) {
		return false
	}
	zero := true
	for i := range dst {
		hi, ok1 := unhex(text[2*i])
		lo, ok2 := unhex(text[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
		zero = zero && dst[i] == 0
	}
	return !zero
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
