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
// bytes. Errors wrap errTooLarge, errBadEncoding, or describe undecodable
// input (bad gzip, a connection cut short).
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, errTooLarge
	}
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if enc != "" && enc != "identity" && enc != "gzip" {
		return nil, fmt.Errorf("%w %q", errBadEncoding, enc)
	}
	body := http.MaxBytesReader(w, r.Body, max)
	raw, err := readLimited(body, max)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge
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
	out, err := readLimited(zr, max)
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return out, nil
}

// readLimited reads r to the end, failing with errTooLarge past max bytes.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	var buf bytes.Buffer
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
	default:
		return http.StatusBadRequest
	}
}

// constantTimeEqual compares secrets without leaking where they differ.
func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
