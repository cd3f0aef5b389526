package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/signalspb"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// batches is an enqueuer that keeps what it is given.
type batches struct {
	mu  sync.Mutex
	all []telemetry.Batch
}

func (b *batches) Enqueue(x telemetry.Batch) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.all = append(b.all, x)
	return true
}

func (b *batches) uploads() []telemetry.SDKUpload {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []telemetry.SDKUpload
	for _, x := range b.all {
		out = append(out, x.SDKUploads...)
	}
	return out
}

// TestIntakesCloudMode: with an API key the HTTP intake forwards the SDK's
// uploads with the run's tags and answers sdk_config from the API; without
// one it does neither.
func TestIntakesCloudMode(t *testing.T) {
	const key = "gs-user-key-42"
	const answer = `{"options":[{"name":"traces_per_sec","value":"3"}]}`
	var hits atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("X-API-Key") != key {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, answer)
	}))
	defer api.Close()
	for _, cloud := range []bool{false, true} {
		t.Run(map[bool]string{true: "cloud", false: "local"}[cloud], func(t *testing.T) {
			cfg := &Config{APIBase: api.URL, DataDir: t.TempDir()}
			if cloud {
				cfg.APIKey = key
			}
			out := &batches{}
			id := runIdentity{traceID: telemetry.NewTraceID(), spanID: telemetry.NewSpanID()}
			tags := telemetry.Tags{"session_id": "s1", "run_id": "r1"}
			var stderr bytes.Buffer
			token := ""
			if !cloud {
				token = newLocalToken()
			}
			in := startIntakes(context.Background(), cfg, id, tags, token, out, &stderr)
			in.serve()
			shut := sync.OnceFunc(func() { in.shutdown(context.Background(), time.Now()) })
			defer shut()
			if in.http == nil {
				t.Fatalf("no HTTP intake: %s", stderr.String())
			}
			sdkKey := key
			if !cloud {
				sdkKey = in.token
			}
			client := &http.Client{Transport: &http.Transport{}}
			defer client.CloseIdleConnections()
			get := func() string {
				req, _ := http.NewRequest("GET", in.http.Endpoint()+"/api/v1/sdk_config/", nil)
				req.Header.Set("X-API-Key", sdkKey)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return string(b)
			}
			want := `{"options":[{"name":"traces_per_sec","value":"1000"}]}`
			if cloud {
				want = answer
			}
			// The first answer may be the default when the API is slower
			// than the intake's wait; the API's follows.
			deadline := time.Now().Add(10 * time.Second)
			for got := get(); got != want; got = get() {
				if time.Now().After(deadline) {
					t.Fatalf("sdk_config = %q, want %q", got, want)
				}
				time.Sleep(10 * time.Millisecond)
			}

			var body bytes.Buffer
			zw := gzip.NewWriter(&body)
			_, _ = zw.Write((&signalspb.UploadRequest{Spans: []*signalspb.Span{{Name: "op",
				Tags: []*signalspb.Tag{{Key: "session_id", Value: "sdk"}}}}}).Marshal())
			_ = zw.Close()
			req, _ := http.NewRequest("POST", in.http.Endpoint()+"/api/v1/signals/", &body)
			req.Header.Set("X-API-Key", sdkKey)
			req.Header.Set("Content-Encoding", "gzip")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			ups := out.uploads()
			shut()
			_, cacheErr := os.Stat(filepath.Join(cfg.DataDir, "sdk_config.json"))
			if !cloud {
				if len(ups) != 0 || hits.Load() != 0 || cacheErr == nil {
					t.Errorf("local mode: %d SDK uploads forwarded, %d API requests, cache %v; want none", len(ups), hits.Load(), cacheErr)
				}
				return
			}
			if cacheErr != nil {
				t.Errorf("cloud mode left no sdk_config cache: %v", cacheErr)
			}
			if len(ups) != 1 {
				t.Fatalf("%d SDK uploads, want 1", len(ups))
			}
			var fwd signalspb.UploadRequest
			if err := fwd.Unmarshal(ups[0].Body); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tg := range fwd.GetSpans()[0].GetTags() {
				got = append(got, tg.GetKey()+"="+tg.GetValue())
			}
			if strings.Join(got, ",") != "session_id=sdk,run_id=r1" {
				t.Errorf("forwarded span tags %v, want the SDK's session_id, then the run's run_id", got)
			}
		})
	}
}
