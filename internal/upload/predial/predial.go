// Package predial opens a destination's first connection ahead of its
// first request, through the dial path of the http.Transport that will use
// it: a Dialer is the Transport's DialContext and DialTLSContext; Start
// dials one connection in the background (TCP, and the TLS handshake for
// an https address), so that the run's exit does not pay for them, and
// the Transport's first dial of that address takes it instead of dialling
// again. No request is written on the connection, so the destination sees
// a connection (and a TLS handshake) and no request until the first real
// one.
//
// A Dialer owns the goroutine that Start runs; Close stops it, joins it and
// closes a connection that no dial took. docs/upload.md ("Streaming while
// the run goes on") says when the upload starts one.
package predial

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// HandshakeTimeout bounds a TLS handshake, as http.Transport's
// TLSHandshakeTimeout does for the handshakes it makes itself.
const HandshakeTimeout = 10 * time.Second

// MaxAge is how long a connection dialled ahead waits for its first use:
// an older one may have been closed by the server as idle, so it is closed
// and the dial is made again.
const MaxAge = 5 * time.Second

// DialFunc dials like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Dialer is an http.Transport's DialContext that can open one connection
// ahead. Its methods are safe for concurrent use. The zero value is not
// usable: use New.
type Dialer struct {
	dial DialFunc
	tls  *tls.Config // nil: DialTLSContext is not to be used
	now  func() time.Time
	// base is the parent of every dial ahead; Close cancels it.
	base       context.Context
	cancelBase context.CancelFunc

	mu     sync.Mutex
	early  *early // the connection dialled ahead, until a dial takes it
	closed bool
	wg     sync.WaitGroup
}

// early is one connection dialled ahead.
type early struct {
	network, addr string
	tls           bool // TLS handshake done: for DialTLSContext
	cancel        context.CancelFunc
	done          chan struct{} // closed once conn and err are set
	conn          net.Conn
	err           error
	at            time.Time // when conn was established
}

// New returns a Dialer that dials with dial (a net.Dialer's DialContext,
// whose Timeout also bounds the dial ahead). tlsConfig is the client TLS
// configuration of DialTLSContext, which a Transport uses for its https
// addresses when it is set (then its TLSClientConfig is not used for
// them): ServerName defaults to the address's host; NextProtos must offer
// only protocols that the Transport speaks ("h2" with Protocols(true)).
// nil means no TLS: DialTLSContext is not to be used, and Start makes no
// handshake. now is the clock for MaxAge; nil means time.Now.
func New(dial DialFunc, tlsConfig *tls.Config, now func() time.Time) *Dialer {
	if now == nil {
		now = time.Now
	}
	base, cancel := context.WithCancel(context.Background())
	return &Dialer{dial: dial, tls: tlsConfig, now: now, base: base, cancelBase: cancel}
}

// Protocols are the protocols of an http.Transport that dials through a
// Dialer, for a destination over TLS or not: HTTP/1.1, and HTTP/2 where
// TLS offers it (its handshake's ALPN). Over plain HTTP, which would never
// use HTTP/2, the Transport then skips setting HTTP/2 up on its first
// request (0.1-0.27 ms the first time in a process, bench/h2setup).
func Protocols(overTLS bool) *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetHTTP2(overTLS)
	return p
}

// Addr is the address that an http.Transport dials for u (a request URL,
// or the proxy's when one applies): its host and port, the port defaulting
// to the scheme's.
func Addr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443", "socks5": "1080", "socks5h": "1080"}[u.Scheme]
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// Start begins dialling network, addr in the background, with a TLS
// handshake when withTLS is set and the Dialer has a TLS configuration
// (for DialTLSContext to take; else for DialContext), and returns at once.
// It does nothing when a connection dialled ahead is already waiting or
// being dialled, or after Close. A failure is not reported: the dial that
// would have taken the connection dials again and gets its own error.
func (d *Dialer) Start(network, addr string, withTLS bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.early != nil {
		return
	}
	ctx, cancel := context.WithCancel(d.base)
	e := &early{network: network, addr: addr, tls: withTLS && d.tls != nil, cancel: cancel, done: make(chan struct{})}
	d.early = e
	d.wg.Add(1)
	go func() { // joined by Close
		defer d.wg.Done()
		defer cancel()
		if e.tls {
			e.conn, e.err = d.dialTLS(ctx, network, addr)
		} else {
			e.conn, e.err = d.dial(ctx, network, addr)
		}
		e.at = d.now()
		close(e.done)
	}()
}

// StartFor starts dialling ahead the address that an http.Transport whose
// Proxy is proxy (nil: none) dials for a request to target: the proxy's
// when one applies, else target's host and port. It does nothing when
// target or the proxy setting does not resolve.
func (d *Dialer) StartFor(target string, proxy func(*http.Request) (*url.URL, error)) {
	req, err := http.NewRequest(http.MethodPost, target, nil)
	if err != nil {
		return
	}
	u := req.URL
	if proxy != nil {
		p, err := proxy(req)
		if err != nil {
			return
		}
		if p != nil {
			u = p
		}
	}
	d.Start("tcp", Addr(u), u.Scheme == "https")
}

// DialContext dials network, addr. The first dial of the address that
// Start dialled (without TLS) takes that connection: it waits for that
// dial to end (within ctx) rather than start a second one, and dials again
// only when it failed or its connection is older than MaxAge.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if c, ok, err := d.take(ctx, network, addr, false); ok {
		return c, err
	}
	return d.dial(ctx, network, addr)
}

// DialTLSContext dials network, addr and makes a TLS handshake (within
// ctx and HandshakeTimeout) with the Dialer's TLS configuration. The first
// dial of the address that Start dialled with TLS takes that connection,
// as DialContext does.
func (d *Dialer) DialTLSContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if c, ok, err := d.take(ctx, network, addr, true); ok {
		return c, err
	}
	return d.dialTLS(ctx, network, addr)
}

// dialTLS dials and makes the TLS handshake.
func (d *Dialer) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	if d.tls == nil {
		return nil, errors.New("predial: no TLS configuration")
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	raw, err := d.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg := d.tls.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	tc := tls.Client(raw, cfg)
	hctx, cancel := context.WithTimeout(ctx, HandshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	return tc, nil
}

// take hands over the connection dialled ahead for network, addr (with
// TLS or not), waiting for its dial within ctx. ok is false when there is
// none, or it failed or is too old: the caller dials.
func (d *Dialer) take(ctx context.Context, network, addr string, withTLS bool) (c net.Conn, ok bool, err error) {
	d.mu.Lock()
	e := d.early
	if e != nil && e.network == network && e.addr == addr && e.tls == withTLS {
		d.early = nil
	} else {
		e = nil
	}
	d.mu.Unlock()
	if e == nil {
		return nil, false, nil
	}
	select {
	case <-e.done:
	case <-ctx.Done():
		e.cancel()
		<-e.done
		closeConn(e.conn)
		return nil, true, ctx.Err()
	}
	if e.err == nil && d.now().Sub(e.at) < MaxAge {
		return e.conn, true, nil
	}
	closeConn(e.conn)
	return nil, false, nil
}

// Close stops a dial ahead in progress (also one that a dial is waiting
// for, which then dials again), waits for it, and closes a
// connection that no dial took; Start does nothing afterwards. Connections
// already handed to a Transport are its own. Close is safe to call more
// than once.
func (d *Dialer) Close() {
	d.mu.Lock()
	d.closed = true
	d.cancelBase()
	e := d.early
	d.early = nil
	d.mu.Unlock()
	if e != nil {
		e.cancel()
		<-e.done
		closeConn(e.conn)
	}
	d.wg.Wait()
}

func closeConn(c net.Conn) {
	if c != nil {
		_ = c.Close()
	}
}
