// Package httpintake is graphsignal's loopback HTTP intake: the endpoint that
// standard SDKs in the child report to without any network configuration.
//
// One Server listens on 127.0.0.1, on a port chosen by the kernel, and serves
// every route under a random, unguessable path prefix (the capability): a
// request that does not start with "/<prefix>/" gets 404 and nothing else.
// Under the prefix it answers
//
//	POST /v1/traces, /v1/metrics, /v1/logs   OTLP/HTTP, protobuf or JSON, gzip or not
//	POST /api/v1/signals/                    Graphsignal SDK upload (gzip protobuf UploadRequest)
//	GET  /api/v1/sdk_config/                 Graphsignal SDK options (traces_per_sec; the
//	                                         Graphsignal API's in cloud mode)
//
// OTLP/gRPC calls (content type application/grpc, over cleartext HTTP/2 on
// the same port) are routed by method instead, outside the prefix, and
// served only to processes of the user graphsignal runs as (grpc.go).
//
// The Graphsignal routes also require the header X-API-Key to equal
// Config.APIKey (401 otherwise). Everything received is converted to
// telemetry values, tagged with the run's tags and trace, and handed to
// Config.Consumer. docs/intake.md describes the routes, limits and mapping
// rules in full.
//
// Goroutines: Serve launches one goroutine that runs the
// HTTP server; each request is served on a goroutine of net/http. Bind alone
// starts none: it only creates the listening socket, so that a run can put
// the endpoint in the child's environment at the least cost and serve once
// the child is started (a client connecting meanwhile waits in the
// backlog). Close stops accepting, waits for in-flight requests (bounded by
// its context) and joins the server goroutine. After Close, Consumer is
// never called again.
package httpintake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Defaults for the zero values of Config's limits.
const (
	DefaultMaxBodyBytes      = 16 << 20 // 16 MiB, compressed and decompressed alike
	DefaultReadTimeout       = 30 * time.Second
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultTracesPerSec      = 1000
	DefaultSDKConfigWait     = 500 * time.Millisecond
	maxHeaderBytes           = 64 << 10
	idleTimeout              = 60 * time.Second
	writeTimeout             = 30 * time.Second
)

// ErrConfig is wrapped by Bind's error when the Config is unusable.
var ErrConfig = errors.New("invalid intake config")

// Consumer receives what the intake decoded. Consume is called from request
// goroutines, possibly concurrently, and must not block: a consumer that
// cannot keep up drops and counts, as docs/protocol.md and docs/intake.md require. The consumer owns the
// batch once called.
type Consumer interface {
	Consume(b telemetry.Batch)
}

// ConsumerFunc adapts a function to Consumer.
type ConsumerFunc func(b telemetry.Batch)

// Consume calls f(b).
func (f ConsumerFunc) Consume(b telemetry.Batch) { f(b) }

// Config configures a Server. TraceID, RunSpanID and Consumer are required.
type Config struct {
	// TraceID is the run's trace; RunSpanID its root span. Spans in this trace
	// that have no parent become children of RunSpanID.
	TraceID   telemetry.TraceID
	RunSpanID telemetry.SpanID
	// Tags are the run's merged tags, applied on top of whatever the SDK sent
	// (see Server.SetTags to change them later).
	Tags telemetry.Tags
	// APIKey is the key the child's Graphsignal SDK sends as X-API-Key: the
	// per-run local token, or the user's API key when the child inherits it
	// from graphsignal's environment. Empty refuses every Graphsignal SDK request
	// with 401.
	APIKey string
	// RecordPayloads keeps content-bearing attributes and events (prompts,
	// completions); when false they are removed before Consume.
	RecordPayloads bool
	// TracesPerSec is the traces_per_sec option given to the Graphsignal SDK
	// (0 means DefaultTracesPerSec).
	TracesPerSec float64
	// PassThrough is set in cloud mode (the user has an API key): each
	// Graphsignal SDK upload is also handed on whole, as a
	// telemetry.SDKUpload with the run's tags merged into it
	// (signalspb.MergeTags) and every other byte as received, and the
	// records decoded from it carry InSDKUpload (docs/intake.md).
	PassThrough bool
	// SDKConfig, when set (cloud mode), gives the sdk_config answer; the
	// local default (TracesPerSec) is used when it has none.
	SDKConfig SDKConfigSource
	// SDKConfigWait bounds how long an sdk_config request waits for
	// SDKConfig (0 means DefaultSDKConfigWait).
	SDKConfigWait time.Duration
	// Consumer receives every decoded batch.
	Consumer Consumer
	// MaxBodyBytes bounds a request body both as sent and after gzip
	// decompression (0 means DefaultMaxBodyBytes). Larger bodies get 413.
	MaxBodyBytes int64
	// ReadTimeout bounds reading one whole request (0 means
	// DefaultReadTimeout); headers alone must arrive within
	// DefaultReadHeaderTimeout.
	ReadTimeout time.Duration
	// InFlightBytes bounds the memory held by requests being read and
	// decoded (0 means DefaultInFlightBytes); a request that would pass it
	// is refused as busy (429 with Retry-After, gRPC UNAVAILABLE) and
	// counted in Stats.Throttled.
	InFlightBytes int64
	// MaxSeries bounds the cumulative-counter state kept to turn delta sums
	// into cumulative ones (0 means 10,000 series); points of further series
	// are dropped and counted.
	MaxSeries int
	// Now is the clock for receipt times (nil means time.Now).
	Now func() time.Time
}

// Server is an intake. Its methods are safe for concurrent use.
type Server struct {
	cfg        Config
	prefix     string // "/<32 hex>"
	endpoint   string
	done       chan struct{} // closed when the serve goroutine returns
	serveErr   error
	stats      counters
	inflight   inflight // request bytes being read and decoded
	cum        *cumulator
	runTagsPtr atomic.Pointer[telemetry.Tags] // never mutated once stored

	closeMu sync.Mutex   // serialises Serve and Close
	fd      int          // the bound socket until Serve, then -1
	srv     *http.Server // set by Serve
	closed  bool

	connMu   sync.Mutex // guards newConns
	newConns map[net.Conn]struct{}

	grpc    http.Handler // OTLP/gRPC calls (grpc.go)
	peerUID peerUIDFunc  // who is calling over gRPC
	uid     uint32       // the only caller uid allowed over gRPC

	gateMu   sync.Mutex // guards gateShut and handlers.Add
	gateShut bool
	handlers sync.WaitGroup // requests inside ServeHTTP
}

// Bind checks cfg and creates the listening socket on 127.0.0.1 port 0,
// and starts nothing: Endpoint is valid at once, requests are served from
// Serve on. The Server must be ended with Close, served or not. ctx bounds
// only the start. It returns an error wrapping ErrConfig for an unusable
// Config.
func Bind(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.TraceID.IsZero() || cfg.RunSpanID.IsZero() {
		return nil, fmt.Errorf("%w: trace id and run span id are required", ErrConfig)
	}
	if cfg.Consumer == nil {
		return nil, fmt.Errorf("%w: consumer is required", ErrConfig)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.TracesPerSec <= 0 {
		cfg.TracesPerSec = DefaultTracesPerSec
	}
	if cfg.SDKConfigWait <= 0 {
		cfg.SDKConfigWait = DefaultSDKConfigWait
	}
	if cfg.InFlightBytes <= 0 {
		cfg.InFlightBytes = DefaultInFlightBytes
	}
	if cfg.MaxSeries <= 0 {
		cfg.MaxSeries = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Tags = cfg.Tags.Clone()

	var secret [16]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return nil, fmt.Errorf("generate intake prefix: %w", err)
	}
	fd, addr, err := listenLoopback()
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	s := &Server{
		cfg:    cfg,
		prefix: "/" + hex.EncodeToString(secret[:]),
		fd:     fd,
		done:   make(chan struct{}),
		cum:    newCumulator(cfg.MaxSeries),

		newConns: make(map[net.Conn]struct{}),
	}
	s.inflight.max = cfg.InFlightBytes
	s.runTagsPtr.Store(&cfg.Tags)
	s.initGRPC()
	s.endpoint = "http://" + addr + s.prefix
	return s, nil
}

// Serve starts the server goroutine and returns at once; connections
// already in the backlog are served first. It does nothing when called
// again or after Close.
func (s *Server) Serve() {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed || s.srv != nil {
		return
	}
	// HTTP/1.1 for OTLP/HTTP and the Graphsignal SDK, cleartext HTTP/2
	// (prior knowledge, as gRPC clients speak it) for OTLP/gRPC.
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		Protocols:         &protocols,
		ConnContext:       connContext,
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnState:         s.trackConn,
		// net/http logs client misbehaviour to stderr by default; the
		// child's terminal is no place for it.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	fd := s.fd
	s.fd = -1
	go func() {
		defer close(s.done)
		ln, err := fileListener(fd)
		if err == nil {
			err = s.srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.serveErr = err
		}
	}()
}

// fileListener hands the bound socket fd to the runtime's poller; fd is
// closed in every case (the listener holds a duplicate).
func fileListener(fd int) (net.Listener, error) {
	f := os.NewFile(uintptr(fd), "intake")
	defer f.Close()
	return net.FileListener(f)
}

// Endpoint returns the base URL including the capability prefix, without a
// trailing slash: the value for OTEL_EXPORTER_OTLP_ENDPOINT and
// GRAPHSIGNAL_API_BASE. It is a secret: whoever knows it can report.
func (s *Server) Endpoint() string { return s.endpoint }

// Close stops the listener, closes connections that never sent a request,
// waits for in-flight requests until ctx is done (then cuts their
// connections and returns an error wrapping ctx.Err()) and joins every
// goroutine; no Consume call happens after it returns. On a Server never
// served it only closes the socket (a client waiting in the backlog is
// refused). It is safe to call more than once; later calls return nil.
func (s *Server) Close(ctx context.Context) error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.srv == nil {
		// Never served: nothing ever ran but the socket.
		if err := syscall.Close(s.fd); err != nil {
			return fmt.Errorf("shut down intake: %w", err)
		}
		return nil
	}
	s.srv.SetKeepAlivesEnabled(false)
	s.closeNewConns()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		// Deadline passed: cut the remaining connections.
		_ = s.srv.Close()
		err = fmt.Errorf("shut down intake: %w", err)
	}
	<-s.done
	s.gateMu.Lock()
	s.gateShut = true
	s.gateMu.Unlock()
	s.handlers.Wait()
	if s.serveErr != nil {
		return errors.Join(err, fmt.Errorf("serve intake: %w", s.serveErr))
	}
	return err
}

// SetTags replaces the run's tags applied to everything received from now on
// (for example after a context tag changed). The intake keeps its own copy.
func (s *Server) SetTags(tags telemetry.Tags) {
	c := tags.Clone()
	s.runTagsPtr.Store(&c)
}

// tags returns the current run tags; callers must not mutate them.
func (s *Server) tags() telemetry.Tags { return *s.runTagsPtr.Load() }

func (s *Server) tagCount() int { return len(s.tags()) }

// route names, used in Stats and as the "route" tag of the intake metrics.
const (
	routeTraces    = "traces"
	routeMetrics   = "metrics"
	routeLogs      = "logs"
	routeSignals   = "signals"
	routeSDKConfig = "sdk_config"
	routeNotFound  = "not_found"

	routeGRPCTraces  = "grpc_traces"
	routeGRPCMetrics = "grpc_metrics"
	routeGRPCLogs    = "grpc_logs"
)

// serveHTTP routes a request. Anything outside the capability prefix, or an
// unknown path under it, gets a bare 404.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		http.Error(w, "intake closed", http.StatusServiceUnavailable)
		return
	}
	defer s.handlers.Done()
	h := &hold{f: &s.inflight}
	defer h.release()
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = heldBody{heldReader{r.Body, h}, r.Body}
	}
	r = r.WithContext(context.WithValue(r.Context(), holdKey{}, h))
	if isGRPC(r) {
		r.Body = grpcBody{r.Body, s}
		s.serveGRPC(w, r)
		return
	}
	rest, ok := s.stripPrefix(r.URL.Path)
	if !ok {
		s.stats.request(routeNotFound)
		http.NotFound(w, r)
		return
	}
	switch rest {
	case "v1/traces":
		s.stats.request(routeTraces)
		s.handleOTLP(w, r, otlpTraces)
	case "v1/metrics":
		s.stats.request(routeMetrics)
		s.handleOTLP(w, r, otlpMetrics)
	case "v1/logs":
		s.stats.request(routeLogs)
		s.handleOTLP(w, r, otlpLogs)
	case "api/v1/signals/", "api/v1/signals":
		s.stats.request(routeSignals)
		s.handleSignals(w, r)
	case "api/v1/sdk_config/", "api/v1/sdk_config":
		s.stats.request(routeSDKConfig)
		s.handleSDKConfig(w, r)
	default:
		s.stats.request(routeNotFound)
		http.NotFound(w, r)
	}
}

// trackConn remembers connections that have not started a request yet.
func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if st == http.StateNew {
		s.newConns[c] = struct{}{}
	} else {
		delete(s.newConns, c)
	}
}

// closeNewConns closes connections that never sent a request, which
// http.Server.Shutdown would otherwise wait on for seconds.
func (s *Server) closeNewConns() {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	for c := range s.newConns {
		_ = c.Close()
	}
}

// enter registers a request with the gate; false after Close.
func (s *Server) enter() bool {
	s.gateMu.Lock()
	defer s.gateMu.Unlock()
	if s.gateShut {
		return false
	}
	s.handlers.Add(1)
	return true
}

// stripPrefix returns the path below the capability prefix. Extra slashes
// after the prefix are tolerated (some SDKs join URLs naively).
func (s *Server) stripPrefix(path string) (string, bool) {
	if len(path) <= len(s.prefix) || path[len(s.prefix)] != '/' {
		return "", false
	}
	if !constantTimeEqual(path[:len(s.prefix)], s.prefix) {
		return "", false
	}
	return strings.TrimLeft(path[len(s.prefix):], "/"), true
}

// allowMethod answers 405 and returns false unless r uses method.
func allowMethod(w http.ResponseWriter, r *http.Request, method string) bool {
	if r.Method == method {
		return true
	}
	w.Header().Set("Allow", method)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// consume hands a non-empty batch to the consumer.
func (s *Server) consume(b telemetry.Batch) {
	if b.Len() > 0 {
		s.cfg.Consumer.Consume(b)
	}
}
