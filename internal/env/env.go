// Package env owns the child's environment and the facts graphsignal reads
// from its own: the variables it reads and adds, tags and the session id,
// W3C trace context, CI detection and host facts.
//
// Nothing here reads the process environment itself: every function takes
// the environment as a []string in os.Environ form ("NAME=value"), so that
// callers resolve it once and tests pass their own. Nothing blocks, nothing
// starts goroutines, and everything is safe for concurrent use; besides the
// environment given, only Host (the kernel's facts) and NewSessionID (the
// time given and random bits) look at anything.
package env

import (
	"slices"
	"strings"
)

// Variables graphsignal adds to the child's environment (README, "The child's environment"). Each
// replaces an inherited variable of the same name.
const (
	// VarSocket is the path of the local intake socket.
	VarSocket = "GRAPHSIGNAL_SOCKET"
	// VarTraceID is the run's trace id, 32 lower-case hex digits.
	VarTraceID = "GRAPHSIGNAL_TRACE_ID"
	// VarParentSpanID is the run span's id, 16 lower-case hex digits.
	VarParentSpanID = "GRAPHSIGNAL_PARENT_SPAN_ID"
	// VarTraceparent is the W3C trace context for OpenTelemetry SDKs.
	VarTraceparent = "TRACEPARENT"
	// VarTags holds the merged tags, "k=v,k2=v2" (see FormatTags).
	VarTags = "GRAPHSIGNAL_TAGS"
	// VarAPIBase is the Graphsignal API base URL; for the child, the loopback
	// intake.
	VarAPIBase = "GRAPHSIGNAL_API_BASE"
	// VarOTLPEndpoint is the OTLP endpoint; for the child, always the
	// loopback intake (see OTLPChildEndpoints).
	VarOTLPEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT"
	// VarAPIKey is the Graphsignal API key; in local mode the child gets a
	// per-run local token in it.
	VarAPIKey = "GRAPHSIGNAL_API_KEY"
)

// Variables graphsignal reads (README, "Configuration"), besides those above.
const (
	// VarTagPrefix starts GRAPHSIGNAL_TAG_<KEY>=value, one tag per variable.
	VarTagPrefix          = "GRAPHSIGNAL_TAG_"
	VarAPIURL             = "GRAPHSIGNAL_API_URL" // alias of VarAPIBase
	VarDeployment         = "GRAPHSIGNAL_DEPLOYMENT"
	VarDataDir            = "GRAPHSIGNAL_DATA_DIR"
	VarRecordPayloads     = "GRAPHSIGNAL_RECORD_PAYLOADS"
	VarSampleInterval     = "GRAPHSIGNAL_SAMPLE_INTERVAL"
	VarFlushTimeout       = "GRAPHSIGNAL_FLUSH_TIMEOUT"
	VarDebugMode          = "GRAPHSIGNAL_DEBUG_MODE"
	VarOTLPTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	VarOTLPHeaders        = "OTEL_EXPORTER_OTLP_HEADERS"
	VarOTLPProtocol       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	VarXDGConfigHome      = "XDG_CONFIG_HOME"
	VarXDGDataHome        = "XDG_DATA_HOME"
	// VarCI is the generic "running in CI" variable most providers set.
	VarCI = "CI"
)

// Var describes one environment variable for help text.
type Var struct {
	Name        string
	Description string
}

// ReadVars returns the variables graphsignal reads, in the order of the
// configuration table, for `graphsignal run --help`. CI variables are
// summarised by their provider (see DetectCI).
func ReadVars() []Var {
	return []Var{
		{VarAPIKey, "API key; unset means local mode (secret: never printed; prefer it to --api-key, which ps shows)"},
		{VarDeployment, "deployment name (default: the program's name)"},
		{VarTags, `tags, "k=v,k2=v2"`},
		{VarTagPrefix + "<KEY>", "one tag; KEY is lower-cased, overrides " + VarTags},
		{VarAPIBase, "Graphsignal API base URL (also " + VarAPIURL + ")"},
		{VarOTLPEndpoint, "OTLP export endpoint; also the per-signal OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT and the standard _HEADERS, _PROTOCOL, _TIMEOUT, _COMPRESSION, _CERTIFICATE, _CLIENT_CERTIFICATE, _CLIENT_KEY, _INSECURE, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES"},
		{VarDataDir, "local data directory (default: $" + VarXDGDataHome + "/graphsignal)"},
		{VarRecordPayloads, "record payloads (default: true)"},
		{VarSampleInterval, "process sampling interval (default: 1s)"},
		{VarFlushTimeout, "upload flush timeout at exit (default: 2s)"},
		{VarDebugMode, "debug log to stderr"},
		{VarXDGConfigHome, "config file directory: $" + VarXDGConfigHome + "/graphsignal/config.yaml"},
		{VarCI, "CI detection, with the variables of GitHub Actions, GitLab CI, CircleCI, Buildkite, Jenkins, Azure Pipelines, Travis CI, Bitbucket Pipelines and Google Cloud Build"},
	}
}

// ChildVars returns the variables graphsignal adds to the child's
// environment, for `graphsignal run --help`.
func ChildVars() []Var {
	return []Var{
		{VarSocket, "local intake socket (newline-delimited JSON)"},
		{VarTraceID, "the run's trace id"},
		{VarParentSpanID, "the run span's id, parent of the child's spans"},
		{VarTraceparent, "W3C trace context of the run span, for OpenTelemetry SDKs"},
		{VarTags, "the merged tags with the run's own run_id, so SDKs in the child use the same session and run"},
		{VarAPIBase, "the loopback intake for the Graphsignal SDK"},
		{VarOTLPEndpoint, "always the loopback OTLP intake (http://127.0.0.1:PORT for OTEL_EXPORTER_OTLP_PROTOCOL=grpc); the run forwards to the user's endpoint"},
		{VarOTLPTracesEndpoint, "the loopback intake, only where the user set it (or " + VarOTLPTracesProtocol + ")"},
		{VarOTLPMetricsEndpoint, "the loopback intake, only where the user set it (or " + VarOTLPMetricsProtocol + ")"},
		{VarOTLPLogsEndpoint, "the loopback intake, only where the user set it (or " + VarOTLPLogsProtocol + ")"},
		{VarAPIKey, "a per-run local token for the Graphsignal SDK: in local mode, and when the API key came from --api-key or the config file (an inherited key is kept)"},
	}
}

// Lookup returns the value of key in environ and whether it is present. When
// a name occurs more than once the first occurrence wins, as for os.Getenv.
// Entries without "=" are ignored.
func Lookup(environ []string, key string) (string, bool) {
	for _, kv := range environ {
		if len(kv) > len(key) && kv[len(key)] == '=' && kv[:len(key)] == key {
			return kv[len(key)+1:], true
		}
	}
	return "", false
}

// Get returns the value of key in environ, or "" when absent (see Lookup).
func Get(environ []string, key string) string {
	v, _ := Lookup(environ, key)
	return v
}

// ChildEnviron returns the child's environment: parent's entries unchanged
// and in order, except that every entry whose name is a key of add is removed
// (all duplicates of it), and add's entries appended in sorted order of name.
// Entries of parent without "=" are kept as they are. parent is not modified.
func ChildEnviron(parent []string, add map[string]string) []string {
	out := make([]string, 0, len(parent)+len(add))
	for _, kv := range parent {
		if name, _, ok := strings.Cut(kv, "="); ok {
			if _, replaced := add[name]; replaced {
				continue
			}
		}
		out = append(out, kv)
	}
	names := make([]string, 0, len(add))
	for name := range add {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		out = append(out, name+"="+add[name])
	}
	return out
}
