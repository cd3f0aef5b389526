package otlpexport

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/upload"
)

// Attribute keys and names of the mapping (docs/upload.md, "OTLP").
const (
	scopeName         = "graphsignal"
	tagAttrPrefix     = "graphsignal.tag."
	usageAttrPrefix   = "graphsignal.usage."
	payloadAttrPrefix = "graphsignal.payload."
	attrSessionID     = "session.id"
	attrUserID        = "user.id"
	attrRunID         = "graphsignal.run.id"
	scoreEventName    = "graphsignal.score"
	attrScoreName     = "graphsignal.score.name"
	attrScoreValue    = "graphsignal.score.value"
	attrScoreUnit     = "graphsignal.score.unit"
	attrScoreComment  = "graphsignal.score.comment"
	attrScoreSeverity = "graphsignal.score.severity"

	// Attributes the intake sets from what it received (docs/intake.md):
	// the exporter turns them back into OTLP structure.
	intakeResourcePrefix = "resource."
	intakeScopeName      = "otel.scope.name"
	intakeScopeVersion   = "otel.scope.version"
	intakeSpanKind       = "otel.span.kind"
	tagServiceName       = "service.name"
)

// converter maps batches to OTLP. It remembers the run spans it saw
// (upload.RunIndex), so that records of a run arriving in later batches get
// the same resource.
type converter struct {
	service string
	extra   map[string]string
	runs    upload.RunIndex
}

func newConverter(service string, extra map[string]string) converter {
	return converter{service: service, extra: extra}
}

// isResourceAttr reports whether a run span attribute describes the
// resource: the host, the process's identity, CI/CD and VCS. The exit
// status and the usage summary stay on the run span only, since a resource
// must be the same for every batch of a run and they are known at its end.
func isResourceAttr(k string) bool {
	switch k {
	case telemetry.AttrExecutableName, telemetry.AttrCommandArgs, telemetry.AttrPID,
		telemetry.AttrWorkingDir, "process.owner", "process.executable.path", "process.parent_pid":
		return true
	}
	for _, p := range []string{"host.", "os.", "cicd.", "vcs.", "container.", "k8s.", "cloud.", "process.runtime."} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// resKey identifies one resource in a request: the run, its service name
// and the resource attributes of the record's own source (a program's
// service.name).
type resKey struct {
	session   string
	run       string
	service   string
	own       string
	ownAttrs  []kv
	sessionOK bool
}

type kv struct {
	k string
	v any
}

// keyFor returns the resource key of a record of trace with tags, whose
// own resource attributes are own (sorted by key). A record without a
// run id of its own (a process metric point) belongs to the earliest run of
// its trace the converter has seen; without a session id of its own, it
// takes its run's. Its service is the configured one, else its run's
// deployment, else its own deployment tag.
func (c *converter) keyFor(trace telemetry.TraceID, tags telemetry.Tags, own []kv) resKey {
	k := resKey{ownAttrs: own, service: c.service}
	k.session, k.sessionOK = tags[telemetry.TagSessionID]
	k.run = tags[telemetry.TagRunID]
	run, known := c.runs.RunOf(trace, tags)
	if known {
		k.run = run.Tags[telemetry.TagRunID]
		if !k.sessionOK {
			k.session, k.sessionOK = run.Tags[telemetry.TagSessionID]
		}
	}
	if k.service == "" {
		k.service = run.Tags[telemetry.TagDeployment] // "" when not known
	}
	if k.service == "" {
		k.service = tags[telemetry.TagDeployment]
	}
	if len(own) > 0 {
		var b strings.Builder
		for _, a := range own {
			b.WriteString(a.k)
			b.WriteByte(0)
			b.WriteString(attrString(a.v))
			b.WriteByte(0)
		}
		k.own = b.String()
	}
	return k
}

// mapKey is the comparable part of a resKey.
type mapKey struct {
	session, run, service string
	own                   string
}

func (k resKey) mapKey() mapKey { return mapKey{k.session, k.run, k.service, k.own} }

// fillResource writes the attributes of the resource k: service.name, the
// OTEL_RESOURCE_ATTRIBUTES, the run span's host/process/CI attributes, the
// session and run ids, and the record source's own attributes last (a
// program's service.name wins for its own records).
func (c *converter) fillResource(r pcommon.Resource, k resKey) {
	m := r.Attributes()
	run, _ := c.runs.Run(k.run)
	m.EnsureCapacity(len(c.extra) + len(run.Attributes) + len(k.ownAttrs) + 4)
	if k.service != "" {
		m.PutStr(tagServiceName, k.service)
	}
	for _, key := range sortedKeys(c.extra) {
		m.PutStr(key, c.extra[key])
	}
	for _, key := range sortedKeys(run.Attributes) {
		if isResourceAttr(key) {
			putValue(m, key, run.Attributes[key])
		}
	}
	if k.sessionOK {
		m.PutStr(attrSessionID, k.session)
		m.PutStr(tagAttrPrefix+telemetry.TagSessionID, k.session)
	}
	if k.run != "" {
		m.PutStr(attrRunID, k.run)
		m.PutStr(tagAttrPrefix+telemetry.TagRunID, k.run)
	}
	for _, a := range k.ownAttrs {
		if isRunIdentity(a.k) {
			continue // the record's session and run, not what the program's resource says
		}
		putValue(m, a.k, a.v)
	}
}

// isRunIdentity reports whether a resource attribute names the session or
// the run, which the exporter sets from the record's tags (the same ones the
// local store files it under), so that a program's own resource cannot
// contradict them.
func isRunIdentity(k string) bool {
	switch k {
	case attrSessionID, attrRunID, tagAttrPrefix + telemetry.TagSessionID, tagAttrPrefix + telemetry.TagRunID:
		return true
	}
	return false
}

// isResourceTag reports whether a tag is carried by the resource rather
// than by each record.
func isResourceTag(k string) bool {
	return k == telemetry.TagSessionID || k == telemetry.TagRunID
}

// putTags writes a record's tags as graphsignal.tag.<key> attributes,
// except those the resource carries; user_id is also written as user.id.
func putTags(m pcommon.Map, tags telemetry.Tags) {
	for _, k := range sortedKeys(tags) {
		if isResourceTag(k) {
			continue
		}
		m.PutStr(tagAttrPrefix+k, tags[k])
		if k == telemetry.TagUserID {
			m.PutStr(attrUserID, tags[k])
		}
	}
}

// putValue writes one attribute of the model (string, bool, integers,
// floats, []string, []byte) into m; other types in their fmt form.
func putValue(m pcommon.Map, k string, v any) {
	switch x := v.(type) {
	case string:
		m.PutStr(k, x)
	case bool:
		m.PutBool(k, x)
	case int64:
		m.PutInt(k, x)
	case int:
		m.PutInt(k, int64(x))
	case int32:
		m.PutInt(k, int64(x))
	case uint32:
		m.PutInt(k, int64(x))
	case uint64:
		m.PutInt(k, int64(x))
	case float64:
		m.PutDouble(k, x)
	case float32:
		m.PutDouble(k, float64(x))
	case []string:
		s := m.PutEmptySlice(k)
		s.EnsureCapacity(len(x))
		for _, e := range x {
			s.AppendEmpty().SetStr(e)
		}
	case []any:
		s := m.PutEmptySlice(k)
		s.EnsureCapacity(len(x))
		for _, e := range x {
			s.AppendEmpty().SetStr(attrString(e))
		}
	case []byte:
		m.PutEmptyBytes(k).FromRaw(x)
	default:
		m.PutStr(k, fmt.Sprint(v))
	}
}

// attrString renders an attribute value as text, as OTLP's AnyValue.AsString
// does for the types of the model.
func attrString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	m := pcommon.NewMap()
	putValue(m, "v", v)
	val, _ := m.Get("v")
	return val.AsString()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func timestamp(t time.Time) pcommon.Timestamp {
	return pcommon.Timestamp(telemetry.UnixNano(t))
}
