// Package ui serves the local store as web pages on the loopback interface
// (`graphsignal ui`, docs/ui.md): a session list with filters, each
// session's page (report.ShowHTML's) and each trace's (report.TraceHTML's).
// It only reads: every page is a GET, and nothing it serves changes the
// store. Every page needs the access token (NewToken) that the printed
// address carries.
//
// NewHandler builds the pages' handler; Serve runs an http.Server for it
// until its context is done. The handler opens the store for each request
// through Config.Open, so that the pages show what runs recorded up to that
// moment, including running ones.
package ui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/graphsignal/graphsignal/internal/report"
	"github.com/graphsignal/graphsignal/internal/store"
)

// ErrNothingRecorded is what Config.Open's error wraps when the data
// directory holds no store yet: the list then says so instead of failing.
var ErrNothingRecorded = errors.New("nothing recorded yet")

// Config is what the pages read.
type Config struct {
	// Token is the access token that every request must carry, in the
	// address or then in its cookie (docs/ui.md, "Security"): NewToken's.
	// It is never written anywhere else.
	Token string
	// Open opens the store for one request, which closes it when done. Its
	// error wraps ErrNothingRecorded when nothing has been recorded yet.
	Open func(ctx context.Context) (*store.Store, error)
	// Deliveries, when not nil, says where a session's runs were sent
	// (report.Options.Deliveries).
	Deliveries func(*store.SessionDetail) report.Deliveries
	// Costs, when not nil, are a session's costs by model
	// (report.Options.Costs).
	Costs func(ctx context.Context, st *store.Store, session string) (*report.Costs, error)
	// Location is the time zone of the pages' times (default time.Local).
	Location *time.Location
	// Now is the clock of the list's "active within" filter (default
	// time.Now).
	Now func() time.Time
}

// The server's bounds. A page is rendered whole before it is sent, so
// WriteTimeout covers the store's queries too; pageTimeout cancels them.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 2 * time.Minute
	idleTimeout       = time.Minute
	pageTimeout       = 90 * time.Second
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 5 * time.Second
)

// Serve serves h on ln until ctx is done, then shuts the server down:
// it stops accepting, waits up to shutdownTimeout for the pages being
// sent, and closes ln. It returns nil after such a shutdown, or the error
// that stopped the server otherwise.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// securityHeaders are set on every response. The pages load nothing
// (no script, no image, inline CSS only), may not be framed, and only
// submit the list's filter form to themselves.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; " +
		"frame-ancestors 'none'; base-uri 'none'",
	"X-Content-Type-Options":       "nosniff",
	"X-Frame-Options":              "DENY",
	"Referrer-Policy":              "no-referrer",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	// The pages change as runs record: never serve one from a cache.
	"Cache-Control": "no-store",
}

// guard sets the security headers and answers, before h sees it, a
// request with another method than GET or HEAD (405), or with a Host
// other than 127.0.0.1 or localhost (403: a page of another site whose
// name was made to resolve to 127.0.0.1, DNS rebinding, must not read
// the store).
func guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range securityHeaders {
			w.Header().Set(k, v)
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "graphsignal ui only reads: GET and HEAD only", http.StatusMethodNotAllowed)
			return
		}
		if !loopbackHost(r.Host) {
			http.Error(w, "graphsignal ui answers only to http://127.0.0.1 and http://localhost", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a Host header names this machine's
// loopback interface, with or without a port.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return host == "127.0.0.1" || host == "localhost"
}
