package gsapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/upload"
)

func TestSendStatus(t *testing.T) {
	srv := newAPIServer(t)
	s := newSender(t, srv.URL, nil)
	dest := "Graphsignal API " + srv.URL
	long := strings.Repeat("x", 300)
	tests := []struct {
		status int
		header http.Header
		body   string
		kind   string // "permanent", "retryable", "too large", "" (ok)
		msg    string
		after  time.Duration
	}{
		{200, nil, "", "", "", 0},
		{202, nil, "", "", "", 0},
		{401, nil, "invalid key " + testKey, "permanent", "upload rejected by " + dest + ": invalid API key (401)", 0},
		{403, nil, "", "permanent", "upload rejected by " + dest + ": the API key is not allowed to send (403)", 0},
		{404, nil, "<html>not found</html>", "permanent", "upload rejected by " + dest + ": no such API endpoint (check --api-base) (404)", 0},
		{400, nil, "bad\x00 field\n\t'spans'   key=" + testKey + "\xff", "permanent",
			"upload rejected by " + dest + ": request refused: bad field 'spans' key=REDACTED (400)", 0},
		{400, nil, long, "permanent", "upload rejected by " + dest + ": request refused: " + long[:200] + "… (400)", 0},
		{400, nil, "", "permanent", "upload rejected by " + dest + ": request refused (400)", 0},
		{422, nil, "", "permanent", "upload rejected by " + dest + ": request refused (422)", 0},
		{413, nil, "too big", "too large", "upload to " + dest + ": request too large (413)", 0},
		{408, nil, "", "retryable", "upload to " + dest + " failed: request timeout (408)", 0},
		{429, http.Header{"Retry-After": {"7"}}, "", "retryable", "upload to " + dest + " failed: rate limited (429); it asks to wait 7s", 7 * time.Second},
		{503, http.Header{"Retry-After": {fixedNow.Add(30 * time.Second).Format(http.TimeFormat)}}, "", "retryable",
			"upload to " + dest + " failed: service unavailable (503); it asks to wait 30s", 30 * time.Second},
		{503, http.Header{"Retry-After": {fixedNow.Add(-time.Hour).Format(http.TimeFormat)}}, "", "retryable",
			"upload to " + dest + " failed: service unavailable (503)", 0},
		{500, http.Header{"Retry-After": {"soon"}}, "oops " + testKey, "retryable", "upload to " + dest + " failed: server error (500)", 0},
		{502, http.Header{"Retry-After": {"-3"}}, "", "retryable", "upload to " + dest + " failed: server error (502)", 0},
	}
	for _, tt := range tests {
		srv.answer(tt.status, tt.header, tt.body)
		_, err := s.Send(context.Background(), telemetry.Batch{Spans: []telemetry.Span{programSpan()}})
		if err != nil && strings.Contains(err.Error(), testKey) {
			t.Errorf("status %d: the error shows the key: %v", tt.status, err)
		}
		var perm *upload.PermanentError
		var retry *upload.RetryableError
		switch {
		case tt.kind == "":
			if err != nil {
				t.Errorf("status %d: Send = %v, want nil", tt.status, err)
			}
			continue
		case err == nil:
			t.Errorf("status %d: Send = nil, want an error", tt.status)
			continue
		case tt.kind == "permanent" && !errors.As(err, &perm),
			tt.kind == "retryable" && !errors.As(err, &retry),
			tt.kind == "too large" && !errors.Is(err, upload.ErrTooLarge):
			t.Errorf("status %d: Send = %T %v, want %s", tt.status, err, err, tt.kind)
		}
		if err.Error() != tt.msg {
			t.Errorf("status %d: error %q, want %q", tt.status, err, tt.msg)
		}
		// Only a 400 refuses the request rather than the sender.
		if perm != nil && perm.Request != (tt.status == http.StatusBadRequest) {
			t.Errorf("status %d: Request = %v, want %v", tt.status, perm.Request, tt.status == http.StatusBadRequest)
		}
		if retry != nil && retry.RetryAfter != tt.after {
			t.Errorf("status %d: RetryAfter %v, want %v", tt.status, retry.RetryAfter, tt.after)
		}
	}
}

// TestSendReusesConnection checks that every response body is read and
// closed: all requests, refused or not, share one connection.
func TestSendReusesConnection(t *testing.T) {
	srv := newAPIServer(t)
	s := newSender(t, srv.URL, nil)
	for _, st := range []int{200, 400, 401, 404, 413, 429, 500, 503, 200} {
		srv.answer(st, nil, strings.Repeat("body ", 2000))
		_, _ = s.Send(context.Background(), telemetry.Batch{Spans: []telemetry.Span{programSpan()}})
	}
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("%d connections for 9 requests, want 1", n)
	}
}

// silentListener accepts connections and never answers.
type silentListener struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	done  chan struct{}
}

func newSilentListener(t *testing.T) *silentListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &silentListener{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.mu.Lock()
			l.conns = append(l.conns, c)
			l.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-l.done
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, c := range l.conns {
			_ = c.Close()
		}
	})
	return l
}

func TestSendSilentServerBoundedByContext(t *testing.T) {
	l := newSilentListener(t)
	s := newSender(t, "http://"+l.ln.Addr().String(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Send(ctx, telemetry.Batch{Spans: []telemetry.Span{programSpan()}})
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send = %v, want a deadline error", err)
	}
	if took > 2*time.Second {
		t.Errorf("Send took %v with a 300ms context", took)
	}
	var perm *upload.PermanentError
	var retry *upload.RetryableError
	if errors.As(err, &perm) || errors.As(err, &retry) {
		t.Errorf("Send = %T, want a transport error (retried by the caller)", err)
	}
	if err != nil && strings.Contains(err.Error(), testKey) {
		t.Errorf("error shows the key: %v", err)
	}
}

func TestSendTransportError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	s := newSender(t, "http://"+addr+"/base", nil)
	_, err = s.Send(context.Background(), telemetry.Batch{})
	want := "upload to Graphsignal API http://" + addr + `/base: Post "http://` + addr + `/base/api/v1/signals/": dial tcp ` + addr + ": connect: connection refused"
	if err == nil || err.Error() != want {
		t.Errorf("Send = %v, want %s", err, want)
	}
	var perm *upload.PermanentError
	if errors.As(err, &perm) {
		t.Errorf("a refused connection is permanent: %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"120", 2 * time.Minute},
		{" 5 ", 5 * time.Second},
		{"999999999999", 24 * time.Hour},
		{fixedNow.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{fixedNow.Add(90 * time.Second).Format(time.RFC850), 90 * time.Second},
		{fixedNow.Add(-time.Second).Format(http.TimeFormat), 0},
		{fixedNow.Add(48 * time.Hour).Format(http.TimeFormat), 24 * time.Hour},
		{"Tomorrow", 0},
		{"1.5", 0},
	}
	for _, tt := range tests {
		if got := upload.ParseRetryAfter(tt.in, fixedNow); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestSendVerifiesTLS checks that the default client refuses a certificate
// it cannot verify, as a permanent error, and that a client trusting it
// gets through.
func TestSendVerifiesTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	s := newSender(t, srv.URL, nil)
	_, err := s.Send(context.Background(), telemetry.Batch{})
	var perm *upload.PermanentError
	if !errors.As(err, &perm) || !strings.HasPrefix(perm.Reason, "TLS certificate not trusted: x509:") {
		t.Errorf("Send to a self-signed server = %v, want a permanent TLS error", err)
	}
	trusting := newSender(t, srv.URL, func(c *Config) { c.Client = srv.Client() })
	if _, err := trusting.Send(context.Background(), telemetry.Batch{}); err != nil {
		t.Errorf("Send with a client trusting the server: %v", err)
	}
}
