package signalspb

import "strconv"

// Metric_MetricType is Metric.type. Like every proto3 enum it is open: a
// value without a name decodes as is.
type Metric_MetricType int32

// Metric_MetricType values.
const (
	Metric_UNDEFINED_METRIC Metric_MetricType = 0
	Metric_GAUGE_METRIC     Metric_MetricType = 1
	Metric_COUNTER_METRIC   Metric_MetricType = 2
	Metric_SUMMARY_METRIC   Metric_MetricType = 3
	Metric_HISTOGRAM_METRIC Metric_MetricType = 4
	Metric_PROFILE_METRIC   Metric_MetricType = 5
)

// String returns the value's name in the .proto, or its number when it has none.
func (x Metric_MetricType) String() string {
	switch x {
	case Metric_UNDEFINED_METRIC:
		return "UNDEFINED_METRIC"
	case Metric_GAUGE_METRIC:
		return "GAUGE_METRIC"
	case Metric_COUNTER_METRIC:
		return "COUNTER_METRIC"
	case Metric_SUMMARY_METRIC:
		return "SUMMARY_METRIC"
	case Metric_HISTOGRAM_METRIC:
		return "HISTOGRAM_METRIC"
	case Metric_PROFILE_METRIC:
		return "PROFILE_METRIC"
	}
	return strconv.Itoa(int(x))
}

// ProfileField_FieldType is ProfileField.type (open, like Metric_MetricType).
type ProfileField_FieldType int32

// ProfileField_FieldType values.
const (
	ProfileField_UNDEFINED_FIELD ProfileField_FieldType = 0
	ProfileField_GAUGE_FIELD     ProfileField_FieldType = 1
	ProfileField_COUNTER_FIELD   ProfileField_FieldType = 2
)

// String returns the value's name in the .proto, or its number when it has none.
func (x ProfileField_FieldType) String() string {
	switch x {
	case ProfileField_UNDEFINED_FIELD:
		return "UNDEFINED_FIELD"
	case ProfileField_GAUGE_FIELD:
		return "GAUGE_FIELD"
	case ProfileField_COUNTER_FIELD:
		return "COUNTER_FIELD"
	}
	return strconv.Itoa(int(x))
}

// LogEntry_LogLevel is LogEntry.level (open, like Metric_MetricType).
type LogEntry_LogLevel int32

// LogEntry_LogLevel values.
const (
	LogEntry_UNSPECIFIED_LEVEL LogEntry_LogLevel = 0
	LogEntry_TRACE_LEVEL       LogEntry_LogLevel = 5
	LogEntry_DEBUG_LEVEL       LogEntry_LogLevel = 10
	LogEntry_INFO_LEVEL        LogEntry_LogLevel = 20
	LogEntry_WARNING_LEVEL     LogEntry_LogLevel = 30
	LogEntry_ERROR_LEVEL       LogEntry_LogLevel = 40
	LogEntry_CRITICAL_LEVEL    LogEntry_LogLevel = 50
)

// String returns the value's name in the .proto, or its number when it has none.
func (x LogEntry_LogLevel) String() string {
	switch x {
	case LogEntry_UNSPECIFIED_LEVEL:
		return "UNSPECIFIED_LEVEL"
	case LogEntry_TRACE_LEVEL:
		return "TRACE_LEVEL"
	case LogEntry_DEBUG_LEVEL:
		return "DEBUG_LEVEL"
	case LogEntry_INFO_LEVEL:
		return "INFO_LEVEL"
	case LogEntry_WARNING_LEVEL:
		return "WARNING_LEVEL"
	case LogEntry_ERROR_LEVEL:
		return "ERROR_LEVEL"
	case LogEntry_CRITICAL_LEVEL:
		return "CRITICAL_LEVEL"
	}
	return strconv.Itoa(int(x))
}
