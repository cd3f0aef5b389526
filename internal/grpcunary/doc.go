// Package grpcunary speaks unary gRPC (one request message, one response
// message) over the standard library's HTTP/2, so that graphsignal can export
// and receive OTLP/gRPC without linking google.golang.org/grpc and its
// start-up cost (docs/intake.md, "OTLP over gRPC").
//
// The client side is NewTransport and Invoke; the server side is Handler. Both
// follow the gRPC over HTTP/2 protocol: a POST to /<service>/<method> with
// content type application/grpc, "te: trailers", messages framed by a 5-byte
// prefix (a compressed flag and a big-endian length), gzip as the only
// message encoding, grpc-timeout derived from the context's deadline, and the
// outcome in the grpc-status and grpc-message trailers (or in the headers of
// a trailers-only response). Streaming calls, other compressors and
// binary metadata other than grpc-status-details-bin are not supported.
//
// Nothing in the package starts goroutines of its own beyond those of
// net/http, and it has no mutable package-level state; everything is safe
// for concurrent use.
package grpcunary
