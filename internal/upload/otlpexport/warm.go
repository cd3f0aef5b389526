package otlpexport

import "github.com/graphsignal/graphsignal/internal/upload"

var _ upload.Warmer = (*Sender)(nil)

// Warm converts and encodes a sample batch (upload.SampleBatch) for the
// traces and metrics endpoints, which every run sends to at its end, and
// compresses it once (the endpoints share one compressor), throwing the
// result away, so that the first Send does not pay for the encoders' first
// use and the compressor's tables (about 1 MiB). It sends nothing and
// leaves the Sender's state (the runs it has seen) alone.
func (s *Sender) Warm() {
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
