package gsapi

import "github.com/graphsignal/graphsignal/internal/upload"

var _ upload.Warmer = (*Sender)(nil)

// Warm maps and compresses a sample batch (upload.SampleBatch) and throws
// the result away, so that the first Send does not pay for the compressor's
// buffers and the encoder's first run. It sends nothing and leaves the
// series state alone.
func (s *Sender) Warm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := upload.SampleBatch(s.now())
	req := newMapper(s.now(), s.cpuFactor, s.sent).request(&b)
	_, _ = s.encode(req, nil)
}
