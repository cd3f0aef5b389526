package grpcunary

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// prefixLen is the length of a message's prefix: a compressed flag and a
// big-endian uint32 length.
const prefixLen = 5

// errTooLarge is a message over the limit, as framed or after decompression.
var errTooLarge = errors.New("message larger than the limit")

// errNoMessage is a stream that ends before any message.
var errNoMessage = errors.New("no message")

// appendFrame appends msg, framed, to b; compressed sets the flag (msg must
// then already be compressed).
func appendFrame(b, msg []byte, compressed bool) []byte {
	var flag byte
	if compressed {
		flag = 1
	}
	b = append(b, flag)
	b = binary.BigEndian.AppendUint32(b, uint32(len(msg)))
	return append(b, msg...)
}

// readFrame reads one framed message from r. It returns errNoMessage when r
// ends before the first byte, io.ErrUnexpectedEOF when it ends inside a
// message, and errTooLarge (without reading the message) when the prefix
// announces more than max bytes.
func readFrame(r io.Reader, max int) (msg []byte, compressed bool, err error) {
	var p [prefixLen]byte
	if _, err := io.ReadFull(r, p[:]); err != nil {
		if err == io.EOF {
			return nil, false, errNoMessage
		}
		return nil, false, err
	}
	switch p[0] {
	case 0:
	case 1:
		compressed = true
	default:
		return nil, false, fmt.Errorf("invalid compressed flag %d", p[0])
	}
	n := binary.BigEndian.Uint32(p[1:])
	if uint64(n) > uint64(max) {
		return nil, false, errTooLarge
	}
	// The buffer grows with what actually arrives: a peer announcing a
	// large message and sending nothing pins no memory.
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, int64(n)); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, false, err
	}
	return buf.Bytes(), compressed, nil
}

// gunzip decompresses b, refusing (errTooLarge) more than max bytes.
func gunzip(b []byte, max int) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(zr, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(out) > max {
		return nil, errTooLarge
	}
	return out, nil
}

// encodeTimeout formats d as a grpc-timeout value: at most 8 digits and a
// unit, rounded up so the server never sees less time than is left.
func encodeTimeout(d time.Duration) string {
	if d <= 0 {
		return "1n"
	}
	const maxDigits = 1e8 - 1
	units := []struct {
		unit string
		size time.Duration
	}{{"n", time.Nanosecond}, {"u", time.Microsecond}, {"m", time.Millisecond},
		{"S", time.Second}, {"M", time.Minute}, {"H", time.Hour}}
	for _, u := range units {
		v := (d + u.size - 1) / u.size
		if v <= maxDigits {
			return strconv.FormatInt(int64(v), 10) + u.unit
		}
	}
	return strconv.FormatInt(maxDigits, 10) + "H"
}

// decodeTimeout parses a grpc-timeout value; ok is false when it is
// malformed.
func decodeTimeout(s string) (d time.Duration, ok bool) {
	if len(s) < 2 || len(s) > 9 {
		return 0, false
	}
	digits, unit := s[:len(s)-1], s[len(s)-1]
	if strings.TrimLeft(digits, "0123456789") != "" {
		return 0, false
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	var size time.Duration
	switch unit {
	case 'n':
		size = time.Nanosecond
	case 'u':
		size = time.Microsecond
	case 'm':
		size = time.Millisecond
	case 'S':
		size = time.Second
	case 'M':
		size = time.Minute
	case 'H':
		size = time.Hour
	default:
		return 0, false
	}
	const maxDur = time.Duration(1<<63 - 1)
	if v > int64(maxDur/size) {
		return maxDur, true
	}
	return time.Duration(v) * size, true
}
