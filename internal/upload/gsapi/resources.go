package gsapi

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/graphsignal/graphsignal/internal/gpu"
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

// gpuResources describes each GPU the run sampled (docs/gpu.md) as a
// resource of kind "gpu": its facts and the driver's, tagged and
// identified by its UUID (and the host, whose device it is).
func (m *mapper) gpuResources(sp *telemetry.Span) {
	first, last := telemetry.UnixNano(sp.Start), telemetry.UnixNano(sp.End)
	host, _ := sp.Attributes[telemetry.AttrHostName].(string)
	for _, d := range gpu.ParseAttributes(sp.Attributes) {
		if d.UUID == "" {
			continue
		}
		var attrs []*signalspb.Attribute
		add := func(k, v string) {
			if v != "" {
				attrs = append(attrs, &signalspb.Attribute{Name: k, Value: v})
			}
		}
		add("device.index", strconv.Itoa(d.Index))
		add("device.name", d.Name)
		add("device.bus_id", d.BusID)
		add("device.architecture", d.Architecture)
		add("device.compute_capability", d.ComputeCapability)
		add("device.mig", d.MIG)
		add("device.parent", d.Parent)
		if d.MemoryTotal > 0 {
			add("device.memory.total", strconv.FormatUint(d.MemoryTotal, 10))
		}
		for _, k := range []string{"gpu.driver.version", "gpu.cuda.version"} {
			if v, ok := sp.Attributes[k].(string); ok {
				add(k, v)
			}
		}
		sortAttrs(attrs)
		tags := []*signalspb.Tag{{Key: gpu.TagDeviceUUID, Value: d.UUID}}
		if host != "" {
			tags = append(tags, &signalspb.Tag{Key: telemetry.AttrHostName, Value: host})
		}
		m.req.Resources = append(m.req.Resources, &signalspb.Resource{
			ResourceId:  hex.EncodeToString(digest("gpu", host, d.UUID)[:16]),
			Kind:        "gpu",
			Tags:        tags,
			Attributes:  attrs,
			FirstSeenTs: first,
			LastSeenTs:  max(last, first),
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
