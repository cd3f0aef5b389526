package httpintake

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"testing"

	"github.com/graphsignal/graphsignal/internal/grpcunary"
)

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestGRPCBodyHeldAsRead: a gRPC request's message is held from the
// in-flight bound as it is read, like an HTTP body, so a message that alone
// passes the bound is refused (RESOURCE_EXHAUSTED, counted as too large)
// after reading about the bound, not after reading all of it into memory.
func TestGRPCBodyHeldAsRead(t *testing.T) {
	const bound = 64 << 10
	s, _ := bindIntakeWith(t, func(c *Config) { c.InFlightBytes = bound })
	s.peerUID = func(netip.AddrPort, netip.AddrPort) (uint32, error) { return uint32(os.Getuid()), nil }
	msg := bytes.Repeat([]byte{0}, 1<<20)
	frame := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(frame[1:], uint32(len(msg)))
	body := &countingReader{r: bytes.NewReader(append(frame, msg...))}
	r := httptest.NewRequest(http.MethodPost, "/opentelemetry.proto.collector.trace.v1.TraceService/Export", body)
	r.ProtoMajor, r.ProtoMinor = 2, 0
	r.Header.Set("Content-Type", "application/grpc")
	r = r.WithContext(context.WithValue(r.Context(), connPeerKey{}, &connPeer{}))
	w := httptest.NewRecorder()
	s.serveHTTP(w, r)
	code := w.Header().Get("Grpc-Status")
	if code == "" {
		code = w.Result().Trailer.Get("Grpc-Status")
	}
	if code != strconv.Itoa(int(grpcunary.ResourceExhausted)) {
		t.Fatalf("grpc-status %q (HTTP %d, %q), want RESOURCE_EXHAUSTED", code, w.Code, w.Header().Get("Grpc-Message"))
	}
	if body.n > 4*bound {
		t.Errorf("read %d bytes of a %d-byte message before refusing it, want about the %d-byte bound", body.n, len(msg), bound)
	}
	if st := s.Stats(); st.TooLarge != 1 {
		t.Errorf("TooLarge = %d, want 1", st.TooLarge)
	}
}
