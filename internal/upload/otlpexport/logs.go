package otlpexport

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// logs maps log records and standalone scores (as log records with the
// event name graphsignal.score) to OTLP logs.
func (c *converter) logs(logs []telemetry.Log, scores []telemetry.Score) (plog.Logs, int) {
	ld := plog.NewLogs()
	res := make(map[mapKey]plog.LogRecordSlice)
	records := func(trace telemetry.TraceID, tags telemetry.Tags) plog.LogRecordSlice {
		key := c.keyFor(trace, tags, ownService(tags))
		mk := key.mapKey()
		lrs, ok := res[mk]
		if !ok {
			rl := ld.ResourceLogs().AppendEmpty()
			c.fillResource(rl.Resource(), key)
			sl := rl.ScopeLogs().AppendEmpty()
			sl.Scope().SetName(scopeName)
			lrs = sl.LogRecords()
			res[mk] = lrs
		}
		return lrs
	}
	for i := range logs {
		l := &logs[i]
		lr := records(l.TraceID, l.Tags).AppendEmpty()
		lr.SetTimestamp(timestamp(l.Time))
		lr.SetObservedTimestamp(timestamp(l.Time))
		lr.SetSeverityNumber(severity(l.Level))
		lr.SetSeverityText(l.Level)
		lr.Body().SetStr(l.Message)
		lr.SetTraceID(pcommon.TraceID(l.TraceID))
		lr.SetSpanID(pcommon.SpanID(l.SpanID))
		if l.Exception != "" {
			msg, stack, _ := strings.Cut(l.Exception, "\n")
			putException(lr.Attributes(), "", msg, stack)
		}
		putLogTags(lr.Attributes(), l.Tags)
	}
	for i := range scores {
		s := &scores[i]
		lr := records(s.TraceID, s.Tags).AppendEmpty()
		lr.SetEventName(scoreEventName)
		lr.SetTimestamp(timestamp(s.Time))
		lr.SetObservedTimestamp(timestamp(s.Time))
		lr.SetTraceID(pcommon.TraceID(s.TraceID))
		lr.SetSpanID(pcommon.SpanID(s.SpanID))
		putScore(lr.Attributes(), s)
		putLogTags(lr.Attributes(), s.Tags)
	}
	return ld, len(logs) + len(scores)
}

// putLogTags writes a record's tags, without the service.name that is on
// its resource.
func putLogTags(m pcommon.Map, tags telemetry.Tags) {
	if _, ok := tags[tagServiceName]; ok {
		tags = tags.Clone()
		delete(tags, tagServiceName)
	}
	putTags(m, tags)
}

// severity maps the model's levels (those of the Graphsignal protocol and
// their common spellings) to OTLP severity numbers.
func severity(level string) plog.SeverityNumber {
	switch strings.ToLower(level) {
	case "trace":
		return plog.SeverityNumberTrace
	case "debug":
		return plog.SeverityNumberDebug
	case "info", "information", "notice":
		return plog.SeverityNumberInfo
	case "warning", "warn":
		return plog.SeverityNumberWarn
	case "error", "err":
		return plog.SeverityNumberError
	case "critical", "fatal", "crit", "alert", "emergency":
		return plog.SeverityNumberFatal
	}
	return plog.SeverityNumberUnspecified
}
