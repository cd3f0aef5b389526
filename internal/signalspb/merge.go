package signalspb

import (
	"fmt"
	"slices"
	"strings"

	"github.com/graphsignal/graphsignal/internal/wire"
)

// tagFieldOf returns, for a field of UploadRequest that holds a tagged
// message, the number of that message's repeated Tag field (Span.tags = 8,
// Metric.tags = 3, Issue.tags = 2, LogBatch.tags = 1, Resource.tags = 3),
// and 0 for any other field.
func tagFieldOf(num wire.Number) wire.Number {
	switch num {
	case 1: // spans
		return 8
	case 2: // metrics
		return 3
	case 3: // issues
		return 2
	case 4: // log_batches
		return 1
	case 6: // resources
		return 3
	}
	return 0
}

// MergeTags returns a copy of body, a serialized UploadRequest, with tags
// merged into every Span, Metric, Issue, LogBatch and Resource under the
// message's own: for each entry of tags whose key none of the message's
// Tags has, one Tag is appended (in key order) after the message's other
// fields; the message's own Tags stay, so a session_id or user_id the SDK
// set wins over the run's, as in the records the intake decodes
// (docs/intake.md). Everything else is copied byte for byte and in order:
// the fields of UploadRequest that are not tagged messages, every other
// field of a tagged message (fields this package does not know, profile
// metrics, groups) and the message's Tags. Keys and values of tags that are
// not valid UTF-8 are written with U+FFFD in place of the bad bytes, so the
// result is valid wherever body is.
//
// MergeTags checks the wire structure of body down to the Tags it reads,
// not the UTF-8 of strings it does not read; when that structure is broken
// it returns an error wrapping ErrMalformed. Whatever Unmarshal accepts,
// MergeTags accepts.
func MergeTags(body []byte, tags map[string]string) ([]byte, error) {
	var m merger
	values := make(map[string]string, len(tags))
	for k, v := range tags {
		k = strings.ToValidUTF8(k, "\uFFFD")
		values[k] = strings.ToValidUTF8(v, "\uFFFD")
		m.keys = append(m.keys, k)
	}
	slices.Sort(m.keys)
	m.keys = slices.Compact(m.keys)
	for _, k := range m.keys {
		m.extra = append(m.extra, (&Tag{Key: k, Value: values[k]}).Marshal())
	}
	out := make([]byte, 0, len(body)+len(body)/4)
	for b := body; len(b) > 0; {
		num, typ, n := wire.ConsumeTag(b)
		if n < 0 {
			return nil, malformed(n)
		}
		v := wire.ConsumeFieldValue(num, typ, b[n:])
		if v < 0 {
			return nil, fmt.Errorf("field %d: %w", num, malformed(v))
		}
		field := b[:n+v]
		b = b[n+v:]
		tagNum := tagFieldOf(num)
		if tagNum == 0 || typ != wire.BytesType {
			out = append(out, field...)
			continue
		}
		msg, _ := wire.ConsumeBytes(field[n:])
		merged, err := m.message(msg, tagNum)
		if err != nil {
			return nil, fmt.Errorf("field %d: %w", num, err)
		}
		out = wire.AppendTag(out, num, wire.BytesType)
		out = wire.AppendBytes(out, merged)
	}
	return out, nil
}

// merger holds the tags that MergeTags merges.
type merger struct {
	keys  []string // sorted
	extra [][]byte // the encoded Tag of each key
	has   []bool   // per key, whether the message being merged has it
}

// message returns msg, a tagged message whose Tags are field tagNum, with
// the Tags it lacks appended.
func (m *merger) message(msg []byte, tagNum wire.Number) ([]byte, error) {
	m.has = slices.Grow(m.has[:0], len(m.keys))[:len(m.keys)]
	clear(m.has)
	size := len(msg)
	for _, e := range m.extra {
		size += wire.SizeTag(tagNum) + wire.SizeBytes(len(e))
	}
	out := make([]byte, 0, size)
	for b := msg; len(b) > 0; {
		num, typ, n := wire.ConsumeTag(b)
		if n < 0 {
			return nil, malformed(n)
		}
		v := wire.ConsumeFieldValue(num, typ, b[n:])
		if v < 0 {
			return nil, fmt.Errorf("field %d: %w", num, malformed(v))
		}
		field := b[:n+v]
		b = b[n+v:]
		if num == tagNum && typ == wire.BytesType {
			tag, _ := wire.ConsumeBytes(field[n:])
			key, err := tagKey(tag)
			if err != nil {
				return nil, fmt.Errorf("field %d: %w", num, err)
			}
			if i, ok := slices.BinarySearch(m.keys, key); ok {
				m.has[i] = true
			}
		}
		out = append(out, field...)
	}
	for i, e := range m.extra {
		if !m.has[i] {
			out = wire.AppendTag(out, tagNum, wire.BytesType)
			out = wire.AppendBytes(out, e)
		}
	}
	return out, nil
}

// tagKey returns the key of an encoded Tag as protobuf decodes it: the last
// key field of the bytes wire type, "" when there is none.
func tagKey(b []byte) (string, error) {
	var key []byte
	for len(b) > 0 {
		num, typ, n := wire.ConsumeTag(b)
		if n < 0 {
			return "", malformed(n)
		}
		b = b[n:]
		if num == 1 && typ == wire.BytesType {
			v, n := wire.ConsumeBytes(b)
			if n < 0 {
				return "", malformed(n)
			}
			key, b = v, b[n:]
			continue
		}
		n = wire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return "", malformed(n)
		}
		b = b[n:]
	}
	return string(key), nil
}
