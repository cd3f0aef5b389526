package store

import (
	"sort"
	"time"
)

// HistogramBuckets is the number of buckets of SpanStats.Histogram. Bucket
// i < HistogramBuckets-1 counts the durations d with
// HistogramBound(i-1) < d <= HistogramBound(i) (bucket 0: d <= 1ms); the
// last bucket counts the longer ones (over 2^17 ms, about 131 s).
const HistogramBuckets = 19

// HistogramBound is the upper bound of bucket i of SpanStats.Histogram:
// 1ms << i, or 0 for the last bucket, which has none.
func HistogramBound(i int) time.Duration {
	if i < 0 || i >= HistogramBuckets-1 {
		return 0
	}
	return time.Millisecond << i
}

// histogramBucket is the index of the bucket that counts d.
func histogramBucket(d time.Duration) int {
	for i := range HistogramBuckets - 1 {
		if d <= time.Millisecond<<i {
			return i
		}
	}
	return HistogramBuckets - 1
}

// TTFTStats are the times to first token of the spans of one name that
// carry one: the time from the span's start to its first event named
// "first_token" (what the Graphsignal SDKs send), or else its attribute
// gen_ai.response.time_to_first_chunk (OpenTelemetry GenAI, seconds).
// Percentiles are exact nearest-rank.
type TTFTStats struct {
	Count int
	P50   time.Duration
	P90   time.Duration
	P99   time.Duration
	Max   time.Duration
}

// ttftSQL is a span row's time to first token in ns (TTFTStats), NULL
// when it has none. instr skips the JSON parse for spans that cannot carry
// one.
const ttftSQL = `CASE
	WHEN events IS NOT NULL AND instr(events, '"first_token"') THEN
		(SELECT min(json_extract(e.value, '$.time_ns')) FROM json_each(spans.events) AS e
		 WHERE json_extract(e.value, '$.name') = 'first_token') - start_ns
	WHEN attributes IS NOT NULL AND instr(attributes, '"gen_ai.response.time_to_first_chunk"') THEN
		CAST(json_extract(attributes, '$."gen_ai.response.time_to_first_chunk"') * 1e9 AS INTEGER)
	END`

// spanKey names a span across traces.
type spanKey struct{ trace, span string }

// timedSpan is an ended span as the self-time computation needs it.
type timedSpan struct {
	key, parent spanKey
	name        string
	start, end  int64
}

// selfTimes returns, per name, the summed exclusive time of the ended
// spans: each span's duration less the union of its ended children's
// intervals within it (so parallel children are not subtracted twice and
// the result is never negative). It also returns how much of
// [runStart, runEnd] no top-level span (one whose parent is not among
// spans) covers.
func selfTimes(spans []timedSpan, runStart, runEnd int64) (map[string]time.Duration, time.Duration) {
	known := make(map[spanKey]bool, len(spans))
	for _, s := range spans {
		known[s.key] = true
	}
	children := map[spanKey][]interval{}
	var top []interval
	for _, s := range spans {
		iv := interval{s.start, s.end}
		if s.parent.span != "" && s.parent != s.key && known[s.parent] {
			children[s.parent] = append(children[s.parent], iv)
			continue
		}
		top = append(top, iv)
	}
	self := map[string]time.Duration{}
	for _, s := range spans {
		covered := unionWithin(children[s.key], s.start, s.end)
		self[s.name] += time.Duration(max(s.end-s.start-covered, 0))
	}
	var outside time.Duration
	if runEnd > runStart {
		outside = time.Duration(runEnd - runStart - unionWithin(top, runStart, runEnd))
	}
	return self, outside
}

type interval struct{ start, end int64 }

// unionWithin is the length of the union of ivs clipped to [lo, hi].
func unionWithin(ivs []interval, lo, hi int64) int64 {
	if len(ivs) == 0 {
		return 0
	}
	sort.Slice(ivs, func(i, j int) bool { return ivs[i].start < ivs[j].start })
	var total int64
	curStart, curEnd := int64(0), int64(0)
	open := false
	for _, iv := range ivs {
		s, e := max(iv.start, lo), min(iv.end, hi)
		if e <= s {
			continue
		}
		if open && s <= curEnd {
			curEnd = max(curEnd, e)
			continue
		}
		if open {
			total += curEnd - curStart
		}
		curStart, curEnd, open = s, e, true
	}
	if open {
		total += curEnd - curStart
	}
	return total
}
