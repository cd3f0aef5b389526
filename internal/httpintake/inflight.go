package httpintake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// DefaultInFlightBytes bounds the memory that requests being read and
// decoded hold at once (docs/architecture.md, "Memory bound"): a request's
// body bytes as they are read (before and after gzip) plus what decoding it
// takes (decodeHold). It lets a 9.6 MiB JSON body through, and a protobuf
// body of up to about 3.7 MiB (OTel SDKs send far less); a request that
// needs more than the bound by itself is refused as too large (413).
const DefaultInFlightBytes = 48 << 20

// decodeFactor and protoDecodeFactor are how many times its body's size a
// request's decoded records are counted for while it is decoded, JSON and
// protobuf (measured by TestDecodeFactorCoversHeap: about 1.5–2.5× and
// 8.3–9.8×; JSON up to 3.6× in a build with the race detector, whose
// allocations are larger).
const (
	decodeFactor      = 4
	protoDecodeFactor = 12
)

// errBusy refuses a request that would pass the in-flight bound: 429 with
// Retry-After over HTTP, UNAVAILABLE over gRPC; OTLP exporters and the
// Graphsignal SDK retry later. Counted in Stats.Throttled.
var errBusy = errors.New("intake busy: too many request bytes in flight, retry later")

// errDecodeTooLarge refuses a request that alone needs more than the bound.
var errDecodeTooLarge = fmt.Errorf("%w: decoding it would hold more than the intake's in-flight bound; send smaller batches", errTooLarge)

// inflight is the shared budget of request bytes.
type inflight struct {
	max  int64
	used atomic.Int64
}

// hold is one request's share of the budget, released when the request
// has been handed to the consumer (whose own queue then bounds it).
type hold struct {
	f *inflight
	n int64
}

// take adds n bytes to the request's share; it returns errDecodeTooLarge
// when the request alone would pass the bound, errBusy when it would pass it
// with the other requests' shares.
func (h *hold) take(n int64) error {
	if h.n+n > h.f.max {
		return errDecodeTooLarge
	}
	if h.f.used.Add(n) > h.f.max {
		h.f.used.Add(-n)
		return errBusy
	}
	h.n += n
	return nil
}

func (h *hold) release() {
	h.f.used.Add(-h.n)
	h.n = 0
}

type holdKey struct{}

// holdOf returns the request's hold (a fresh one over f when there is none).
func holdOf(ctx context.Context, f *inflight) *hold {
	if h, ok := ctx.Value(holdKey{}).(*hold); ok {
		return h
	}
	return &hold{f: f}
}

// heldReader holds every byte read from r.
type heldReader struct {
	r io.Reader
	h *hold
}

func (hr heldReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	if n > 0 {
		if herr := hr.h.take(int64(n)); herr != nil {
			return 0, herr
		}
	}
	return n, err
}

// heldBody is a request body whose bytes are held as they are read.
type heldBody struct {
	heldReader
	c io.Closer
}

func (b heldBody) Close() error { return b.c.Close() }

// decodeHold is what decoding a body of n bytes is counted for: its
// records take up to decodeFactor (JSON) or protoDecodeFactor (protobuf,
// far denser) times its size (TestDecodeFactorCoversHeap).
func decodeHold(n int64, isJSON bool) int64 {
	if isJSON {
		return decodeFactor * n
	}
	return protoDecodeFactor * n
}
