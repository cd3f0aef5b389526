package signalspb

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"

	gen "github.com/graphsignal/graphsignal/internal/signalspb/signalspbgen"
)

// mergedWant is what MergeTags must produce from body, computed on the
// generated types: in each tagged message, the message's Tags stay and the
// entries of tags whose key none of them has are appended in key order.
// body is decoded afresh rather than cloned: proto.Clone lost a -0 double
// here.
func mergedWant(body []byte, tags map[string]string) *gen.UploadRequest {
	want := &gen.UploadRequest{}
	if err := proto.Unmarshal(body, want); err != nil {
		panic(err)
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	merge := func(old []*gen.Tag) []*gen.Tag {
		out := old
		for _, k := range keys {
			if !slices.ContainsFunc(old, func(t *gen.Tag) bool { return t.GetKey() == k }) {
				out = append(out, &gen.Tag{Key: k, Value: tags[k]})
			}
		}
		return out
	}
	for _, s := range want.Spans {
		s.Tags = merge(s.Tags)
	}
	for _, m := range want.Metrics {
		m.Tags = merge(m.Tags)
	}
	for _, i := range want.Issues {
		i.Tags = merge(i.Tags)
	}
	for _, l := range want.LogBatches {
		l.Tags = merge(l.Tags)
	}
	for _, r := range want.Resources {
		r.Tags = merge(r.Tags)
	}
	return want
}

// checkUnknown fails unless every message in got holds the same unknown
// fields, byte for byte, as the message at the same place in want (their
// known fields are already equal).
func checkUnknown(t *testing.T, path string, want, got protoreflect.Message) {
	t.Helper()
	if w, g := want.GetUnknown(), got.GetUnknown(); !bytes.Equal(w, g) {
		t.Fatalf("%s: unknown fields %x, want %x", path, g, w)
	}
	want.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap() || fd.Message() == nil:
		case fd.IsList():
			wl, gl := v.List(), got.Get(fd).List()
			for i := range wl.Len() {
				checkUnknown(t, path+"."+string(fd.Name()), wl.Get(i).Message(), gl.Get(i).Message())
			}
		default:
			checkUnknown(t, path+"."+string(fd.Name()), v.Message(), got.Get(fd).Message())
		}
		return true
	})
}

// checkMerge runs MergeTags on body and, when protobuf-go accepts body,
// checks the result against mergedWant: known fields and unknown fields
// alike. It returns the merged bytes (nil when body is not a message).
func checkMerge(t *testing.T, body []byte, tags map[string]string) []byte {
	t.Helper()
	var in gen.UploadRequest
	inErr := proto.Unmarshal(body, &in)
	got, err := MergeTags(body, tags)
	if inErr != nil {
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("MergeTags(%.64x) = %v, want an error wrapping ErrMalformed", body, err)
		}
		return nil
	}
	if err != nil {
		t.Fatalf("MergeTags(%.64x) = %v; protobuf-go accepts the input", body, err)
	}
	var out gen.UploadRequest
	if err := proto.Unmarshal(got, &out); err != nil {
		t.Fatalf("MergeTags(%.64x) = %.64x, which protobuf-go rejects: %v", body, got, err)
	}
	want := mergedWant(body, tags)
	if !proto.Equal(want, &out) {
		t.Fatalf("MergeTags(%.64x) (-want +got):\n%s", body, cmp.Diff(want, &out, protocmp.Transform()))
	}
	checkUnknown(t, "UploadRequest", want.ProtoReflect(), out.ProtoReflect())
	return got
}

// withUnknown is an SDK request holding what the model does not: unknown
// fields at the top and in every tagged message, a profile metric, a group,
// and an UploadRequest field this schema does not have.
func withUnknown() []byte {
	req := sdkRequest(2, 1)
	req.Metrics = append(req.Metrics, fullRequest().Metrics[0]) // a profile metric
	req.Issues = fullRequest().Issues
	req.LogBatches = fullRequest().LogBatches
	req.Resources = fullRequest().Resources
	unknown := cat(str(99, "future"), vint(100, 7), tg(101, protowire.StartGroupType), str(1, "g"), tg(101, protowire.EndGroupType))
	req.ProtoReflect().SetUnknown(cat(str(15, "new message type"), unknown))
	req.Spans[0].ProtoReflect().SetUnknown(unknown)
	req.Spans[0].Tags[0].ProtoReflect().SetUnknown(str(3, "tag extra"))
	req.Metrics[1].ProtoReflect().SetUnknown(unknown)
	req.Issues[0].ProtoReflect().SetUnknown(unknown)
	req.LogBatches[0].ProtoReflect().SetUnknown(unknown)
	req.Resources[0].ProtoReflect().SetUnknown(unknown)
	return canonical(req)
}

var runTags = map[string]string{"session_id": "run-session", "run_id": "r1", "deployment": "ci"}

func TestMergeTags(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		tags map[string]string
	}{
		{"sdk request", canonical(sdkRequest(3, 2)), runTags},
		{"every field", canonical(fullRequest()), runTags},
		{"unknown fields and profiles", withUnknown(), runTags},
		{"no tags", withUnknown(), nil},
		{"empty request", nil, runTags},
		{"empty messages", cat(msg(1), msg(2), msg(3), msg(4), msg(6)), runTags},
		{"the empty key is a key", canonical(fullRequest()), map[string]string{"": "x"}},
		{"duplicate sdk keys all kept", msg(1, msg(8, str(1, "k"), str(2, "a")), msg(8, str(1, "k"), str(2, "b"))), map[string]string{"k": "run"}},
		{"last key of a tag wins", msg(1, msg(8, str(1, "k"), str(1, "other"))), map[string]string{"k": "run"}},
		{"key with wrong wire type is no key", msg(1, msg(8, vint(1, 3), str(2, "v"))), map[string]string{"": "run"}},
		{"tag field with wrong wire type kept", msg(1, vint(8, 1)), map[string]string{"k": "v"}},
		{"tagged field with wrong wire type kept", cat(vint(1, 5), f64(2, 1), vint(6, 2)), runTags},
		{"upload_ts and unknown kept in place", cat(vint(5, 9), str(77, "x"), msg(1, str(7, "n"))), runTags},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkMerge(t, tt.body, tt.tags); got == nil && len(tt.body) > 0 {
				t.Fatalf("checkMerge(%.64x): protobuf-go rejects the test input", tt.body)
			}
		})
	}
}

// TestMergeTagsKeepsBytes: with no tags the request comes back byte for
// byte; with tags, every field is the input's bytes, in the input's order,
// the SDK's Tags included, and the run's Tags the SDK lacks follow.
func TestMergeTagsKeepsBytes(t *testing.T) {
	body := withUnknown()
	got, err := MergeTags(body, nil)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("MergeTags(body, nil) = %v; changed the bytes: %s", err, firstDiff(got, body))
	}
	span := cat(str(1, "a1"), str(99, "future"), tg(101, protowire.StartGroupType), str(1, "g"), tg(101, protowire.EndGroupType))
	in := cat(vint(5, 9), str(15, "unknown message"),
		msg(1, cat(span, msg(8, str(1, "session_id"), str(2, "sdk")), msg(8, str(1, "model"), str(2, "m")))))
	want := cat(vint(5, 9), str(15, "unknown message"),
		msg(1, cat(span, msg(8, str(1, "session_id"), str(2, "sdk")), msg(8, str(1, "model"), str(2, "m")),
			msg(8, str(1, "run_id"), str(2, "r")))))
	got, err = MergeTags(in, map[string]string{"session_id": "s", "run_id": "r"})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("MergeTags = %v: %s", err, firstDiff(got, want))
	}
}

func TestMergeTagsInvalidUTF8(t *testing.T) {
	got, err := MergeTags(msg(1, str(7, "n")), map[string]string{"k\xff": "v\xfe"})
	if err != nil {
		t.Fatal(err)
	}
	var out gen.UploadRequest
	if err := proto.Unmarshal(got, &out); err != nil {
		t.Fatalf("merged request rejected by protobuf-go: %v", err)
	}
	if tg := out.Spans[0].Tags; len(tg) != 1 || tg[0].Key != "k\uFFFD" || tg[0].Value != "v\uFFFD" {
		t.Errorf("tags = %v, want k\uFFFD=v\uFFFD", tg)
	}
}

func TestMergeTagsMalformed(t *testing.T) {
	for _, body := range [][]byte{
		{0x0a},                             // truncated length
		{0x0a, 0x02, 0x42},                 // span: truncated tag
		msg(1, []byte{0x42, 0x05, 0x0a}),   // tag message past its span
		msg(1, msg(8, []byte{0x0a, 0x09})), // key past its tag
		msg(1, msg(8, []byte{0x0f})),       // wire type 7 inside a tag
		cat(tg(9, protowire.EndGroupType)), // stray end group
		{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, // overflow
	} {
		if _, err := MergeTags(body, runTags); !errors.Is(err, ErrMalformed) {
			t.Errorf("MergeTags(%x) = %v, want ErrMalformed", body, err)
		}
	}
}

// FuzzMergeTags checks MergeTags against protobuf-go's generated code: for
// every input that protobuf-go accepts, the result decodes, equals the input
// with the tags merged (mergedWant), and keeps every unknown field of every
// message byte for byte. The seed corpus is in testdata/fuzz/FuzzMergeTags.
func FuzzMergeTags(f *testing.F) {
	f.Add(withUnknown(), "session_id", "s", "model_type", "m")
	f.Add(canonical(sdkRequest(1, 1)), "", "", "host", "h")
	f.Fuzz(func(t *testing.T, body []byte, k1, v1, k2, v2 string) {
		tags := map[string]string{
			strings.ToValidUTF8(k1, "?"): strings.ToValidUTF8(v1, "?"),
			strings.ToValidUTF8(k2, "?"): strings.ToValidUTF8(v2, "?"),
		}
		checkMerge(t, body, tags)
	})
}

func BenchmarkMergeTags(b *testing.B) {
	body := canonical(sdkRequest(100, 10))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := MergeTags(body, runTags); err != nil {
			b.Fatal(err)
		}
	}
}
