package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestPost: the document reaches a real loopback server as JSON with its
// text; refusals, redirects and a silent server are errors that never
// show the webhook's secret path or query; a silent server is given up at
// the context's deadline.
func TestPost(t *testing.T) {
	var got Message
	var ctype string
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctype = r.Header.Get("Content-Type")
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got)
		_, _ = io.WriteString(w, "ok")
	}))
	defer ok.Close()
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no_service", http.StatusNotFound)
	}))
	defer refuse.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, ok.URL+"/elsewhere", http.StatusFound)
	}))
	defer redirect.Close()
	block := make(chan struct{})
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer silent.Close()
	defer close(block)

	code := int64(3)
	m := Message{Text: "❌ `train.py` failed", SessionID: "s-1", Status: "error", ExitCode: &code}
	const secret = "/services/T000/B000/XXXXSECRET?token=SECRET2"
	if err := Post(context.Background(), http.DefaultClient, ok.URL+secret, m); err != nil {
		t.Fatalf("Post: %v", err)
	}
	if got.Text != m.Text || got.SessionID != "s-1" || got.ExitCode == nil || *got.ExitCode != 3 || ctype != "application/json" {
		t.Errorf("received %+v (%s)", got, ctype)
	}
	tests := []struct {
		name, url string
		want      string
		timeout   time.Duration
	}{
		{"refused", refuse.URL + secret, "404 Not Found: no_service", time.Second},
		{"redirect", redirect.URL + secret, "302 Found", time.Second},
		{"silent", silent.URL + secret, context.DeadlineExceeded.Error(), 200 * time.Millisecond},
		{"not http", "ftp://hooks.example.com" + secret, "want an http or https URL", time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			began := time.Now()
			err := Post(ctx, http.DefaultClient, tt.url, m)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Post = %v, want an error with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("the webhook's secret in the error: %v", err)
			}
			if d := time.Since(began); d > tt.timeout+time.Second {
				t.Errorf("Post took %v", d)
			}
			if tt.name == "silent" && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error does not wrap the deadline: %v", err)
			}
		})
	}
}
