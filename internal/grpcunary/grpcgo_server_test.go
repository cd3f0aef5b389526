package grpcunary_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // the server accepts gzip requests
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/graphsignal/graphsignal/internal/grpcunary"
)

const exportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

// traceServer is a grpc-go OTLP trace service whose answer each test sets.
type traceServer struct {
	ptraceotlp.UnimplementedGRPCServer
	mu     sync.Mutex
	got    []ptraceotlp.ExportRequest
	md     []metadata.MD
	answer func(ctx context.Context) (ptraceotlp.ExportResponse, error)
}

func (s *traceServer) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	s.mu.Lock()
	s.got = append(s.got, req)
	s.md = append(s.md, md)
	answer := s.answer
	s.mu.Unlock()
	if answer != nil {
		return answer(ctx)
	}
	return ptraceotlp.NewExportResponse(), nil
}

// startGRPCGo serves srv with a real grpc-go server on loopback (h2c) and
// returns its target URL.
func startGRPCGo(t *testing.T, srv *traceServer, opts ...grpc.ServerOption) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(opts...)
	ptraceotlp.RegisterGRPCServer(gs, srv)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = gs.Serve(ln)
	}()
	t.Cleanup(func() {
		gs.Stop()
		<-done
	})
	return "http://" + ln.Addr().String()
}

func newTransport(t *testing.T) http.RoundTripper {
	t.Helper()
	rt := grpcunary.NewTransport(nil, true)
	t.Cleanup(rt.(*http.Transport).CloseIdleConnections)
	return rt
}

func exportRequest(spans int) ptraceotlp.ExportRequest {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty()
	for i := range spans {
		sp := ss.Spans().AppendEmpty()
		sp.SetName("span-" + strings.Repeat("x", i%7))
		sp.SetTraceID([16]byte{1, 2, 3})
		sp.SetSpanID([8]byte{byte(i + 1)})
	}
	return ptraceotlp.NewExportRequestFromTraces(td)
}

func TestInvokeAgainstGRPCGo(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(map[bool]string{false: "identity", true: "gzip"}[gz], func(t *testing.T) {
			srv := &traceServer{answer: func(context.Context) (ptraceotlp.ExportResponse, error) {
				resp := ptraceotlp.NewExportResponse()
				resp.PartialSuccess().SetRejectedSpans(2)
				resp.PartialSuccess().SetErrorMessage("two were bad")
				return resp, nil
			}}
			target := startGRPCGo(t, srv)
			req := exportRequest(50)
			body, err := req.MarshalProto()
			if err != nil {
				t.Fatal(err)
			}
			md := http.Header{"Authorization": {"Bearer s3cret"}, "X-Tenant": {"a", "b"}}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out, err := grpcunary.Invoke(ctx, newTransport(t), target, exportMethod, maybeGzip(body, gz), md, gz)
			if err != nil {
				t.Fatalf("Invoke = %v", err)
			}
			resp := ptraceotlp.NewExportResponse()
			if err := resp.UnmarshalProto(out); err != nil {
				t.Fatal(err)
			}
			if got := resp.PartialSuccess().RejectedSpans(); got != 2 {
				t.Errorf("rejected spans = %d, want 2", got)
			}
			if got := resp.PartialSuccess().ErrorMessage(); got != "two were bad" {
				t.Errorf("partial success message = %q", got)
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			if len(srv.got) != 1 || srv.got[0].Traces().SpanCount() != 50 {
				t.Fatalf("server got %d requests", len(srv.got))
			}
			if got := srv.md[0].Get("authorization"); len(got) != 1 || got[0] != "Bearer s3cret" {
				t.Errorf("authorization metadata = %q", got)
			}
			if got := srv.md[0].Get("x-tenant"); len(got) != 2 {
				t.Errorf("x-tenant metadata = %q, want two values", got)
			}
			if got := srv.md[0].Get("grpc-accept-encoding"); gz && len(got) == 0 {
				t.Errorf("no grpc-accept-encoding")
			}
		})
	}
}

func TestInvokeStatusFromGRPCGo(t *testing.T) {
	retryable := func() error {
		st, err := status.New(codes.Unavailable, "busy, come back ünder 3 s 100%").
			WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(3*time.Second + 5*time.Millisecond)})
		if err != nil {
			panic(err)
		}
		return st.Err()
	}
	tests := []struct {
		name string
		err  error
		want grpcunary.StatusError
	}{
		{"unavailable with retry info", retryable(), grpcunary.StatusError{Code: grpcunary.Unavailable, Message: "busy, come back ünder 3 s 100%", RetryAfter: 3*time.Second + 5*time.Millisecond}},
		{"invalid argument", status.Error(codes.InvalidArgument, "bad\nspan"), grpcunary.StatusError{Code: grpcunary.InvalidArgument, Message: "bad\nspan"}},
		{"unauthenticated", status.Error(codes.Unauthenticated, ""), grpcunary.StatusError{Code: grpcunary.Unauthenticated}},
		{"plain error", errors.New("boom"), grpcunary.StatusError{Code: grpcunary.Unknown, Message: "boom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &traceServer{answer: func(context.Context) (ptraceotlp.ExportResponse, error) {
				return ptraceotlp.NewExportResponse(), tt.err
			}}
			target := startGRPCGo(t, srv)
			body, _ := exportRequest(1).MarshalProto()
			_, err := grpcunary.Invoke(context.Background(), newTransport(t), target, exportMethod, body, nil, false)
			var se *grpcunary.StatusError
			if !errors.As(err, &se) {
				t.Fatalf("Invoke error = %v, want a *StatusError", err)
			}
			if *se != tt.want {
				t.Errorf("Invoke error = %+v, want %+v", *se, tt.want)
			}
		})
	}
}

func TestInvokeUnknownMethod(t *testing.T) {
	target := startGRPCGo(t, &traceServer{})
	_, err := grpcunary.Invoke(context.Background(), newTransport(t), target, "/no.Such/Method", nil, nil, false)
	var se *grpcunary.StatusError
	if !errors.As(err, &se) || se.Code != grpcunary.Unimplemented {
		t.Fatalf("Invoke = %v, want Unimplemented", err)
	}
}

func TestInvokeDeadlineReachesGRPCGo(t *testing.T) {
	seen := make(chan time.Duration, 1)
	release := make(chan struct{})
	defer close(release)
	srv := &traceServer{answer: func(ctx context.Context) (ptraceotlp.ExportResponse, error) {
		dl, _ := ctx.Deadline()
		seen <- time.Until(dl)
		select {
		case <-ctx.Done():
		case <-release:
		}
		return ptraceotlp.NewExportResponse(), ctx.Err()
	}}
	target := startGRPCGo(t, srv)
	body, _ := exportRequest(1).MarshalProto()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := grpcunary.Invoke(ctx, newTransport(t), target, exportMethod, body, nil, false)
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("Invoke took %v with a 300ms deadline", elapsed)
	}
	// Either the server's DeadlineExceeded status or our context's end,
	// whichever came first; never success.
	var se *grpcunary.StatusError
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &se) && se.Code == grpcunary.DeadlineExceeded) {
		t.Errorf("Invoke = %v, want a deadline error", err)
	}
	if d := <-seen; d <= 0 || d > 300*time.Millisecond {
		t.Errorf("server saw a deadline %v away, want (0, 300ms]", d)
	}
}

func TestInvokeOversizedForGRPCGo(t *testing.T) {
	target := startGRPCGo(t, &traceServer{}, grpc.MaxRecvMsgSize(1024))
	body, _ := exportRequest(200).MarshalProto()
	_, err := grpcunary.Invoke(context.Background(), newTransport(t), target, exportMethod, body, nil, false)
	var se *grpcunary.StatusError
	if !errors.As(err, &se) || se.Code != grpcunary.ResourceExhausted {
		t.Fatalf("Invoke(%d bytes) = %v, want ResourceExhausted", len(body), err)
	}
}

func TestInvokeNoServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := "http://" + ln.Addr().String()
	ln.Close()
	_, err = grpcunary.Invoke(context.Background(), newTransport(t), target, exportMethod, nil, http.Header{"Authorization": {"s3cret"}}, false)
	var se *grpcunary.StatusError
	if err == nil || errors.As(err, &se) {
		t.Fatalf("Invoke to a closed port = %v, want a transport error", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q contains a metadata value", err)
	}
}

func isStatus(err error) bool {
	var se *grpcunary.StatusError
	return errors.As(err, &se)
}
