package grpcunary

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

// FuzzReadFrame checks readFrame on any bytes: no panic, never more than max
// bytes, and what it accepts re-encodes to the bytes it consumed.
func FuzzReadFrame(f *testing.F) {
	for _, seed := range [][]byte{
		nil,
		appendFrame(nil, []byte("hello"), false),
		appendFrame(nil, gzipBytes([]byte("hello")), true),
		{0, 0, 0, 0},
		{2, 0, 0, 0, 0},
		{0, 0xff, 0xff, 0xff, 0xff},
		{1, 0, 0, 0, 3, 1},
	} {
		f.Add(seed, uint16(64))
	}
	f.Fuzz(func(t *testing.T, b []byte, max uint16) {
		r := bytes.NewReader(b)
		msg, compressed, err := readFrame(r, int(max))
		if err != nil {
			if msg != nil {
				t.Errorf("readFrame(%x) = %x with error %v", b, msg, err)
			}
			return
		}
		if len(msg) > int(max) {
			t.Fatalf("readFrame(%x, %d) returned %d bytes", b, max, len(msg))
		}
		consumed := len(b) - r.Len()
		if got := appendFrame(nil, msg, compressed); !bytes.Equal(got, b[:consumed]) {
			t.Errorf("appendFrame(readFrame(%x)) = %x", b[:consumed], got)
		}
		if compressed {
			if out, err := gunzip(msg, int(max)); err == nil && len(out) > int(max) {
				t.Errorf("gunzip returned %d bytes over %d", len(out), max)
			}
		}
	})
}

// FuzzStatus checks the decoding of grpc-status, grpc-message and
// grpc-status-details-bin: the retry delay agrees with protobuf-go's
// decoding of google.rpc.Status and RetryInfo, and messages survive
// percent-encoding.
func FuzzStatus(f *testing.F) {
	f.Add("14", "busy%20now", base64.RawStdEncoding.EncodeToString(statusDetails(14, "busy", 3*time.Second+7)), "plain ünïcode %")
	f.Add("0", "", "", "")
	f.Add("x", "%zz%4", "!!!", "\x00\xff")
	f.Add("3", "bad", base64.StdEncoding.EncodeToString(statusDetails(3, "", time.Hour)), "%")
	f.Fuzz(func(t *testing.T, status, message, details, text string) {
		if got := decodeMessage(encodeMessage(text)); got != text {
			t.Errorf("decodeMessage(encodeMessage(%q)) = %q", text, got)
		}
		code, se, ok := parseStatus(status, message, details)
		if ok != (status != "") {
			t.Fatalf("parseStatus(%q) ok = %v", status, ok)
		}
		if ok && (code == OK) != (se == nil) {
			t.Fatalf("parseStatus(%q) = %d, %v", status, code, se)
		}
		raw, err := decodeBinHeader(details)
		if err != nil {
			return
		}
		got := retryAfter(raw)
		if got < 0 {
			t.Fatalf("retryAfter(%x) = %v", raw, got)
		}
		want, comparable := referenceRetryAfter(raw)
		if comparable && got != want {
			t.Errorf("retryAfter(%x) = %v, protobuf-go says %v", raw, got, want)
		}
	})
}

// referenceRetryAfter decodes st with protobuf-go; comparable is false
// where it fails or where the delay is out of the range retryAfter keeps.
func referenceRetryAfter(st []byte) (time.Duration, bool) {
	var s spb.Status
	if proto.Unmarshal(st, &s) != nil {
		return 0, false
	}
	for _, d := range s.GetDetails() {
		if d.GetTypeUrl() != retryInfoURL {
			continue
		}
		var ri errdetails.RetryInfo
		if proto.Unmarshal(d.GetValue(), &ri) != nil {
			return 0, false
		}
		rd := ri.GetRetryDelay()
		if rd == nil {
			return 0, true
		}
		switch {
		case rd.GetSeconds() < 0 || rd.GetNanos() < 0:
			return 0, true
		case rd.GetSeconds() > 1e9:
			return 0, false
		}
		return time.Duration(rd.GetSeconds())*time.Second + time.Duration(rd.GetNanos()), true
	}
	return 0, true
}

// FuzzReadResponse feeds readResponse arbitrary bodies and status fields:
// it never panics, never returns a message and an error, and succeeds only
// when the status is OK and there is exactly one message.
func FuzzReadResponse(f *testing.F) {
	f.Add(appendFrame(nil, []byte("ok"), false), "0", "", "", false)
	f.Add(appendFrame(nil, gzipBytes([]byte("ok")), true), "0", "", "gzip", false)
	f.Add([]byte{}, "14", "busy", "", true)
	f.Add(append(appendFrame(nil, nil, false), 0), "0", "", "", false)
	f.Add([]byte{1, 0, 0, 0, 2, 'h', 'i'}, "0", "", "deflate", false)
	f.Fuzz(func(t *testing.T, body []byte, status, message, encoding string, trailersOnly bool) {
		resp := &http.Response{
			StatusCode: 200,
			Header:     http.Header{"Content-Type": {"application/grpc"}},
			Trailer:    http.Header{},
			Body:       io.NopCloser(bytes.NewReader(body)),
		}
		if encoding != "" {
			resp.Header.Set("Grpc-Encoding", encoding)
		}
		where := resp.Trailer
		if trailersOnly {
			where = resp.Header
		}
		if status != "" {
			where.Set("Grpc-Status", status)
		}
		where.Set("Grpc-Message", message)
		out, err := readResponse(resp)
		if err != nil && out != nil {
			t.Fatalf("readResponse = %x and %v", out, err)
		}
		if c, perr := strconv.ParseUint(status, 10, 32); err == nil && (perr != nil || c != 0) {
			t.Fatalf("readResponse succeeded with grpc-status %q", status)
		}
		var se *StatusError
		if errors.As(err, &se) && se.Code == OK {
			t.Fatalf("readResponse returned status OK as an error")
		}
	})
}
