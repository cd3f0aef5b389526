package httpintake

import (
	"errors"
	"io"
	"time"

	"context"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"

	"github.com/graphsignal/graphsignal/internal/grpcunary"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// The OTLP/gRPC Export methods the intake serves.
const (
	grpcTracesMethod  = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
	grpcMetricsMethod = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
	grpcLogsMethod    = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
)

// grpcSignal returns the OTLP signal and the stats route of a gRPC method;
// ok is false for any other method.
func grpcSignal(method string) (sig otlpSignal, route string, ok bool) {
	switch method {
	case grpcTracesMethod:
		return otlpTraces, routeGRPCTraces, true
	case grpcMetricsMethod:
		return otlpMetrics, routeGRPCMetrics, true
	case grpcLogsMethod:
		return otlpLogs, routeGRPCLogs, true
	}
	return 0, "", false
}

// isGRPC reports whether r is a gRPC call (content type application/grpc or
// application/grpc+proto and the like): those are routed by method, outside
// the capability prefix, which gRPC clients cannot send.
func isGRPC(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && (mt == "application/grpc" || strings.HasPrefix(mt, "application/grpc+"))
}

// initGRPC sets up the OTLP/gRPC side of a new Server: the unary gRPC
// handler, with the body limit as its message limit, and the caller check
// against the user graphsignal runs as.
func (s *Server) initGRPC() {
	s.grpc = grpcunary.Handler(int(s.cfg.MaxBodyBytes), s.serveGRPCMethod)
	s.peerUID = peerUID
	s.uid = uint32(os.Getuid())
}

// peerUIDFunc returns the uid owning the TCP socket at remote that is
// connected to local (see peerUID in peeruid_linux.go).
type peerUIDFunc func(local, remote netip.AddrPort) (uint32, error)

// connPeer caches, per connection, whether its peer is allowed to call the
// gRPC methods: the lookup costs a read of /proc/net/tcp, done once.
type connPeer struct {
	local, remote netip.AddrPort
	once          sync.Once
	uid           uint32
	err           error
}

type connPeerKey struct{}

// connContext is http.Server.ConnContext: it gives every connection's
// requests the connection's peer cache.
func connContext(ctx context.Context, c net.Conn) context.Context {
	p := &connPeer{}
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		p.local = a.AddrPort()
	}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		p.remote = a.AddrPort()
	}
	return context.WithValue(ctx, connPeerKey{}, p)
}

// peerAllowed reports whether the process at the other end of r's
// connection runs as the same user as graphsignal; on error it explains
// why it cannot tell (no secret in it).
func (s *Server) peerAllowed(r *http.Request) (bool, error) {
	p, _ := r.Context().Value(connPeerKey{}).(*connPeer)
	if p == nil {
		return false, fmt.Errorf("no connection information")
	}
	p.once.Do(func() { p.uid, p.err = s.peerUID(p.local, p.remote) })
	if p.err != nil {
		return false, p.err
	}
	return p.uid == s.uid, nil
}

// serveGRPC serves an OTLP/gRPC call: routed by method, authorised by the
// caller's uid (docs/intake.md, "OTLP over gRPC"), decoded by the same code
// as OTLP/HTTP's protobuf.
func (s *Server) serveGRPC(w http.ResponseWriter, r *http.Request) {
	_, route, ok := grpcSignal(r.URL.Path)
	if !ok {
		route = routeNotFound
	}
	s.stats.request(route)
	allowed, err := s.peerAllowed(r)
	if !allowed {
		s.stats.unauthorized.Add(1)
		msg := "the caller does not run as the user graphsignal runs as"
		if err != nil {
			msg = "cannot identify the caller: " + err.Error()
		}
		grpcunary.WriteStatus(w, &grpcunary.StatusError{Code: grpcunary.PermissionDenied, Message: msg})
		return
	}
	if !ok {
		grpcunary.WriteStatus(w, &grpcunary.StatusError{Code: grpcunary.Unimplemented, Message: "unknown method"})
		return
	}
	s.grpc.ServeHTTP(&grpcStatusCounter{ResponseWriter: w, stats: &s.stats}, r)
}

// grpcBody is a gRPC request's held body: the in-flight bound's refusals
// become the gRPC statuses that say them (UNAVAILABLE with a retry delay,
// RESOURCE_EXHAUSTED for one message that alone passes the bound), counted
// as for OTLP/HTTP.
type grpcBody struct {
	io.ReadCloser
	s *Server
}

func (b grpcBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		if se := b.s.grpcRefusal(err); se != nil {
			return n, se
		}
	}
	return n, err
}

// grpcRefusal maps the in-flight bound's refusals to gRPC statuses; nil
// for any other error. It counts the throttled ones; grpcStatusCounter
// counts RESOURCE_EXHAUSTED answers as too large.
func (s *Server) grpcRefusal(err error) *grpcunary.StatusError {
	switch {
	case errors.Is(err, errDecodeTooLarge) || errors.Is(err, errTooLarge):
		return &grpcunary.StatusError{Code: grpcunary.ResourceExhausted, Message: err.Error()}
	case errors.Is(err, errBusy):
		s.stats.throttled.Add(1)
		return &grpcunary.StatusError{Code: grpcunary.Unavailable, Message: err.Error(), RetryAfter: time.Second}
	}
	return nil
}

// serveGRPCMethod is the grpcunary serve function: it decodes one Export
// request and hands its records to the consumer. The reply is the empty
// export response (full success).
func (s *Server) serveGRPCMethod(ctx context.Context, method string, req []byte) ([]byte, error) {
	sig, _, ok := grpcSignal(method)
	if !ok { // serveGRPC answered it already
		return nil, &grpcunary.StatusError{Code: grpcunary.Unimplemented, Message: "unknown method"}
	}
	// The frame was held as it was read (grpcBody); the message (after
	// decompression) and its decoding are held now.
	if err := holdOf(ctx, &s.inflight).take(int64(len(req)) + decodeHold(int64(len(req)), false)); err != nil {
		if se := s.grpcRefusal(err); se != nil {
			return nil, se
		}
		return nil, err
	}
	var b telemetry.Batch
	if err := s.decodeOTLP(sig, req, false, s.cfg.Now(), &b); err != nil {
		s.stats.badRequests.Add(1)
		return nil, &grpcunary.StatusError{Code: grpcunary.InvalidArgument, Message: "decode otlp request: " + err.Error()}
	}
	s.stats.batch(&b)
	s.consume(b)
	return nil, nil
}

// grpcStatusCounter counts the calls that grpcunary.Handler refuses, and
// those serveGRPCMethod refuses as too large, by the status they are
// answered with.
type grpcStatusCounter struct {
	http.ResponseWriter
	stats *counters
}

func (c *grpcStatusCounter) WriteHeader(code int) {
	switch c.Header().Get("Grpc-Status") {
	case "8": // ResourceExhausted: a message over the limit
		c.stats.tooLarge.Add(1)
	case "12": // Unimplemented: a message encoding other than gzip
		c.stats.unsupportedMedia.Add(1)
	case "13": // Internal: a malformed message frame
		c.stats.badRequests.Add(1)
	}
	c.ResponseWriter.WriteHeader(code)
}

// GRPCEndpoint returns the URL for OTLP/gRPC exporters,
// "http://127.0.0.1:PORT": the same port as Endpoint, without the prefix,
// which gRPC has no place for (callers are checked by uid instead).
func (s *Server) GRPCEndpoint() string { return strings.TrimSuffix(s.endpoint, s.prefix) }
