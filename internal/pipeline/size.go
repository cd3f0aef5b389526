package pipeline

import (
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// The memory a record holds is estimated rather than measured: the struct,
// plus every string, byte slice and map entry it references, each map entry
// costing its key and value plus its share of the map (mapSize). Maps shared between records
// (the run's tags) are counted once per record, so the estimate errs high.
// TestSizeEstimateCoversHeap checks it against the
// heap that decoded records really hold (docs/architecture.md, "Memory bound").
const (
	spanBytes   = 400 // telemetry.Span (280 B) and its slice's share of spare capacity
	metricBytes = 240
	scoreBytes  = 200
	logBytes    = 200
	uploadBytes = 64
	// A Go map holds at least one group of 8 slots (32 B each for string
	// keys and string or interface values) and a header; a larger one about
	// 80 B per entry at its load factor.
	smallMapBytes = 8*32 + 8 + 64
	mapEntryBytes = 80
	boxBytes      = 16 // an interface value's boxed data
)

// mapSize is the memory of a map of n entries, contents excluded.
func mapSize(n int) int64 {
	switch {
	case n == 0:
		return 0
	case n <= 8:
		return smallMapBytes
	default:
		return 64 + int64(n)*mapEntryBytes
	}
}

// sizeOf estimates the memory b's records hold.
func sizeOf(b *telemetry.Batch) int64 {
	var n int64
	for i := range b.Spans {
		n += spanSize(&b.Spans[i])
	}
	for i := range b.Metrics {
		n += metricSize(&b.Metrics[i])
	}
	for i := range b.Scores {
		n += scoreSize(&b.Scores[i])
	}
	for i := range b.Logs {
		n += logSize(&b.Logs[i])
	}
	for i := range b.SDKUploads {
		n += uploadSize(&b.SDKUploads[i])
	}
	return n
}

func tagsSize(t telemetry.Tags) int64 {
	n := mapSize(len(t))
	for k, v := range t {
		n += int64(len(k) + len(v))
	}
	return n
}

func attrsSize(a map[string]any) int64 {
	n := mapSize(len(a)) + int64(len(a))*boxBytes
	for k, v := range a {
		n += int64(len(k)) + valueSize(v)
	}
	return n
}

func valueSize(v any) int64 {
	switch v := v.(type) {
	case string:
		return int64(len(v))
	case []byte:
		return int64(len(v))
	case []string:
		n := int64(len(v)) * 16
		for _, s := range v {
			n += int64(len(s))
		}
		return n
	case []any:
		n := int64(len(v)) * 16
		for _, e := range v {
			n += valueSize(e)
		}
		return n
	case map[string]any:
		return attrsSize(v)
	default:
		return 8
	}
}

func spanSize(s *telemetry.Span) int64 {
	n := spanBytes + int64(len(s.Name)+len(s.StatusMessage)) + tagsSize(s.Tags) + attrsSize(s.Attributes)
	for i := range s.Events {
		n += 64 + int64(len(s.Events[i].Name)) + attrsSize(s.Events[i].Attributes)
	}
	for i := range s.Exceptions {
		e := &s.Exceptions[i]
		n += 80 + int64(len(e.Type)+len(e.Message)+len(e.StackTrace))
	}
	for i := range s.Payloads {
		p := &s.Payloads[i]
		n += 64 + int64(len(p.Name)+len(p.ContentType)+len(p.Data))
	}
	for i := range s.Usage {
		u := &s.Usage[i]
		n += 48 + int64(len(u.PayloadName)+len(u.Name))
	}
	for i := range s.Scores {
		n += scoreSize(&s.Scores[i])
	}
	return n
}

func metricSize(m *telemetry.Metric) int64 {
	return metricBytes + int64(len(m.Name)+len(m.Unit)) + tagsSize(m.Tags) + 8*int64(len(m.Buckets)+len(m.Counts))
}

func scoreSize(s *telemetry.Score) int64 {
	return scoreBytes + int64(len(s.Name)+len(s.Unit)+len(s.Comment)) + tagsSize(s.Tags)
}

func logSize(l *telemetry.Log) int64 {
	return logBytes + int64(len(l.Level)+len(l.Message)+len(l.Exception)) + tagsSize(l.Tags)
}

// uploadSize counts an SDK upload by its body, up to the intake's 16 MiB.
func uploadSize(u *telemetry.SDKUpload) int64 { return uploadBytes + int64(cap(u.Body)) }
