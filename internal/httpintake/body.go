package httpintake

import (
	"bytes"
	"compress/gzip"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// errTooLarge and errBadEncoding classify body errors into 413 and 415.
var (
	errTooLarge    = errors.New("request body too large")
	errBadEncoding = errors.New("unsupported content encoding")
)

// readBody reads the whole request body, undoing gzip when Content-Encoding
// says so, with max bounding both the bytes on the wire and the decompressed
// bytes. Every byte read is held from the in-flight budget of the request's
// hold (serveHTTP makes it), and then what decoding the body takes
// (decodeHold). Errors wrap errTooLarge, errBadEncoding, errBusy, or
// describe undecodable input (bad gzip, a connection cut short).
func readBody(w http.ResponseWriter, r *http.Request, max int64, isJSON bool) ([]byte, error) {
	h, _ := r.Context().Value(holdKey{}).(*hold)
	out, err := readBodyHeld(w, r, max, h)
	if err == nil && h != nil {
		err = h.take(decodeHold(int64(len(out)), isJSON))
	}
	return out, err
}

func readBodyHeld(w http.ResponseWriter, r *http.Request, max int64, h *hold) ([]byte, error) {
	if r.ContentLength > max {
		return nil, errTooLarge
	}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if enc != "" && enc != "identity" && enc != "gzip" {
		return nil, fmt.Errorf("%w %q", errBadEncoding, enc)
	}
	body := http.MaxBytesReader(w, r.Body, max)
	raw, err := readLimited(body, max, r.ContentLength)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
		}
		if errors.Is(err, errBusy) || errors.Is(err, errDecodeTooLarge) {
			return nil, err
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	if enc != "gzip" {
		return raw, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	var unzipped io.Reader = zr
	if h != nil {
		unzipped = heldReader{zr, h}
	}
	out, err := readLimited(unzipped, max, -1)
	if errors.Is(err, errBusy) || errors.Is(err, errDecodeTooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return out, nil
}

// readLimited reads r to the end, failing with errTooLarge past max bytes;
// size, when known (>= 0), sizes the buffer at once.
func readLimited(r io.Reader, max, size int64) ([]byte, error) {
	var buf bytes.Buffer
	if size >= 0 && size <= max {
		buf.Grow(int(size) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, errTooLarge
	}
	return buf.Bytes(), nil
}

// statusFor maps a readBody error to an HTTP status.
func statusFor(err error) int {
	switch {
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errBadEncoding):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, errBusy):
		return http.StatusTooManyRequests
	default:
		return http.StatusBadRequest
	}
}

// constantTimeEqual compares secrets without leaking where they differ.
func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
