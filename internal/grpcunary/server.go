package grpcunary

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
)

// Handler returns an http.Handler that serves unary gRPC calls with serve.
// It must be served over HTTP/2 (TLS or h2c); an HTTP/1 request gets 505,
// and a request that is not a POST with a gRPC content type gets 405 or 415
// with no gRPC status, as the gRPC protocol says.
//
// serve is called with the request's full method name ("/pkg.Service/Method",
// unchecked: serve answers unknown methods, Unimplemented being the usual
// code), the request message (decompressed) and a context that ends with the
// request or at the caller's grpc-timeout. Its response message is sent
// uncompressed. An error of type *StatusError (found with errors.As) is sent
// as its code and message, with a google.rpc.RetryInfo when RetryAfter is
// positive; any other error is sent as Unknown with the error's text.
//
// A request message over maxMsg bytes, as framed or after decompression, is
// refused with ResourceExhausted without serve being called; a read of the
// request body that fails with a *StatusError (a server's reader that
// bounds memory, say) is answered with that status; so is a message
// encoding other than gzip or identity (Unimplemented), a malformed
// message or grpc-timeout (Internal), and more than one message (Internal).
func Handler(maxMsg int, serve func(ctx context.Context, method string, req []byte) ([]byte, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			http.Error(w, "gRPC requires HTTP/2", http.StatusHTTPVersionNotSupported)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || !isGRPCType(mt) {
			http.Error(w, "unsupported content type", http.StatusUnsupportedMediaType)
			return
		}
		req, serr := readRequest(r, maxMsg)
		if serr != nil {
			WriteStatus(w, serr)
			return
		}
		ctx := r.Context()
		if v := r.Header.Get("Grpc-Timeout"); v != "" {
			d, ok := decodeTimeout(v)
			if !ok {
				WriteStatus(w, &StatusError{Code: Internal, Message: "malformed grpc-timeout"})
				return
			}
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		resp, err := serve(ctx, r.URL.Path, req)
		if err != nil {
			var se *StatusError
			if !errors.As(err, &se) {
				se = &StatusError{Code: Unknown, Message: err.Error()}
			}
			if se.Code == OK {
				se = &StatusError{Code: Unknown, Message: se.Message}
			}
			WriteStatus(w, se)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/grpc")
		h.Set("Trailer", "Grpc-Status")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(appendFrame(make([]byte, 0, prefixLen+len(resp)), resp, false))
		h.Set("Grpc-Status", "0")
	})
}

// readRequest reads the one request message of a unary call.
func readRequest(r *http.Request, maxMsg int) ([]byte, *StatusError) {
	enc := r.Header.Get("Grpc-Encoding")
	if enc != "" && enc != "identity" && enc != "gzip" {
		return nil, &StatusError{Code: Unimplemented, Message: "message encoding " + strconv.Quote(enc) + " not supported"}
	}
	msg, compressed, err := readFrame(r.Body, maxMsg)
	var se *StatusError
	switch {
	case errors.Is(err, errTooLarge):
		return nil, &StatusError{Code: ResourceExhausted, Message: "request message larger than " + strconv.Itoa(maxMsg) + " bytes"}
	case errors.Is(err, errNoMessage):
		return nil, &StatusError{Code: Internal, Message: "no request message"}
	case errors.As(err, &se):
		return nil, se // the body's reader refused it (a memory bound, say)
	case err != nil:
		return nil, &StatusError{Code: Internal, Message: "request message: " + err.Error()}
	}
	var one [1]byte
	if n, _ := io.ReadFull(r.Body, one[:]); n > 0 {
		return nil, &StatusError{Code: Internal, Message: "more than one request message"}
	}
	if compressed {
		if enc != "gzip" {
			return nil, &StatusError{Code: Internal, Message: "compressed message without grpc-encoding"}
		}
		msg, err = gunzip(msg, maxMsg)
		if errors.Is(err, errTooLarge) {
			return nil, &StatusError{Code: ResourceExhausted, Message: "request message larger than " + strconv.Itoa(maxMsg) + " bytes after decompression"}
		}
		if err != nil {
			return nil, &StatusError{Code: Internal, Message: "request message: " + err.Error()}
		}
	}
	return msg, nil
}

// WriteStatus answers a gRPC request with se alone (a trailers-only
// response) and reads nothing: Handler's way of refusing a call, exported
// for a server that refuses one before handing it to Handler (an
// unauthorised caller, say). se.Code must not be OK.
func WriteStatus(w http.ResponseWriter, se *StatusError) {
	h := w.Header()
	h.Set("Content-Type", "application/grpc")
	h.Set("Grpc-Status", strconv.FormatUint(uint64(se.Code), 10))
	if se.Message != "" {
		h.Set("Grpc-Message", encodeMessage(se.Message))
	}
	if se.RetryAfter > 0 {
		h.Set("Grpc-Status-Details-Bin", base64.RawStdEncoding.EncodeToString(statusDetails(se.Code, se.Message, se.RetryAfter)))
	}
	w.WriteHeader(http.StatusOK)
}
