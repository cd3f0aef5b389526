//go:build linux

package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/signalspb"
)

// envSDKPostBody names the file of the UploadRequest that
// TestHelperSDKPost sends; set only when the test binary runs as that
// helper, inside a run.
const envSDKPostBody = "GS_TEST_SDK_POST_BODY"

// TestNestedRunForwardsSDKUploadWhole runs the official SDK's upload
// inside a nested run (`graphsignal run -- graphsignal run -- SDK`) of an
// outer run in cloud mode: the Graphsignal API stand-in must receive the
// bytes the local model does not decode (an unknown field of the request
// and one of its span), with the nested run's tags merged, not the outer
// run's (docs/protocol.md, "sdk_upload").
func TestNestedRunForwardsSDKUploadWhole(t *testing.T) {
	const key = "gs-test-key-nested"
	var (
		mu     sync.Mutex
		bodies [][]byte
	)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/signals/" || r.Header.Get("X-API-Key") != key {
			http.NotFound(w, r)
			return
		}
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(zr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		bodies = append(bodies, body)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write((&signalspb.UploadResponse{}).Marshal())
	}))
	defer api.Close()

	topMarker := []byte("top-level-unknown-field-5e1f")
	spanMarker := []byte("span-unknown-field-8c2d")
	dir := t.TempDir()
	bodyFile := filepath.Join(dir, "upload.pb")
	if err := os.WriteFile(bodyFile, sdkRequest(topMarker, spanMarker), 0o600); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("graphsignal", "run", "--flush-timeout", "5s", "--",
		"graphsignal", "run", "--tag", "run_id=inner-run-7", "--",
		self, "-test.run=^TestHelperSDKPost$", "-test.count=1")
	home := filepath.Join(dir, "home")
	cmd.Env = append(cleanEnviron(),
		"HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_DATA_HOME="+filepath.Join(home, "data"),
		"GRAPHSIGNAL_API_KEY="+key, "GRAPHSIGNAL_API_BASE="+api.URL, envSDKPostBody+"="+bodyFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("graphsignal run -- graphsignal run -- SDK: %v\n%s", err, out)
	}

	mu.Lock()
	defer mu.Unlock()
	var found *signalspb.Span
	for _, b := range bodies {
		if !bytes.Contains(b, topMarker) {
			continue
		}
		if !bytes.Contains(b, spanMarker) {
			t.Errorf("a request holds the upload's unknown top-level field but not its span's")
		}
		var req signalspb.UploadRequest
		if err := req.Unmarshal(b); err != nil {
			t.Fatalf("request to the API does not decode: %v", err)
		}
		for _, sp := range req.Spans {
			if sp.Name == "nested-sdk-span" {
				found = sp
			}
		}
	}
	if found == nil {
		t.Fatalf("no request of the %d the API got holds the SDK's upload whole (its unknown fields); output:\n%s", len(bodies), out)
	}
	runID := ""
	for _, tg := range found.Tags {
		if tg.Key == "run_id" {
			runID = tg.Value
		}
	}
	if runID != "inner-run-7" {
		t.Errorf("forwarded span's run_id = %q, want the nested run's %q", runID, "inner-run-7")
	}
}

// TestHelperSDKPost is not a test: run with envSDKPostBody set, inside a
// run, it posts that file as the official SDK does (gzip protobuf, the
// run's key) to the run's intake and exits 1 unless it is accepted.
func TestHelperSDKPost(t *testing.T) {
	path := os.Getenv(envSDKPostBody)
	if path == "" || os.Getenv("GRAPHSIGNAL_SOCKET") == "" {
		return
	}
	body, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(body)
	_ = zw.Close()
	req, err := http.NewRequest(http.MethodPost, os.Getenv("GRAPHSIGNAL_API_BASE")+"/api/v1/signals/", &gz)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("X-API-Key", os.Getenv("GRAPHSIGNAL_API_KEY"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("intake answered %s: %s", resp.Status, msg)
	}
}

// sdkRequest is an UploadRequest as a newer SDK would send it: one span
// holding an unknown field (99) with spanMarker, and an unknown top-level
// field (98) with topMarker.
func sdkRequest(topMarker, spanMarker []byte) []byte {
	now := time.Now().UnixNano()
	sp := (&signalspb.Span{
		SpanId: "a1b2c3d4e5f6", TraceId: "0123456789ab", Name: "nested-sdk-span",
		StartTs: now - int64(time.Millisecond), EndTs: now,
		Tags: []*signalspb.Tag{{Key: "model", Value: "m-1"}},
	}).Marshal()
	sp = appendBytesField(sp, 99, spanMarker)
	req := (&signalspb.UploadRequest{UploadTs: now}).Marshal()
	req = appendBytesField(req, 1, sp)
	return appendBytesField(req, 98, topMarker)
}

// appendBytesField appends a length-delimited protobuf field.
func appendBytesField(b []byte, field int, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(field)<<3|2)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// cleanEnviron is this process's environment without the variables that
// would tie a run to an enclosing one or to the user's settings.
func cleanEnviron() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := bytes.Cut([]byte(kv), []byte("="))
		switch string(k) {
		case "GRAPHSIGNAL_SOCKET", "GRAPHSIGNAL_TRACE_ID", "GRAPHSIGNAL_PARENT_SPAN_ID", "GRAPHSIGNAL_TAGS",
			"GRAPHSIGNAL_API_KEY", "GRAPHSIGNAL_API_BASE", "GRAPHSIGNAL_DATA_DIR", "TRACEPARENT",
			"HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR", "OTEL_EXPORTER_OTLP_ENDPOINT":
			continue
		}
		out = append(out, kv)
	}
	return out
}
