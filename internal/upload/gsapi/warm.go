package gsapi

import (
	"net/http"

	"github.com/graphsignal/graphsignal/internal/upload"
)

var _ upload.Warmer = (*Sender)(nil)

// Warm starts opening the default client's first connection in the
// background (TCP only: nothing is written on it until the first Send,
// which takes it; CloseIdleConnections closes it if no Send did), then
// maps and encodes a sample batch (upload.SampleBatch) and throws the
// result away, so that the first Send does not pay for the connect and
// the encoder's first run (a body that small needs no compressor: see
// internal/gzipbody). It sends nothing and
// leaves the series state alone. With Config.Client, nothing is dialled
// ahead.
func (s *Sender) Warm() {
	if s.pre != nil {
		if tr, ok := s.client.Transport.(*http.Transport); ok {
			s.pre.StartFor(s.endpoint, tr.Proxy)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := upload.SampleBatch(s.now())
	req := newMapper(s.now(), s.cpuFactor, s.sent, nil).request(&b)
	_ = s.encode(req, nil)
}
