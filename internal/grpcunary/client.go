package grpcunary

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/redact"
)

// maxResponse bounds a response message, as received and after
// decompression (grpc-go's default receive limit is 4 MiB).
const maxResponse = 16 << 20

// NewTransport returns an HTTP/2-only round tripper for Invoke. tlsCfg (nil
// for the defaults: the system roots, certificates verified) is used for
// https targets. When insecure is true, http targets are spoken to in
// cleartext HTTP/2 with prior knowledge (h2c), which is what gRPC servers
// without TLS expect; otherwise only https targets work and an http target
// fails without a connection being made. Proxies from the
// standard environment variables are used for https targets only: an h2c
// connection goes straight to the target.
//
// The transport keeps idle connections; the caller owns it and may call
// CloseIdleConnections on the returned *http.Transport when done.
func NewTransport(tlsCfg *tls.Config, insecure bool) http.RoundTripper {
	var p http.Protocols
	p.SetHTTP2(true)
	if insecure {
		p.SetUnencryptedHTTP2(true)
	}
	if tlsCfg != nil {
		tlsCfg = tlsCfg.Clone()
	}
	return &http.Transport{
		Protocols:       &p,
		TLSClientConfig: tlsCfg,
		// Called for every request: the place to refuse cleartext targets
		// when insecure is false (net/http would speak HTTP/1.1 to them).
		Proxy: func(r *http.Request) (*url.URL, error) {
			if r.URL.Scheme == "https" {
				return http.ProxyFromEnvironment(r)
			}
			if !insecure {
				return nil, errors.New("cleartext target with a TLS-only transport")
			}
			return nil, nil
		},
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		MaxIdleConnsPerHost: 2,
	}
}

// Invoke makes one unary gRPC call: it sends req (an encoded protobuf
// message) to method on target through rt and returns the response message.
//
// target is "http://host:port" or "https://host:port"; its path is ignored,
// as gRPC clients do. method is the full method name,
// "/package.Service/Method" (the leading slash may be left out). md is sent
// as request metadata (text values only; nil for none); its values never
// appear in errors. With gzipped, req is already compressed with gzip and
// announced as such (grpc-encoding); responses may be gzipped either way. ctx's deadline, if any, is sent as grpc-timeout and
// bounds the whole call.
//
// The error is a *StatusError when the server answered with a status other
// than OK (or with an HTTP error or a malformed gRPC response, mapped to a
// code as the gRPC protocol says); errors.As finds it. Any other error means
// no answer: the connection could not be made or broke (retryable), or ctx
// ended (the error wraps ctx.Err()).
func Invoke(ctx context.Context, rt http.RoundTripper, target, method string, req []byte, md http.Header, gzipped bool) ([]byte, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("grpc target %q: want http://host:port or https://host:port", redact.Endpoint(target))
	}
	u = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/" + strings.TrimPrefix(method, "/")}

	body := appendFrame(make([]byte, 0, prefixLen+len(req)), req, gzipped)

	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("grpc %s: %w", u.Path, err)
	}
	for k, vs := range md {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	hreq.Header.Set("Content-Type", "application/grpc+proto")
	hreq.Header.Set("Te", "trailers")
	hreq.Header.Set("User-Agent", "graphsignal-grpcunary")
	hreq.Header.Set("Grpc-Accept-Encoding", "gzip")
	if gzipped {
		hreq.Header.Set("Grpc-Encoding", "gzip")
	}
	if dl, ok := ctx.Deadline(); ok {
		hreq.Header.Set("Grpc-Timeout", encodeTimeout(time.Until(dl)))
	}

	resp, err := rt.RoundTrip(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("grpc %s: %w", u.Path, ctx.Err())
		}
		return nil, fmt.Errorf("grpc %s: %w", u.Path, err)
	}
	defer resp.Body.Close()
	out, err := readResponse(resp)
	if err != nil && ctx.Err() != nil && !isStatus(err) {
		return nil, fmt.Errorf("grpc %s: %w", u.Path, ctx.Err())
	}
	if err != nil && !isStatus(err) {
		return nil, fmt.Errorf("grpc %s: %w", u.Path, err)
	}
	return out, err
}

func isStatus(err error) bool {
	var se *StatusError
	return errors.As(err, &se)
}

// readResponse reads a unary gRPC response: a trailers-only response, or
// headers, one message and trailers. It returns a *StatusError for a non-OK
// status and plain errors for a stream that broke.
func readResponse(resp *http.Response) ([]byte, error) {
	h := resp.Header
	if code, serr, ok := parseStatus(h.Get("Grpc-Status"), h.Get("Grpc-Message"), h.Get("Grpc-Status-Details-Bin")); ok {
		// Trailers-only: the status is in the headers.
		if code != OK {
			return nil, serr
		}
		return nil, &StatusError{Code: Internal, Message: "server sent no response message"}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Code: httpStatusCode(resp.StatusCode), Message: "unexpected HTTP status " + resp.Status}
	}
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || !isGRPCType(mt) {
		return nil, &StatusError{Code: Unknown, Message: "unexpected content type " + strings.TrimSpace(h.Get("Content-Type"))}
	}

	msg, compressed, ferr := readFrame(resp.Body, maxResponse)
	if ferr == errTooLarge {
		return nil, &StatusError{Code: ResourceExhausted, Message: "response message larger than the limit"}
	}
	// Drain to the trailers, whatever came first.
	var extra bool
	if ferr == nil {
		n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse))
		if err != nil {
			return nil, err
		}
		extra = n > 0
	}
	t := resp.Trailer
	code, serr, ok := parseStatus(t.Get("Grpc-Status"), t.Get("Grpc-Message"), t.Get("Grpc-Status-Details-Bin"))
	switch {
	case ferr != nil && ferr != errNoMessage:
		return nil, ferr
	case !ok:
		return nil, &StatusError{Code: Internal, Message: "server sent no grpc-status"}
	case code != OK:
		return nil, serr
	case ferr == errNoMessage:
		return nil, &StatusError{Code: Internal, Message: "server sent no response message"}
	case extra:
		return nil, &StatusError{Code: Internal, Message: "server sent more than one response message"}
	}
	if compressed {
		if enc := h.Get("Grpc-Encoding"); enc != "gzip" {
			return nil, &StatusError{Code: Internal, Message: "compressed response with encoding " + strconv.Quote(enc)}
		}
		out, err := gunzip(msg, maxResponse)
		if err != nil {
			return nil, &StatusError{Code: Internal, Message: "response message: " + err.Error()}
		}
		return out, nil
	}
	return msg, nil
}

// isGRPCType reports whether mt is application/grpc or application/grpc+x.
func isGRPCType(mt string) bool {
	return mt == "application/grpc" || strings.HasPrefix(mt, "application/grpc+")
}
