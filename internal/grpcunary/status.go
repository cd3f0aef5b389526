package grpcunary

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/wire"
)

// The gRPC status codes that this package produces or that callers commonly
// branch on (google.golang.org/grpc/codes has the full list).
const (
	OK                 uint32 = 0
	Canceled           uint32 = 1
	Unknown            uint32 = 2
	InvalidArgument    uint32 = 3
	DeadlineExceeded   uint32 = 4
	NotFound           uint32 = 5
	PermissionDenied   uint32 = 7
	ResourceExhausted  uint32 = 8
	FailedPrecondition uint32 = 9
	Aborted            uint32 = 10
	OutOfRange         uint32 = 11
	Unimplemented      uint32 = 12
	Internal           uint32 = 13
	Unavailable        uint32 = 14
	DataLoss           uint32 = 15
	Unauthenticated    uint32 = 16
)

// retryInfoURL is the type URL of google.rpc.RetryInfo inside a
// google.rpc.Status's details.
const retryInfoURL = "type.googleapis.com/google.rpc.RetryInfo"

// StatusError is a gRPC status other than OK: the one a server answered with
// (Invoke), or the one a serve function wants sent (Handler).
type StatusError struct {
	// Code is the gRPC status code (the constants above).
	Code uint32
	// Message is grpc-message, decoded. It is the server's text: callers
	// should not assume it is free of whatever the server put there.
	Message string
	// RetryAfter is the retry delay of a google.rpc.RetryInfo carried in
	// grpc-status-details-bin, 0 when there is none. Handler sends one when
	// it is positive.
	RetryAfter time.Duration
}

// Error returns "grpc status <name> (<code>): <message>".
func (e *StatusError) Error() string {
	s := fmt.Sprintf("grpc status %s (%d)", codeName(e.Code), e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

func codeName(c uint32) string {
	names := [...]string{"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded",
		"NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted",
		"FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal",
		"Unavailable", "DataLoss", "Unauthenticated"}
	if int(c) < len(names) {
		return names[c]
	}
	return "Code(" + strconv.FormatUint(uint64(c), 10) + ")"
}

// encodeMessage percent-encodes a grpc-message value as the gRPC protocol
// asks: bytes outside printable ASCII, and '%', become %XX.
func encodeMessage(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// decodeMessage undoes encodeMessage; a malformed escape is kept as it is,
// as grpc-go does.
func decodeMessage(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseStatus reads grpc-status, grpc-message and grpc-status-details-bin
// from h. ok is false when h has no grpc-status.
func parseStatus(status, message, details string) (code uint32, err *StatusError, ok bool) {
	if status == "" {
		return 0, nil, false
	}
	c, perr := strconv.ParseUint(status, 10, 32)
	if perr != nil {
		return Internal, &StatusError{Code: Internal, Message: "malformed grpc-status " + strconv.Quote(status)}, true
	}
	if c == uint64(OK) {
		return OK, nil, true
	}
	e := &StatusError{Code: uint32(c), Message: decodeMessage(message)}
	if details != "" {
		if raw, derr := decodeBinHeader(details); derr == nil {
			e.RetryAfter = retryAfter(raw)
		}
	}
	return e.Code, e, true
}

// decodeBinHeader decodes a "-bin" metadata value: base64, padded or not.
func decodeBinHeader(v string) ([]byte, error) {
	v = strings.TrimRight(v, "=")
	return base64.RawStdEncoding.DecodeString(v)
}

// retryAfter returns the retry delay of the first google.rpc.RetryInfo in
// the details of the google.rpc.Status st, or 0. Repeated occurrences of a
// field are merged as protobuf merges them.
func retryAfter(st []byte) time.Duration {
	found := false
	var secs, nanos int64
	eachField(st, func(num wire.Number, typ wire.Type, v []byte, _ uint64) {
		if num != 3 || typ != wire.BytesType || found {
			return
		}
		var typeURL string
		var value []byte
		eachField(v, func(num wire.Number, typ wire.Type, v []byte, _ uint64) {
			switch {
			case num == 1 && typ == wire.BytesType:
				typeURL = string(v)
			case num == 2 && typ == wire.BytesType:
				value = v
			}
		})
		if typeURL != retryInfoURL {
			return
		}
		found = true
		eachField(value, func(num wire.Number, typ wire.Type, v []byte, _ uint64) {
			if num != 1 || typ != wire.BytesType {
				return
			}
			eachField(v, func(num wire.Number, typ wire.Type, _ []byte, x uint64) {
				switch {
				case num == 1 && typ == wire.VarintType:
					secs = int64(x)
				case num == 2 && typ == wire.VarintType:
					nanos = int64(int32(x))
				}
			})
		})
	})
	const maxSecs = int64(1<<63-1) / int64(time.Second)
	if secs < 0 || nanos < 0 || secs >= maxSecs-3 { // nanos adds under 3 s
		return 0
	}
	return time.Duration(secs)*time.Second + time.Duration(nanos)
}

// eachField calls fn for every field of the message b: bytes fields with
// their contents, varint fields with their value. It stops at the first
// malformed field.
func eachField(b []byte, fn func(num wire.Number, typ wire.Type, v []byte, x uint64)) {
	for len(b) > 0 {
		num, typ, n := wire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		switch typ {
		case wire.BytesType:
			v, m := wire.ConsumeBytes(b)
			if m < 0 {
				return
			}
			fn(num, typ, v, 0)
			b = b[m:]
		case wire.VarintType:
			x, m := wire.ConsumeVarint(b)
			if m < 0 {
				return
			}
			fn(num, typ, nil, x)
			b = b[m:]
		default:
			m := wire.ConsumeFieldValue(num, typ, b)
			if m < 0 {
				return
			}
			b = b[m:]
		}
	}
}

// statusDetails encodes a google.rpc.Status with code, message and, when
// retry is positive, a google.rpc.RetryInfo.
func statusDetails(code uint32, message string, retry time.Duration) []byte {
	var b []byte
	b = wire.AppendTag(b, 1, wire.VarintType)
	b = wire.AppendVarint(b, uint64(code))
	if message != "" {
		b = wire.AppendTag(b, 2, wire.BytesType)
		b = wire.AppendString(b, message)
	}
	var dur []byte
	dur = wire.AppendTag(dur, 1, wire.VarintType)
	dur = wire.AppendVarint(dur, uint64(retry/time.Second))
	if ns := retry % time.Second; ns != 0 {
		dur = wire.AppendTag(dur, 2, wire.VarintType)
		dur = wire.AppendVarint(dur, uint64(ns))
	}
	var info []byte
	info = wire.AppendTag(info, 1, wire.BytesType)
	info = wire.AppendBytes(info, dur)
	var anyMsg []byte
	anyMsg = wire.AppendTag(anyMsg, 1, wire.BytesType)
	anyMsg = wire.AppendString(anyMsg, retryInfoURL)
	anyMsg = wire.AppendTag(anyMsg, 2, wire.BytesType)
	anyMsg = wire.AppendBytes(anyMsg, info)
	b = wire.AppendTag(b, 3, wire.BytesType)
	return wire.AppendBytes(b, anyMsg)
}

// httpStatusCode maps an HTTP status of a response without grpc-status to
// a gRPC code, as the gRPC protocol's "HTTP to gRPC status code mapping"
// says.
func httpStatusCode(status int) uint32 {
	switch status {
	case 400:
		return Internal
	case 401:
		return Unauthenticated
	case 403:
		return PermissionDenied
	case 404:
		return Unimplemented
	case 429, 502, 503, 504:
		return Unavailable
	}
	return Unknown
}
