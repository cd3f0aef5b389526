package gsapi

import (
	"strings"

	"github.com/graphsignal/graphsignal/internal/signalspb"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// logs maps log records (those not InSDKUpload) into one LogBatch per tag
// set, in order of first appearance.
func (m *mapper) logs(lists ...[]telemetry.Log) {
	index := map[string]*signalspb.LogBatch{}
	for _, list := range lists {
		for i := range list {
			l := &list[i]
			if l.InSDKUpload {
				continue
			}
			key := tagsKey(l.Tags)
			lb, ok := index[key]
			if !ok {
				lb = &signalspb.LogBatch{Tags: sortedTags(l.Tags)}
				index[key] = lb
				m.req.LogBatches = append(m.req.LogBatches, lb)
			}
			lb.LogEntries = append(lb.LogEntries, &signalspb.LogEntry{
				Level:     logLevel(l.Level),
				Message:   l.Message,
				Exception: l.Exception,
				LogTs:     telemetry.UnixNano(l.Time),
			})
		}
	}
}

// logLevel maps a level name (the intake's names, and the usual aliases)
// to the proto's LogLevel; anything else is unspecified.
func logLevel(level string) signalspb.LogEntry_LogLevel {
	switch strings.ToLower(level) {
	case "trace":
		return signalspb.LogEntry_TRACE_LEVEL
	case "debug":
		return signalspb.LogEntry_DEBUG_LEVEL
	case "info", "notice":
		return signalspb.LogEntry_INFO_LEVEL
	case "warning", "warn":
		return signalspb.LogEntry_WARNING_LEVEL
	case "error", "err":
		return signalspb.LogEntry_ERROR_LEVEL
	case "critical", "fatal", "panic", "crit", "alert", "emergency":
		return signalspb.LogEntry_CRITICAL_LEVEL
	}
	return signalspb.LogEntry_UNSPECIFIED_LEVEL
}
