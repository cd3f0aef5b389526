package otlpexport

import (
	"net/http"

	"github.com/graphsignal/graphsignal/internal/upload"
)

var _ upload.Warmer = (*Sender)(nil)

// Warm starts opening, in the background, a connection to the OTLP/HTTP
// traces and metrics endpoints, which every run sends to at its end (TCP,
// and TLS where it applies; nothing is written on it until a Send takes
// it; CloseIdleConnections closes it if none did); the logs endpoint, which
// not every run needs, dials when it is used. Then it converts and encodes
// a sample batch (upload.SampleBatch) for the traces and metrics
// endpoints, and compresses it once (the endpoints share one compressor),
// throwing the result away, so that the first Send does not pay for the
// connect, the encoders' first use and the compressor's tables (about
// 1 MiB). It sends nothing and leaves the Sender's state (the runs it has
// seen) alone. gRPC destinations are not dialled ahead.
func (s *Sender) Warm() {
	for _, ep := range []*endpoint{s.traces, s.metrics} {
		if ep == nil || ep.pre == nil {
			continue
		}
		if tr, ok := ep.client.Transport.(*http.Transport); ok {
			ep.pre.StartFor(ep.url, tr.Proxy)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	conv := newConverter(s.conv.service, s.conv.extra)
	compressed := false
	for _, r := range conv.convert(upload.SampleBatch(s.now()), s.traces != nil, s.metrics != nil, false) {
		ep := s.endpointFor(r.kind)
		body, err := ep.marshal(r)
		if err == nil && ep.gzip && !compressed {
			ep.compress(body)
			compressed = true
		}
	}
}
