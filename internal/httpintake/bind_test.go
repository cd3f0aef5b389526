package httpintake

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func bindIntake(t *testing.T) *Server {
	t.Helper()
	s, err := Bind(context.Background(), Config{TraceID: testTrace, RunSpanID: testRunSpan, APIKey: testKey, Consumer: &collector{}})
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	return s
}

func closeIntake(t *testing.T, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestBindThenServe covers the run's order: the endpoint is valid at Bind,
// and a request made before Serve waits in the backlog and is answered
// once Serve runs.
func TestBindThenServe(t *testing.T) {
	s := bindIntake(t)
	defer closeIntake(t, s)
	req, err := http.NewRequest("GET", s.Endpoint()+"/api/v1/sdk_config/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-API-Key", testKey)
	type result struct {
		code int
		err  error
	}
	got := make(chan result, 1)
	client := newClient(t)
	go func() {
		resp, err := client.Do(req)
		if err != nil {
			got <- result{err: err}
			return
		}
		resp.Body.Close()
		got <- result{code: resp.StatusCode}
	}()
	s.Serve()
	s.Serve() // a second call does nothing
	if r := <-got; r.err != nil || r.code != 200 {
		t.Errorf("sdk_config made before Serve = %d, %v; want 200", r.code, r.err)
	}
}

// TestBindClose checks that a Server closed without Serve stops listening,
// and that Serve after Close does nothing.
func TestBindClose(t *testing.T) {
	s := bindIntake(t)
	u, err := url.Parse(s.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatalf("dial after Bind: %v", err)
	}
	c.Close()
	closeIntake(t, s)
	s.Serve()
	if c, err := net.Dial("tcp", u.Host); err == nil {
		c.Close()
		t.Errorf("still listening on %s after Close", u.Host)
	}
	closeIntake(t, s) // a second Close returns nil
}
