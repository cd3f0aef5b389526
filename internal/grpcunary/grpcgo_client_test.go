package grpcunary_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"

	"github.com/graphsignal/graphsignal/internal/grpcunary"
	"github.com/graphsignal/graphsignal/internal/gzipbody"
)

type serveFunc func(ctx context.Context, method string, req []byte) ([]byte, error)

// startHandler serves grpcunary.Handler on loopback over h2c and HTTP/1.1,
// as the intake does, and returns the listener's address.
func startHandler(t *testing.T, maxMsg int, serve serveFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: grpcunary.Handler(maxMsg, serve), Protocols: &p, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	})
	return ln.Addr().String()
}

// grpcGoClient dials addr with a real grpc-go client.
func grpcGoClient(t *testing.T, addr string) ptraceotlp.GRPCClient {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return ptraceotlp.NewGRPCClient(cc)
}

func TestHandlerServesGRPCGo(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "identity", true: "gzip"}[compress], func(t *testing.T) {
			type call struct {
				method string
				spans  int
			}
			got := make(chan call, 1)
			addr := startHandler(t, 1<<20, func(ctx context.Context, method string, req []byte) ([]byte, error) {
				r := ptraceotlp.NewExportRequest()
				if err := r.UnmarshalProto(req); err != nil {
					return nil, &grpcunary.StatusError{Code: grpcunary.InvalidArgument, Message: err.Error()}
				}
				got <- call{method, r.Traces().SpanCount()}
				resp := ptraceotlp.NewExportResponse()
				resp.PartialSuccess().SetRejectedSpans(1)
				return resp.MarshalProto()
			})
			client := grpcGoClient(t, addr)
			var opts []grpc.CallOption
			if compress {
				opts = append(opts, grpc.UseCompressor(gzip.Name))
			}
			resp, err := client.Export(context.Background(), exportRequest(30), opts...)
			if err != nil {
				t.Fatalf("Export = %v", err)
			}
			if n := resp.PartialSuccess().RejectedSpans(); n != 1 {
				t.Errorf("rejected spans = %d, want 1", n)
			}
			c := <-got
			if c.method != exportMethod || c.spans != 30 {
				t.Errorf("serve got %q with %d spans, want %q with 30", c.method, c.spans, exportMethod)
			}
		})
	}
}

func TestHandlerStatusToGRPCGo(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantCode  codes.Code
		wantMsg   string
		wantRetry time.Duration
	}{
		{"status with retry", &grpcunary.StatusError{Code: grpcunary.Unavailable, Message: "full: 100% ünd\nmore", RetryAfter: 1500 * time.Millisecond}, codes.Unavailable, "full: 100% ünd\nmore", 1500 * time.Millisecond},
		{"wrapped status", errors.Join(errors.New("x"), &grpcunary.StatusError{Code: grpcunary.PermissionDenied, Message: "no"}), codes.PermissionDenied, "no", 0},
		{"plain error", errors.New("kaput"), codes.Unknown, "kaput", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := startHandler(t, 1<<20, func(context.Context, string, []byte) ([]byte, error) { return nil, tt.err })
			_, err := grpcGoClient(t, addr).Export(context.Background(), exportRequest(1))
			st, ok := status.FromError(err)
			if !ok || st.Code() != tt.wantCode || st.Message() != tt.wantMsg {
				t.Fatalf("Export = %v, want %v %q", err, tt.wantCode, tt.wantMsg)
			}
			var retry time.Duration
			for _, d := range st.Details() {
				if ri, ok := d.(*errdetails.RetryInfo); ok {
					retry = ri.GetRetryDelay().AsDuration()
				}
			}
			if retry != tt.wantRetry {
				t.Errorf("retry delay = %v, want %v", retry, tt.wantRetry)
			}
		})
	}
}

func TestHandlerDeadlineFromGRPCGo(t *testing.T) {
	seen := make(chan time.Duration, 1)
	addr := startHandler(t, 1<<20, func(ctx context.Context, _ string, _ []byte) ([]byte, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			seen <- -1
		} else {
			seen <- time.Until(dl)
		}
		<-ctx.Done()
		return nil, &grpcunary.StatusError{Code: grpcunary.DeadlineExceeded, Message: ctx.Err().Error()}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := grpcGoClient(t, addr).Export(ctx, exportRequest(1))
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("Export = %v, want DeadlineExceeded", err)
	}
	if d := <-seen; d <= 0 || d > 200*time.Millisecond {
		t.Errorf("serve saw a deadline %v away, want (0, 200ms]", d)
	}
}

func TestHandlerRefusesOversized(t *testing.T) {
	called := make(chan struct{}, 1)
	addr := startHandler(t, 512, func(context.Context, string, []byte) ([]byte, error) {
		called <- struct{}{}
		return nil, nil
	})
	client := grpcGoClient(t, addr)
	for _, compress := range []bool{false, true} {
		var opts []grpc.CallOption
		if compress {
			// Compresses to well under 512 bytes, expands past it.
			opts = append(opts, grpc.UseCompressor(gzip.Name))
		}
		req := exportRequest(100)
		req.Traces().ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SetName(strings.Repeat("a", 4000))
		_, err := client.Export(context.Background(), req, opts...)
		if status.Code(err) != codes.ResourceExhausted {
			t.Errorf("Export(gzip=%v) = %v, want ResourceExhausted", compress, err)
		}
	}
	select {
	case <-called:
		t.Error("serve was called with an oversized message")
	default:
	}
}

// The handler and the client agree with each other too, including what
// grpc-go cannot be made to send.
func TestInvokeAgainstHandler(t *testing.T) {
	addr := startHandler(t, 1<<20, func(_ context.Context, method string, req []byte) ([]byte, error) {
		if method != "/echo.Echo/Echo" {
			return nil, &grpcunary.StatusError{Code: grpcunary.Unimplemented, Message: method}
		}
		return req, nil
	})
	rt := newTransport(t)
	for _, gz := range []bool{false, true} {
		out, err := grpcunary.Invoke(context.Background(), rt, "http://"+addr, "echo.Echo/Echo", maybeGzip([]byte("hello"), gz), nil, gz)
		if err != nil || string(out) != "hello" {
			t.Errorf("Invoke(gzip=%v) = %q, %v, want hello", gz, out, err)
		}
	}
	// An empty message is a message.
	if out, err := grpcunary.Invoke(context.Background(), rt, "http://"+addr, "/echo.Echo/Echo", nil, nil, false); err != nil || len(out) != 0 {
		t.Errorf("Invoke(empty) = %q, %v", out, err)
	}
}

func TestHandlerRefusesNonGRPC(t *testing.T) {
	addr := startHandler(t, 1<<20, func(context.Context, string, []byte) ([]byte, error) { return nil, nil })
	tests := []struct {
		name  string
		h2    bool
		meth  string
		ctype string
		want  int
	}{
		{"http1", false, http.MethodPost, "application/grpc", http.StatusHTTPVersionNotSupported},
		{"get", true, http.MethodGet, "application/grpc", http.StatusMethodNotAllowed},
		{"json", true, http.MethodPost, "application/json", http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p http.Protocols
			if tt.h2 {
				p.SetUnencryptedHTTP2(true)
			} else {
				p.SetHTTP1(true)
			}
			tr := &http.Transport{Protocols: &p}
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequest(tt.meth, "http://"+addr+exportMethod, strings.NewReader("\x00\x00\x00\x00\x00"))
			req.Header.Set("Content-Type", tt.ctype)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

// gzipped compresses b as the uploaders do before Invoke.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	var w gzipbody.Writer
	w.Compress(&buf, b)
	return buf.Bytes()
}

// maybeGzip is gzipped(b) when gz is set, else b.
func maybeGzip(b []byte, gz bool) []byte {
	if !gz {
		return b
	}
	return gzipped(b)
}
