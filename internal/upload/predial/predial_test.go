package predial

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// listener accepts on 127.0.0.1:0 and hands over each accepted connection.
func listen(t *testing.T) (net.Listener, chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 8)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		close(conns)
		for c := range conns {
			c.Close()
		}
	})
	return ln, conns
}

func netDial(ctx context.Context, network, addr string) (net.Conn, error) {
	return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
}

// accepted waits for the server side of the next connection.
func accepted(t *testing.T, conns chan net.Conn) net.Conn {
	t.Helper()
	select {
	case c := <-conns:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no connection accepted")
		return nil
	}
}

// closedByPeer reports whether c's peer closed it (a read ends with EOF).
func closedByPeer(t *testing.T, c net.Conn) bool {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.Read(make([]byte, 1))
	return errors.Is(err, io.EOF)
}

func TestFirstDialTakesTheEarlyConnection(t *testing.T) {
	ln, conns := listen(t)
	addr := ln.Addr().String()
	d := New(netDial, nil, nil)
	defer d.Close()
	d.Start("tcp", addr, false)
	d.Start("tcp", addr, false) // one at a time: no second connection
	srv := accepted(t, conns)
	c, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatalf("DialContext: %v", err)
	}
	defer c.Close()
	if c.LocalAddr().String() != srv.RemoteAddr().String() {
		t.Errorf("DialContext gave %v, want the connection dialled ahead (%v)", c.LocalAddr(), srv.RemoteAddr())
	}
	// The next dial is a new connection.
	c2, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatalf("second DialContext: %v", err)
	}
	defer c2.Close()
	srv2 := accepted(t, conns)
	if c2.LocalAddr().String() != srv2.RemoteAddr().String() || c2.LocalAddr().String() == c.LocalAddr().String() {
		t.Errorf("second DialContext gave %v, want a new connection (%v)", c2.LocalAddr(), srv2.RemoteAddr())
	}
}

func TestCloseClosesAnUntakenConnection(t *testing.T) {
	ln, conns := listen(t)
	other, otherConns := listen(t)
	d := New(netDial, nil, nil)
	d.Start("tcp", ln.Addr().String(), false)
	srv := accepted(t, conns)
	// A dial of another address does not take it.
	c, err := d.DialContext(context.Background(), "tcp", other.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	accepted(t, otherConns).Close()
	d.Close()
	d.Close()
	if !closedByPeer(t, srv) {
		t.Error("the connection dialled ahead is still open after Close")
	}
	d.Start("tcp", ln.Addr().String(), false) // does nothing after Close
	select {
	case c := <-conns:
		c.Close()
		t.Error("Start after Close dialled")
	case <-time.After(50 * time.Millisecond):
	}
}

func TestStaleConnectionIsReplaced(t *testing.T) {
	ln, conns := listen(t)
	addr := ln.Addr().String()
	var now atomic.Int64
	d := New(netDial, nil, func() time.Time { return time.Unix(now.Load(), 0) })
	defer d.Close()
	d.Start("tcp", addr, false)
	stale := accepted(t, conns)
	// Wait until the dial ahead has ended, at clock 0.
	d.mu.Lock()
	e := d.early
	d.mu.Unlock()
	<-e.done
	now.Store(int64(MaxAge / time.Second))
	c, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fresh := accepted(t, conns)
	if c.LocalAddr().String() != fresh.RemoteAddr().String() {
		t.Errorf("DialContext gave %v, want a new connection (%v)", c.LocalAddr(), fresh.RemoteAddr())
	}
	if !closedByPeer(t, stale) {
		t.Error("the stale connection was not closed")
	}
}

func TestFailedEarlyDialDialsAgain(t *testing.T) {
	var calls atomic.Int32
	refuse := errors.New("refused")
	d := New(func(ctx context.Context, network, addr string) (net.Conn, error) {
		calls.Add(1)
		return nil, refuse
	}, nil, nil)
	defer d.Close()
	d.Start("tcp", "127.0.0.1:1", false)
	if _, err := d.DialContext(context.Background(), "tcp", "127.0.0.1:1"); !errors.Is(err, refuse) {
		t.Fatalf("DialContext = %v, want %v", err, refuse)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("dials = %d, want 2 (ahead, then again)", n)
	}
}

// hang dials nothing and waits for its context.
func hang(ctx context.Context, network, addr string) (net.Conn, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestWaitIsBoundedByTheDialContext(t *testing.T) {
	d := New(hang, nil, nil)
	defer d.Close()
	d.Start("tcp", "192.0.2.1:80", false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := d.DialContext(ctx, "tcp", "192.0.2.1:80"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("DialContext = %v, want the context's deadline", err)
	}
}

func TestCloseStopsADialInProgress(t *testing.T) {
	d := New(hang, nil, nil)
	d.Start("tcp", "192.0.2.1:80", false)
	d.Close() // returns: the dial ahead is cancelled and joined
}

func TestCloseStopsADialBeingWaitedFor(t *testing.T) {
	var calls atomic.Int32
	d := New(func(ctx context.Context, network, addr string) (net.Conn, error) {
		if calls.Add(1) == 1 {
			return hang(ctx, network, addr)
		}
		return nil, errors.New("second dial")
	}, nil, nil)
	d.Start("tcp", "192.0.2.1:80", false)
	errc := make(chan error, 1)
	go func() {
		_, err := d.DialContext(context.Background(), "tcp", "192.0.2.1:80")
		errc <- err
	}()
	for calls.Load() == 0 || !d.taken() {
		time.Sleep(time.Millisecond)
	}
	d.Close()
	if err := <-errc; err == nil || err.Error() != "second dial" {
		t.Errorf("DialContext = %v, want the error of its own dial", err)
	}
}

// taken reports whether a dial took the connection dialled ahead.
func (d *Dialer) taken() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.early == nil
}

func TestStartForDialsWhatTheTransportWould(t *testing.T) {
	proxy, _ := url.Parse("http://proxy.example:3128")
	tests := []struct {
		target string
		proxy  func(*http.Request) (*url.URL, error)
		want   string // "" means no dial
	}{
		{"http://127.0.0.1:4318/v1/traces", nil, "127.0.0.1:4318"},
		{"https://api.graphsignal.com/api/v1/signals/", nil, "api.graphsignal.com:443"},
		{"http://collector/v1/traces", nil, "collector:80"},
		{"http://[::1]:9/x", nil, "[::1]:9"},
		{"https://api.graphsignal.com/", http.ProxyURL(proxy), "proxy.example:3128"},
		{"https://api.graphsignal.com/", func(*http.Request) (*url.URL, error) { return nil, nil }, "api.graphsignal.com:443"},
		{"https://api.graphsignal.com/", func(*http.Request) (*url.URL, error) { return nil, errors.New("bad proxy") }, ""},
		{"://nope", nil, ""},
	}
	for _, tt := range tests {
		got := make(chan string, 1)
		d := New(func(ctx context.Context, network, addr string) (net.Conn, error) {
			got <- addr
			return nil, errors.New("not dialled")
		}, nil, nil)
		d.StartFor(tt.target, tt.proxy)
		d.Close()
		var addr string
		select {
		case addr = <-got:
		default:
		}
		if addr != tt.want {
			t.Errorf("StartFor(%q) dialled %q, want %q", tt.target, addr, tt.want)
		}
	}
}

// TestTLSAheadIsUsedByTheTransport checks, against an HTTP/2 TLS server,
// that a connection dialled ahead with its handshake is the one that an
// http.Transport using the Dialer sends its requests on, over HTTP/2; and
// that a certificate that does not verify fails the request with the
// error that callers classify.
func TestTLSAheadIsUsedByTheTransport(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	tests := []struct {
		name    string
		roots   *x509.CertPool
		wantErr bool
	}{
		{name: "verified", roots: roots},
		{name: "unknown authority", roots: x509.NewCertPool(), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conns.Store(0)
			d := New(netDial, &tls.Config{RootCAs: tt.roots, NextProtos: []string{"h2", "http/1.1"}}, nil)
			defer d.Close()
			tr := &http.Transport{DialContext: d.DialContext, DialTLSContext: d.DialTLSContext, Protocols: Protocols(true)}
			defer tr.CloseIdleConnections()
			d.StartFor(srv.URL, nil)
			d.mu.Lock()
			e := d.early
			d.mu.Unlock()
			<-e.done
			if !e.tls || (e.err != nil) != tt.wantErr {
				t.Fatalf("dial ahead: tls %v, err %v; want tls, error %v", e.tls, e.err, tt.wantErr)
			}
			for range 2 {
				resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
				if tt.wantErr {
					var cv *tls.CertificateVerificationError
					if !errors.As(err, &cv) {
						t.Fatalf("Get = %v, want a certificate verification error", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(body) != "HTTP/2.0" {
					t.Errorf("protocol %q, want HTTP/2.0", body)
				}
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("connections = %d, want 1 (the one dialled ahead)", n)
			}
		})
	}
}
