package otlpexport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/graphsignal/graphsignal/internal/grpcunary"
	"github.com/graphsignal/graphsignal/internal/redact"
	"github.com/graphsignal/graphsignal/internal/upload"
)

// grpcMethods are the OTLP/gRPC export methods.
var grpcMethods = [...]string{
	tracesKind:  "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
	metricsKind: "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
	logsKind:    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}

// newGRPCEndpoint prepares an HTTP/2 transport: TLS for https targets,
// cleartext HTTP/2 (h2c) for http ones.
func newGRPCEndpoint(ep *endpoint, pool map[transportKey]http.RoundTripper) (*endpoint, error) {
	for k := range ep.sig.Headers {
		if !validHeaderName(k) {
			return nil, fmt.Errorf("otlp %s: invalid header name", ep.kind)
		}
	}
	ep.display = redact.Origin(ep.sig.URL) // a target has no path
	ep.url = ep.display
	ep.md = make(http.Header, len(ep.sig.Headers))
	for k, v := range ep.sig.Headers {
		ep.md.Set(strings.ToLower(k), v)
	}
	// One transport serves both http (h2c) and https targets.
	key := transportKey{tls: ep.sig.TLS, grpc: true}
	if ep.rt = pool[key]; ep.rt == nil {
		ep.rt = grpcunary.NewTransport(ep.sig.TLS, true)
		pool[key] = ep.rt
	}
	return ep, nil
}

func (ep *endpoint) sendGRPC(ctx context.Context, body []byte, s *Sender) (outcome, error) {
	if ep.gzip {
		body = ep.compress(body)
	}
	resp, err := grpcunary.Invoke(ctx, ep.rt, ep.url, grpcMethods[ep.kind], body, ep.md, ep.gzip)
	if err != nil {
		return outcome{}, s.grpcError(ep, err)
	}
	out := outcome{bytes: len(body)}
	if ps, perr := parsePartialSuccess(resp); perr == nil {
		out.rejected, out.message = ps.rejected, s.clean(ps.message)
	}
	return out, nil
}

// grpcError classifies a failed call as the OTLP specification says:
// Canceled, DeadlineExceeded, Aborted, OutOfRange, Unavailable, DataLoss
// and ResourceExhausted with RetryInfo are retryable; a message too large
// for the server is ErrTooLarge; every other status is permanent, of the
// request (Request set) for InvalidArgument.
func (s *Sender) grpcError(ep *endpoint, err error) error {
	dest := ep.dest
	var se *grpcunary.StatusError
	if !errors.As(err, &se) {
		return s.transportError(ep, err)
	}
	reason := grpcCodeName(se.Code)
	msg := s.clean(se.Message)
	if msg != "" {
		reason += ": " + msg
	}
	switch se.Code {
	case grpcunary.Canceled, grpcunary.DeadlineExceeded, grpcunary.Aborted, grpcunary.OutOfRange,
		grpcunary.Unavailable, grpcunary.DataLoss:
		return &upload.RetryableError{Destination: dest, Reason: reason, RetryAfter: se.RetryAfter}
	case grpcunary.ResourceExhausted:
		if se.RetryAfter > 0 {
			return &upload.RetryableError{Destination: dest, Reason: reason, RetryAfter: se.RetryAfter}
		}
		if strings.Contains(msg, "larger than max") || strings.Contains(msg, "too large") {
			return fmt.Errorf("otlp %s: %s: %s: %w", ep.kind, dest, reason, upload.ErrTooLarge)
		}
	}
	// InvalidArgument refuses this request's data, which the OTLP
	// specification says is dropped; any other code refuses the sender.
	return &upload.PermanentError{Destination: dest, Reason: reason,
		Request: se.Code == grpcunary.InvalidArgument}
}

// grpcCodeName names a status code in words.
func grpcCodeName(c uint32) string {
	switch c {
	case grpcunary.Canceled:
		return "canceled"
	case grpcunary.Unknown:
		return "unknown error"
	case grpcunary.InvalidArgument:
		return "invalid argument"
	case grpcunary.DeadlineExceeded:
		return "deadline exceeded"
	case grpcunary.NotFound:
		return "not found"
	case grpcunary.PermissionDenied:
		return "permission denied"
	case grpcunary.ResourceExhausted:
		return "resource exhausted"
	case grpcunary.FailedPrecondition:
		return "failed precondition"
	case grpcunary.Aborted:
		return "aborted"
	case grpcunary.OutOfRange:
		return "out of range"
	case grpcunary.Unimplemented:
		return "unimplemented"
	case grpcunary.Internal:
		return "internal error"
	case grpcunary.Unavailable:
		return "unavailable"
	case grpcunary.DataLoss:
		return "data loss"
	case grpcunary.Unauthenticated:
		return "unauthenticated"
	}
	return fmt.Sprintf("grpc status %d", c)
}
