package gsapi

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/graphsignal/graphsignal/internal/signalspb"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Resource kinds and the attribute prefixes of the run span they take.
var resourceKinds = []struct {
	kind     string
	prefixes []string
	identity []string // attributes naming the resource (all when none is set)
	byRun    bool     // the run's trace is part of the identity
}{
	{"host", []string{"host.", "os."}, []string{telemetry.AttrHostName}, false},
	{"process", []string{"process."}, []string{telemetry.AttrHostName, telemetry.AttrPID}, true},
	{"ci", []string{"ci.", "cicd.", "vcs."}, []string{"ci.provider", "cicd.pipeline.run.id", "cicd.pipeline.task.run.id", "ci.run.attempt"}, false},
}

// resources describes the run's host, process and CI job from its span's
// attributes. A host is tagged with its name; a process and a CI job with
// the run's tags.
func (m *mapper) resources(sp *telemetry.Span) {
	first, last := telemetry.UnixNano(sp.Start), telemetry.UnixNano(sp.End)
	if last == 0 {
		last = first
	}
	for _, rk := range resourceKinds {
		var attrs []*signalspb.Attribute
		for k, v := range sp.Attributes {
			for _, p := range rk.prefixes {
				if strings.HasPrefix(k, p) {
					attrs = append(attrs, &signalspb.Attribute{Name: k, Value: attrString(v)})
					break
				}
			}
		}
		if len(attrs) == 0 {
			continue
		}
		sortAttrs(attrs)
		id := []string{rk.kind}
		if rk.byRun {
			id = append(id, sp.TraceID.String())
		}
		named := false
		for _, k := range rk.identity {
			if v, ok := sp.Attributes[k]; ok {
				id, named = append(id, k, attrString(v)), true
			}
		}
		if !named {
			for _, a := range attrs {
				id = append(id, a.Name, a.Value)
			}
		}
		tags := sortedTags(sp.Tags)
		if rk.kind == "host" {
			tags = nil
			if h, ok := sp.Attributes[telemetry.AttrHostName].(string); ok {
				tags = []*signalspb.Tag{{Key: telemetry.AttrHostName, Value: h}}
			}
		}
		m.req.Resources = append(m.req.Resources, &signalspb.Resource{
			ResourceId:  hex.EncodeToString(digest(id...)[:16]),
			Kind:        rk.kind,
			Tags:        tags,
			Attributes:  attrs,
			FirstSeenTs: first,
			LastSeenTs:  last,
		})
	}
}

// digest hashes the parts, each followed by a zero byte.
func digest(parts ...string) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}
