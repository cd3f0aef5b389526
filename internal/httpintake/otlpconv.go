package httpintake

import (
	"maps"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// convertTraces maps OTLP spans to telemetry spans (docs/intake.md).
func (s *Server) convertTraces(td ptrace.Traces, now time.Time) []telemetry.Span {
	out := make([]telemetry.Span, 0, td.SpanCount())
	rss := td.ResourceSpans()
	for i := range rss.Len() {
		rs := rss.At(i)
		res := make(map[string]any, rs.Resource().Attributes().Len())
		s.putAttrs(res, rs.Resource().Attributes(), resourceAttrPrefix)
		sss := rs.ScopeSpans()
		for j := range sss.Len() {
			ss := sss.At(j)
			spans := ss.Spans()
			for k := range spans.Len() {
				out = append(out, s.convertSpan(spans.At(k), res, ss.Scope(), now))
			}
		}
	}
	return out
}

func (s *Server) convertSpan(sp ptrace.Span, res map[string]any, scope pcommon.InstrumentationScope, now time.Time) telemetry.Span {
	ts := telemetry.Span{
		TraceID:      telemetry.TraceID(sp.TraceID()),
		SpanID:       telemetry.SpanID(sp.SpanID()),
		ParentSpanID: telemetry.SpanID(sp.ParentSpanID()),
		Name:         sp.Name(),
		Start:        timeOr(int64(sp.StartTimestamp()), now),
		End:          timeOr(int64(sp.EndTimestamp()), time.Time{}),
		Tags:         s.runTags(sessionTags(sp.Attributes())),
		Attributes:   make(map[string]any, sp.Attributes().Len()+len(res)+4),
	}
	if ts.TraceID.IsZero() {
		ts.TraceID = s.cfg.TraceID
	}
	if ts.SpanID.IsZero() {
		ts.SpanID = telemetry.NewSpanID()
	}
	ts.ParentSpanID = s.parentFor(ts.TraceID, ts.SpanID, ts.ParentSpanID)
	maps.Copy(ts.Attributes, res)
	s.putAttrs(ts.Attributes, sp.Attributes(), "")
	ts.Attributes[attrIntake] = "otlp"
	if n := scope.Name(); n != "" {
		ts.Attributes[attrScopeName] = n
	}
	if v := scope.Version(); v != "" {
		ts.Attributes[attrScopeVersion] = v
	}
	if k := sp.Kind(); k != ptrace.SpanKindUnspecified {
		ts.Attributes[attrSpanKind] = strings.ToLower(k.String())
	}
	switch sp.Status().Code() {
	case ptrace.StatusCodeOk:
		ts.Status = telemetry.StatusOK
	case ptrace.StatusCodeError:
		ts.Status = telemetry.StatusError
	}
	ts.StatusMessage = sp.Status().Message()

	evs := sp.Events()
	for i := range evs.Len() {
		ev := evs.At(i)
		at := timeOr(int64(ev.Timestamp()), ts.Start)
		if ev.Name() == "exception" {
			attrs := ev.Attributes()
			ts.Exceptions = append(ts.Exceptions, exceptionFrom(func(k string) string {
				v, ok := attrs.Get(k)
				if !ok {
					return ""
				}
				return v.AsString()
			}, at))
			continue
		}
		if !s.cfg.RecordPayloads && isContentEvent(ev.Name()) {
			continue
		}
		e := telemetry.Event{Name: ev.Name(), Time: at}
		if ev.Attributes().Len() > 0 {
			e.Attributes = make(map[string]any, ev.Attributes().Len())
			s.putAttrs(e.Attributes, ev.Attributes(), "")
		}
		ts.Events = append(ts.Events, e)
	}
	return ts
}

// convertMetrics maps OTLP gauges, sums and histograms to telemetry metrics.
// Monotonic sums become cumulative counters (delta ones are accumulated);
// non-monotonic sums become gauges. Other types are dropped and counted.
func (s *Server) convertMetrics(md pmetric.Metrics, now time.Time) []telemetry.Metric {
	var out []telemetry.Metric
	rms := md.ResourceMetrics()
	for i := range rms.Len() {
		rm := rms.At(i)
		service, hasService := rm.Resource().Attributes().Get(tagServiceName)
		sms := rm.ScopeMetrics()
		for j := range sms.Len() {
			ms := sms.At(j).Metrics()
			for k := range ms.Len() {
				m := ms.At(k)
				base := telemetry.Metric{TraceID: s.cfg.TraceID, Name: m.Name(), Unit: m.Unit()}
				tagsOf := func(attrs pcommon.Map) telemetry.Tags {
					t := make(telemetry.Tags, attrs.Len()+s.tagCount()+1)
					stringTags(t, attrs)
					if hasService {
						t[tagServiceName] = service.AsString()
					}
					return s.runTags(t)
				}
				switch m.Type() {
				case pmetric.MetricTypeGauge:
					out = s.numberPoints(out, base, telemetry.Gauge, false, m.Gauge().DataPoints(), tagsOf, now)
				case pmetric.MetricTypeSum:
					sum := m.Sum()
					kind, delta := telemetry.Gauge, false
					if sum.IsMonotonic() {
						kind = telemetry.Counter
						delta = sum.AggregationTemporality() == pmetric.AggregationTemporalityDelta
					}
					out = s.numberPoints(out, base, kind, delta, sum.DataPoints(), tagsOf, now)
				case pmetric.MetricTypeHistogram:
					h := m.Histogram()
					delta := h.AggregationTemporality() == pmetric.AggregationTemporalityDelta
					out = s.histogramPoints(out, base, delta, h.DataPoints(), tagsOf, now)
				default:
					s.stats.dropped.Add(uint64(unsupportedPoints(m)))
				}
			}
		}
	}
	return out
}

func (s *Server) numberPoints(out []telemetry.Metric, base telemetry.Metric, kind telemetry.MetricKind, delta bool,
	dps pmetric.NumberDataPointSlice, tagsOf func(pcommon.Map) telemetry.Tags, now time.Time) []telemetry.Metric {
	for i := range dps.Len() {
		dp := dps.At(i)
		m := base
		m.Kind = kind
		m.Tags = tagsOf(dp.Attributes())
		m.Time = timeOr(int64(dp.Timestamp()), now)
		if dp.ValueType() == pmetric.NumberDataPointValueTypeInt {
			m.Value = float64(dp.IntValue())
		} else {
			m.Value = dp.DoubleValue()
		}
		if delta {
			v, ok := s.cum.addCounter(m.Name, m.Tags, m.Value)
			if !ok {
				s.stats.dropped.Add(1)
				continue
			}
			m.Value = v
		}
		out = append(out, m)
	}
	return out
}

func (s *Server) histogramPoints(out []telemetry.Metric, base telemetry.Metric, delta bool,
	dps pmetric.HistogramDataPointSlice, tagsOf func(pcommon.Map) telemetry.Tags, now time.Time) []telemetry.Metric {
	for i := range dps.Len() {
		dp := dps.At(i)
		m := base
		m.Kind = telemetry.Histogram
		m.Tags = tagsOf(dp.Attributes())
		m.Time = timeOr(int64(dp.Timestamp()), now)
		m.Buckets = dp.ExplicitBounds().AsRaw()
		m.Counts = dp.BucketCounts().AsRaw()
		if len(m.Counts) != len(m.Buckets)+1 {
			// Malformed or bucket-less point: keep count and sum only.
			m.Buckets, m.Counts = nil, []uint64{dp.Count()}
		}
		m.Count = dp.Count()
		m.Sum = dp.Sum()
		if delta {
			if !s.cum.addHistogram(&m) {
				s.stats.dropped.Add(1)
				continue
			}
		}
		out = append(out, m)
	}
	return out
}

// convertLogs maps OTLP log records to telemetry logs.
func (s *Server) convertLogs(ld plog.Logs, now time.Time) []telemetry.Log {
	out := make([]telemetry.Log, 0, ld.LogRecordCount())
	rls := ld.ResourceLogs()
	for i := range rls.Len() {
		rl := rls.At(i)
		service, hasService := rl.Resource().Attributes().Get(tagServiceName)
		sls := rl.ScopeLogs()
		for j := range sls.Len() {
			lrs := sls.At(j).LogRecords()
			for k := range lrs.Len() {
				lr := lrs.At(k)
				l := telemetry.Log{
					Time:    timeOr(int64(lr.Timestamp()), timeOr(int64(lr.ObservedTimestamp()), now)),
					Level:   otlpLevel(lr.SeverityNumber(), lr.SeverityText()),
					Message: lr.Body().AsString(),
					TraceID: telemetry.TraceID(lr.TraceID()),
					SpanID:  telemetry.SpanID(lr.SpanID()),
					Tags:    make(telemetry.Tags, s.tagCount()+1),
				}
				if l.TraceID.IsZero() {
					l.TraceID = s.cfg.TraceID
				}
				if hasService {
					l.Tags[tagServiceName] = service.AsString()
				}
				maps.Copy(l.Tags, sessionTags(lr.Attributes()))
				l.Tags = s.runTags(l.Tags)
				attrs := lr.Attributes()
				get := func(k string) string {
					if v, ok := attrs.Get(k); ok {
						return v.AsString()
					}
					return ""
				}
				l.Exception = formatException(exceptionFrom(get, l.Time))
				out = append(out, l)
			}
		}
	}
	return out
}

// formatException renders an exception as "Type: message\nstack", or "".
func formatException(e telemetry.Exception) string {
	var b strings.Builder
	b.WriteString(e.Type)
	if e.Message != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Message)
	}
	if e.StackTrace != "" {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(e.StackTrace)
	}
	return b.String()
}

// otlpLevel maps an OTLP severity to the level names of the Graphsignal
// proto: trace, debug, info, warning, error, critical.
func otlpLevel(n plog.SeverityNumber, text string) string {
	switch {
	case n >= plog.SeverityNumberFatal:
		return "critical"
	case n >= plog.SeverityNumberError:
		return "error"
	case n >= plog.SeverityNumberWarn:
		return "warning"
	case n >= plog.SeverityNumberInfo:
		return "info"
	case n >= plog.SeverityNumberDebug:
		return "debug"
	case n >= plog.SeverityNumberTrace:
		return "trace"
	}
	return strings.ToLower(text)
}

// unsupportedPoints counts the points of a metric type the intake drops.
func unsupportedPoints(m pmetric.Metric) int {
	switch m.Type() {
	case pmetric.MetricTypeExponentialHistogram:
		return m.ExponentialHistogram().DataPoints().Len()
	case pmetric.MetricTypeSummary:
		return m.Summary().DataPoints().Len()
	}
	return 1
}
