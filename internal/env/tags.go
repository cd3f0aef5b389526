package env

import (
	"fmt"
	"slices"
	"strings"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// ParseTagList parses a comma-separated list of key=value tags, the format of
// GRAPHSIGNAL_TAGS (a single --tag value is a list of one).
//
// White space around keys and values is trimmed. Empty entries (",," or a
// trailing comma) are ignored. A value may contain "=": the entry is split at
// the first one. A value may be empty ("k="). An entry without "=" or with
// an empty key is an error naming the entry: `tag "foo": want key=value`.
// When a key repeats, the last entry wins. The result is nil for a list
// without entries.
func ParseTagList(s string) (telemetry.Tags, error) {
	var tags telemetry.Tags
	for _, entry := range strings.Split(s, ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		k, v, err := parseTag(entry)
		if err != nil {
			return nil, err
		}
		if tags == nil {
			tags = telemetry.Tags{}
		}
		tags[k] = v
	}
	return tags, nil
}

// ParseTag parses a single "key=value" tag, the value of one --tag flag.
// Unlike an entry of ParseTagList, the value may contain commas (such a tag
// is recorded, but left out of the child's GRAPHSIGNAL_TAGS, see
// FormatTags). Trimming and errors are as for ParseTagList.
func ParseTag(s string) (key, value string, err error) {
	return parseTag(s)
}

func parseTag(entry string) (string, string, error) {
	k, v, ok := strings.Cut(entry, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return "", "", fmt.Errorf("tag %q: want key=value", strings.TrimSpace(entry))
	}
	return k, strings.TrimSpace(v), nil
}

// TagsFromEnviron returns the tags of GRAPHSIGNAL_TAGS merged with one tag for
// every GRAPHSIGNAL_TAG_<KEY>=value variable, whose key is KEY lower-cased and
// whose value is trimmed; these override GRAPHSIGNAL_TAGS entries of the same
// key. Errors name the variable and the bad entry. The caller applies --tag
// flags on top. The result is nil when no tags are set.
func TagsFromEnviron(environ []string) (telemetry.Tags, error) {
	tags, err := ParseTagList(Get(environ, VarTags))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", VarTags, err)
	}
	seen := map[string]bool{}
	for _, kv := range environ {
		name, v, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, VarTagPrefix) || seen[name] {
			continue
		}
		seen[name] = true // the first occurrence wins, as in Lookup
		key := strings.ToLower(strings.TrimSpace(name[len(VarTagPrefix):]))
		if key == "" {
			return nil, fmt.Errorf("%s: empty tag key", name)
		}
		if tags == nil {
			tags = telemetry.Tags{}
		}
		tags[key] = strings.TrimSpace(v)
	}
	return tags, nil
}

// FormatTags returns tags as "k=v,k2=v2" sorted by key, the format of
// GRAPHSIGNAL_TAGS that ParseTagList reads back.
//
// The format has no escaping, so an entry that would not read back as itself
// is left out rather than corrupt the list for SDKs and nested runs: a key or
// value containing ",", a key containing "=", and a key that is empty after
// trimming. White space around a key or value is trimmed. The result is ""
// for no tags.
func FormatTags(tags telemetry.Tags) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		v := tags[k]
		tk := strings.TrimSpace(k)
		if tk == "" || strings.ContainsAny(k, ",=") || strings.Contains(v, ",") {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(tk)
		b.WriteByte('=')
		b.WriteString(strings.TrimSpace(v))
	}
	return b.String()
}

// TagParentRunID is the tag with which a nested run records the run_id of
// the run that encloses it.
const TagParentRunID = "parent_run_id"

// NestedRunTags returns a copy of tags (resolved for a new run from the
// configuration file, environ and flags), never nil, in which every run
// has its own run_id. When environ is the child environment of an
// enclosing graphsignal run (GRAPHSIGNAL_PARENT_SPAN_ID is set), the run_id
// and parent_run_id it hands down (GRAPHSIGNAL_TAGS, GRAPHSIGNAL_TAG_<KEY>)
// are the enclosing run's: a run_id or parent_run_id equal to those is
// removed, so the caller gives the new run its own run_id, and parent_run_id
// is set to the enclosing run's run_id. A run_id given only to the new run
// (a --tag flag with another value) is kept. Outside a run, tags are
// returned as they are.
func NestedRunTags(tags telemetry.Tags, environ []string) telemetry.Tags {
	own := tags.Clone()
	if own == nil {
		own = telemetry.Tags{}
	}
	if Get(environ, VarParentSpanID) == "" {
		return own
	}
	outer, _ := TagsFromEnviron(environ) // its errors were reported when tags were resolved
	for _, k := range []string{telemetry.TagRunID, TagParentRunID} {
		if v, ok := outer[k]; ok && own[k] == v {
			delete(own, k)
		}
	}
	if id := outer[telemetry.TagRunID]; id != "" {
		own[TagParentRunID] = id
	}
	return own
}
