package httpintake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/sdkconfig"
	gen "github.com/graphsignal/graphsignal/internal/signalspb/signalspbgen"
)

// unknownField is a field no version of the schema here has (number 99, a
// string): what a newer SDK may send.
var unknownField = protowire.AppendString(protowire.AppendTag(nil, 99, protowire.BytesType), "from a newer SDK")

// sdkUploadWithUnknown is sdkUpload plus what the local model does not
// hold: an issue, a resource, a profile metric (already in sdkUpload), an
// unknown top-level field (a message type of a newer SDK), and unknown
// fields inside a span, a metric and a tag.
func sdkUploadWithUnknown() *gen.UploadRequest {
	req := sdkUpload(3)
	req.Issues = []*gen.Issue{{IssueId: "i1", Name: "oom", Tags: []*gen.Tag{{Key: "run_id", Value: "sdk-run"}}, IssueTs: 5}}
	req.Resources = []*gen.Resource{{ResourceId: "r1", Kind: "host", Attributes: []*gen.Attribute{{Name: "cpus", Value: "8"}}}}
	newType := protowire.AppendBytes(protowire.AppendTag(nil, 15, protowire.BytesType), unknownField)
	req.ProtoReflect().SetUnknown(append(newType, unknownField...))
	req.Spans[0].ProtoReflect().SetUnknown(unknownField)
	req.Metrics[3].ProtoReflect().SetUnknown(unknownField)
	req.Spans[0].Tags[0].ProtoReflect().SetUnknown(unknownField)
	return req
}

// withoutTags returns m with every tagged message's tags cleared.
func withoutTags(m *gen.UploadRequest) *gen.UploadRequest {
	for _, s := range m.Spans {
		s.Tags = nil
	}
	for _, x := range m.Metrics {
		x.Tags = nil
	}
	for _, x := range m.Issues {
		x.Tags = nil
	}
	for _, x := range m.LogBatches {
		x.Tags = nil
	}
	for _, x := range m.Resources {
		x.Tags = nil
	}
	return m
}

// tagsOf returns tags as key=value strings, in order.
func tagsOf(tags []*gen.Tag) []string {
	var out []string
	for _, t := range tags {
		out = append(out, t.GetKey()+"="+t.GetValue())
	}
	return out
}

// TestPassThrough: in cloud mode the SDK's request is handed on whole, as
// an SDKUpload whose body holds the run's tags in every tagged message
// (under the SDK's: a key the SDK set keeps its value) and everything else
// as sent,
// unknown fields byte for byte; the decoded records, marked InSDKUpload,
// travel beside it.
func TestPassThrough(t *testing.T) {
	s, col := startIntake(t, func(c *Config) { c.PassThrough = true })
	req := sdkUploadWithUnknown()
	body := marshal(t, req)
	resp := do(t, newClient(t), "POST", s.Endpoint()+"/api/v1/signals/", sdkHeaders(testKey), gz(t, body))
	if resp.code != http.StatusOK {
		t.Fatalf("status %d %q", resp.code, resp.body)
	}
	got := col.all()
	if len(got.SDKUploads) != 1 {
		t.Fatalf("%d SDKUploads, want 1", len(got.SDKUploads))
	}
	up := got.SDKUploads[0]
	if up.Time.IsZero() {
		t.Error("SDKUpload without a receipt time")
	}
	for _, want := range [][]byte{unknownField, protowire.AppendBytes(protowire.AppendTag(nil, 15, protowire.BytesType), unknownField)} {
		if !bytes.Contains(up.Body, want) {
			t.Errorf("forwarded body lacks the unknown field %x", want)
		}
	}
	var fwd gen.UploadRequest
	if err := proto.Unmarshal(up.Body, &fwd); err != nil {
		t.Fatalf("forwarded body: %v", err)
	}
	// Tags: the SDK's as sent, then the run's whose key the SDK did not
	// set, sorted.
	run := []string{"deployment=test", "run_id=r-1", "session_id=s-1"}
	for _, c := range []struct {
		what      string
		got, sent []*gen.Tag
	}{
		{"span", fwd.Spans[0].Tags, req.Spans[0].Tags},
		{"metric", fwd.Metrics[0].Tags, req.Metrics[0].Tags},
		{"profile metric", fwd.Metrics[3].Tags, req.Metrics[3].Tags},
		{"issue", fwd.Issues[0].Tags, req.Issues[0].Tags},
		{"log batch", fwd.LogBatches[0].Tags, req.LogBatches[0].Tags},
		{"resource", fwd.Resources[0].Tags, req.Resources[0].Tags},
	} {
		want := tagsOf(c.sent)
		for _, r := range run {
			if !slices.ContainsFunc(tagsOf(c.sent), func(kv string) bool { return kvKey(r) == kvKey(kv) }) {
				want = append(want, r)
			}
		}
		if d := cmp.Diff(want, tagsOf(c.got)); d != "" {
			t.Errorf("%s tags (-want +got):\n%s", c.what, d)
		}
	}
	if !bytes.Equal(fwd.Spans[0].Tags[0].ProtoReflect().GetUnknown(), unknownField) {
		t.Errorf("kept tag lost its unknown field")
	}
	// Everything but the tags is what the SDK sent, unknown fields included.
	if d := cmp.Diff(withoutTags(req), withoutTags(&fwd), protocmp.Transform()); d != "" || !proto.Equal(withoutTags(req), &fwd) {
		t.Errorf("forwarded request differs beyond its tags (-sent +forwarded):\n%s", d)
	}
	for _, x := range []struct {
		what      string
		sent, got []byte
	}{
		{"request", req.ProtoReflect().GetUnknown(), fwd.ProtoReflect().GetUnknown()},
		{"span", req.Spans[0].ProtoReflect().GetUnknown(), fwd.Spans[0].ProtoReflect().GetUnknown()},
		{"profile metric", req.Metrics[3].ProtoReflect().GetUnknown(), fwd.Metrics[3].ProtoReflect().GetUnknown()},
	} {
		if !bytes.Equal(x.sent, x.got) {
			t.Errorf("%s unknown fields %x, sent %x", x.what, x.got, x.sent)
		}
	}
	// The records decoded for the local store, marked.
	if len(got.Spans) != 1 || len(got.Metrics) != 3 || len(got.Logs) != 1 {
		t.Fatalf("decoded %d spans, %d metrics, %d logs; want 1, 3, 1", len(got.Spans), len(got.Metrics), len(got.Logs))
	}
	for _, r := range []bool{got.Spans[0].InSDKUpload, got.Metrics[0].InSDKUpload, got.Metrics[2].InSDKUpload, got.Logs[0].InSDKUpload} {
		if !r {
			t.Errorf("decoded record without InSDKUpload: %+v", got)
		}
	}
	if st := s.Stats(); st.SDKUploads != 1 {
		t.Errorf("Stats().SDKUploads = %d, want 1", st.SDKUploads)
	}
}

func kvKey(kv string) string {
	k, _, _ := bytes.Cut([]byte(kv), []byte("="))
	return string(k)
}

// TestPassThroughNothingDecoded: a request holding only what the model does
// not keep (an issue, a resource, an unknown message type) is still handed
// on.
func TestPassThroughNothingDecoded(t *testing.T) {
	s, col := startIntake(t, func(c *Config) { c.PassThrough = true })
	req := &gen.UploadRequest{Issues: []*gen.Issue{{Name: "oom"}}, Resources: []*gen.Resource{{Kind: "host"}}}
	req.ProtoReflect().SetUnknown(unknownField)
	resp := do(t, newClient(t), "POST", s.Endpoint()+"/api/v1/signals/", sdkHeaders(testKey), gz(t, marshal(t, req)))
	got := col.all()
	if resp.code != http.StatusOK || len(got.SDKUploads) != 1 || got.Len() != 1 {
		t.Fatalf("status %d, batch of %d records with %d SDKUploads; want 200 and the upload alone", resp.code, got.Len(), len(got.SDKUploads))
	}
	var fwd gen.UploadRequest
	if err := proto.Unmarshal(got.SDKUploads[0].Body, &fwd); err != nil || len(fwd.Issues) != 1 || len(fwd.Resources) != 1 ||
		!bytes.Equal(fwd.ProtoReflect().GetUnknown(), unknownField) {
		t.Errorf("forwarded %v (%v), want the issue, the resource and the unknown field", &fwd, err)
	}
}

// TestLocalModeUnchanged: without PassThrough nothing is handed on whole and
// no record is marked.
func TestLocalModeUnchanged(t *testing.T) {
	s, col := startIntake(t, nil)
	resp := do(t, newClient(t), "POST", s.Endpoint()+"/api/v1/signals/", sdkHeaders(testKey), gz(t, marshal(t, sdkUploadWithUnknown())))
	got := col.all()
	if resp.code != http.StatusOK || len(got.SDKUploads) != 0 || len(got.Spans) != 1 {
		t.Fatalf("status %d, %d SDKUploads, %d spans; want 200, none, 1", resp.code, len(got.SDKUploads), len(got.Spans))
	}
	for _, r := range []bool{got.Spans[0].InSDKUpload, got.Metrics[0].InSDKUpload, got.Logs[0].InSDKUpload} {
		if r {
			t.Error("record marked InSDKUpload in local mode")
		}
	}
}

const cloudOptions = `{"options":[{"name":"traces_per_sec","value":"0.25"},{"name":"debug_mode","value":"1"}]}`

// TestSDKConfigFromCloud runs a real intake with a real sdkconfig.Fetcher
// against an httptest stand-in for the Graphsignal API: the API's answer is
// relayed; with the API down the cache of an earlier run answers; with
// neither, or with an API that does not answer, the local default does,
// within SDKConfigWait.
func TestSDKConfigFromCloud(t *testing.T) {
	const userKey = "gs-user-key"
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != userKey || r.URL.Path != "/api/v1/sdk_config/" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(cloudOptions))
	}))
	defer api.Close()
	hung := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hung:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(hung)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()

	const localDefault = `{"options":[{"name":"traces_per_sec","value":"1000"}]}`
	cache := t.TempDir()
	tests := []struct {
		name    string
		base    string
		cache   string
		want    string
		maxWait time.Duration
	}{
		{"cloud answer relayed", api.URL, cache, cloudOptions, 5 * time.Second},
		{"cache when the cloud is down", down.URL, cache, cloudOptions, 5 * time.Second},
		{"default when nothing", down.URL, t.TempDir(), localDefault, 5 * time.Second},
		{"default when the cloud hangs", slow.URL, t.TempDir(), localDefault, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.base == down.URL && tt.cache == cache {
				// The cache holds the API base it was fetched from.
				rebase(t, cache, down.URL)
			}
			f, err := sdkconfig.New(sdkconfig.Config{APIBase: tt.base, APIKey: userKey, CacheDir: tt.cache})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			f.Start()
			s, _ := startIntake(t, func(c *Config) {
				c.APIKey, c.PassThrough, c.SDKConfig, c.SDKConfigWait = userKey, true, f, 200*time.Millisecond
			})
			began := time.Now()
			resp := do(t, newClient(t), "GET", s.Endpoint()+"/api/v1/sdk_config/?tags=deployment:x", map[string]string{"X-API-Key": userKey}, nil)
			if resp.code != http.StatusOK || string(resp.body) != tt.want || resp.ct != "application/json" {
				t.Errorf("sdk_config = %d %s %q, want 200 application/json %q", resp.code, resp.ct, resp.body, tt.want)
			}
			if d := time.Since(began); d > tt.maxWait {
				t.Errorf("sdk_config took %v", d)
			}
		})
	}
}

// rebase rewrites the cache file in dir as if it had been fetched from to
// (the cache is kept per API base).
func rebase(t *testing.T, dir, to string) {
	t.Helper()
	path := filepath.Join(dir, sdkconfig.CacheFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no cache from the earlier run: %v", err)
	}
	var c map[string]json.RawMessage
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	c["api_base"], _ = json.Marshal(to)
	b, _ = json.Marshal(c)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
