package ipc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bindServer binds with test defaults and closes at cleanup, without Serve.
func bindServer(t *testing.T) (*Server, *collector) {
	t.Helper()
	col := &collector{}
	srv, err := Bind(context.Background(), Config{
		TraceID: testTrace, SpanID: testSpan, Consumer: col,
		Now: func() time.Time { return testNow }, Dir: t.TempDir(),
	})
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv, col
}

// TestBindBeforeServe covers the run's order: the socket exists at Bind,
// a client may connect and write before Serve, and nothing it wrote is lost
// whether Serve comes later or never.
func TestBindBeforeServe(t *testing.T) {
	const line = `{"type":"metric","name":"m","value":1}` + "\n"
	for _, tt := range []struct {
		name  string
		serve bool
	}{{"served later", true}, {"never served", false}} {
		t.Run(tt.name, func(t *testing.T) {
			srv, col := bindServer(t)
			send(t, srv, strings.Repeat(line, 100))
			if tt.serve {
				srv.Serve()
				srv.Serve() // a second call does nothing
				waitFor(t, "records", func() bool { return col.len() == 100 })
			}
			settle(t, srv)
			if col.len() != 100 {
				t.Errorf("got %d records, want 100; stats %+v", col.len(), srv.Stats())
			}
			if _, err := os.Stat(filepath.Dir(srv.Addr())); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("socket directory after Shutdown: stat err %v, want not exist", err)
			}
		})
	}
}

// TestBindClose checks that a Server closed without Serve releases the
// socket and its directory, and that Serve after Close does nothing.
func TestBindClose(t *testing.T) {
	srv, _ := bindServer(t)
	if _, err := os.Stat(srv.Addr()); err != nil {
		t.Fatalf("socket after Bind: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	srv.Serve()
	if _, err := os.Stat(filepath.Dir(srv.Addr())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket directory after Close: stat err %v, want not exist", err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown after Close = %v, want the first result (nil)", err)
	}
}

// TestDefaultSocketParent checks where the private directory goes when
// Config.Dir is empty.
func TestDefaultSocketParent(t *testing.T) {
	private := t.TempDir()
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	open := t.TempDir()
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	fallback := memoryTempDir()
	if fallback == "" {
		fallback = os.TempDir()
	}
	for _, tt := range []struct {
		name, xdg, want string
	}{
		{"private runtime dir", private, private},
		{"runtime dir open to others", open, fallback},
		{"relative runtime dir", "run", fallback},
		{"missing runtime dir", filepath.Join(private, "missing"), fallback},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_RUNTIME_DIR", tt.xdg)
			if len(tt.want) > 60 {
				t.Skipf("temporary directory %s too long for a socket path", tt.want)
			}
			if got := defaultSocketParent(); got != tt.want {
				t.Errorf("defaultSocketParent() with XDG_RUNTIME_DIR=%q = %q, want %q", tt.xdg, got, tt.want)
			}
			srv, err := listen(context.Background(), Config{Consumer: &collector{}})
			if err != nil {
				t.Fatalf("Listen: %v", err)
			}
			defer srv.Close()
			if got := filepath.Dir(filepath.Dir(srv.Addr())); got != filepath.Clean(tt.want) {
				t.Errorf("socket %s not under %s", srv.Addr(), tt.want)
			}
		})
	}
}
