package otlpexport

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/encoding/gzip" // the server accepts gzip requests
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/graphsignal/graphsignal/internal/redact"
	"github.com/graphsignal/graphsignal/internal/upload"
)

// grpcReceiver is a real grpc-go server with the three OTLP services.
type grpcReceiver struct {
	ptraceotlp.UnimplementedGRPCServer
	mu      sync.Mutex
	traces  []ptrace.Traces
	metrics []pmetric.Metrics
	logs    []plog.Logs
	md      []metadata.MD
	fail    error // returned by every Export when set
	partial bool  // answer with a partial success
}

type grpcMetrics struct {
	pmetricotlp.UnimplementedGRPCServer
	r *grpcReceiver
}

type grpcLogs struct {
	plogotlp.UnimplementedGRPCServer
	r *grpcReceiver
}

func (r *grpcReceiver) record(ctx context.Context, f func()) (bool, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.md = append(r.md, md)
	f()
	return r.partial, r.fail
}

func (r *grpcReceiver) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	partial, err := r.record(ctx, func() { r.traces = append(r.traces, req.Traces()) })
	resp := ptraceotlp.NewExportResponse()
	if partial {
		resp.PartialSuccess().SetRejectedSpans(2)
		resp.PartialSuccess().SetErrorMessage("spans too old")
	}
	return resp, err
}

func (m *grpcMetrics) Export(ctx context.Context, req pmetricotlp.ExportRequest) (pmetricotlp.ExportResponse, error) {
	_, err := m.r.record(ctx, func() { m.r.metrics = append(m.r.metrics, req.Metrics()) })
	return pmetricotlp.NewExportResponse(), err
}

func (l *grpcLogs) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	_, err := l.r.record(ctx, func() { l.r.logs = append(l.r.logs, req.Logs()) })
	return plogotlp.NewExportResponse(), err
}

// startGRPC serves r on 127.0.0.1 in cleartext HTTP/2 (or with opts) and
// returns the target URL.
func startGRPC(t *testing.T, r *grpcReceiver, opts ...grpc.ServerOption) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(opts...)
	ptraceotlp.RegisterGRPCServer(gs, r)
	pmetricotlp.RegisterGRPCServer(gs, &grpcMetrics{r: r})
	plogotlp.RegisterGRPCServer(gs, &grpcLogs{r: r})
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

func grpcConfig(t *testing.T, target string) Config {
	t.Helper()
	cfg, err := FromEnv([]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + strings.TrimPrefix(target, "http://"),
		"OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
		"OTEL_EXPORTER_OTLP_INSECURE=true",
		"OTEL_EXPORTER_OTLP_HEADERS=Authorization=" + strings.ReplaceAll(secretHeader, " ", "%20"),
		"OTEL_RESOURCE_ATTRIBUTES=deployment.environment.name=ci",
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestSendGRPC(t *testing.T) {
	r := &grpcReceiver{}
	target := startGRPC(t, r)
	s := newSender(t, grpcConfig(t, target))
	if got, want := s.Name(), "OTLP "+target+" (grpc)"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
	res, err := s.Send(context.Background(), testBatch())
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res.Bytes == 0 || res.Rejected != 0 {
		t.Errorf("Result = %+v", res)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.traces) != 1 || len(r.metrics) != 1 || len(r.logs) != 1 {
		t.Fatalf("received %d/%d/%d requests, want one of each", len(r.traces), len(r.metrics), len(r.logs))
	}
	checkTraces(t, r.traces[0])
	checkMetrics(t, r.metrics[0])
	checkLogs(t, r.logs[0])
	for _, md := range r.md {
		if got := md.Get("authorization"); len(got) != 1 || got[0] != secretHeader {
			t.Errorf("metadata authorization = %q, want the header", got)
		}
	}
}

func TestSendGRPCStatus(t *testing.T) {
	retryInfo := func(code codes.Code, d time.Duration) error {
		st, err := status.New(code, "slow down").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(d)})
		if err != nil {
			t.Fatal(err)
		}
		return st.Err()
	}
	tests := []struct {
		name       string
		err        error
		permanent  bool
		tooLarge   bool
		retryAfter time.Duration
		reason     string
	}{
		{"unavailable", status.Error(codes.Unavailable, "down"), false, false, 0, "unavailable: down"},
		{"deadline exceeded", status.Error(codes.DeadlineExceeded, ""), false, false, 0, "deadline exceeded"},
		{"aborted", status.Error(codes.Aborted, "x"), false, false, 0, "aborted: x"},
		{"resource exhausted with RetryInfo", retryInfo(codes.ResourceExhausted, 3*time.Second), false, false, 3 * time.Second, "resource exhausted: slow down"},
		{"unavailable with RetryInfo", retryInfo(codes.Unavailable, 1500*time.Millisecond), false, false, 1500 * time.Millisecond, "unavailable: slow down"},
		{"resource exhausted without RetryInfo", status.Error(codes.ResourceExhausted, "quota"), true, false, 0, "resource exhausted: quota"},
		{"message too large", status.Error(codes.ResourceExhausted, "grpc: received message larger than max (5 vs. 4)"), false, true, 0, ""},
		{"invalid argument", status.Error(codes.InvalidArgument, "bad ids"), true, false, 0, "invalid argument: bad ids"},
		{"unauthenticated echoing the key", status.Error(codes.Unauthenticated, "no "+secretHeader), true, false, 0, "unauthenticated: no [REDACTED]"},
		{"permission denied", status.Error(codes.PermissionDenied, ""), true, false, 0, "permission denied"},
		{"unimplemented", status.Error(codes.Unimplemented, ""), true, false, 0, "unimplemented"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &grpcReceiver{fail: tt.err}
			s := newSender(t, grpcConfig(t, startGRPC(t, r)))
			res, err := s.Send(context.Background(), testBatch())
			if strings.HasPrefix(tt.reason, "invalid argument") {
				// Refused as invalid: the signal's records are rejected,
				// the other signals sent (TestOneSignalRefused).
				if err != nil || res.Rejected == 0 || !strings.Contains(res.Message, tt.reason) {
					t.Errorf("Send = %+v, %v; want records rejected with %q", res, err, tt.reason)
				}
				return
			}
			if err == nil {
				t.Fatal("Send = nil error")
			}
			if strings.Contains(err.Error(), "tok-123") {
				t.Errorf("error quotes the header value: %v", err)
			}
			var perm *upload.PermanentError
			var retry *upload.RetryableError
			switch {
			case tt.tooLarge:
				if !errors.Is(err, upload.ErrTooLarge) {
					t.Errorf("err = %v, want ErrTooLarge", err)
				}
			case tt.permanent:
				if !errors.As(err, &perm) || perm.Reason != strings.ReplaceAll(tt.reason, "[REDACTED]", redact.Redacted) || perm.Request {
					t.Errorf("err = %#v, want PermanentError %q of the sender", err, tt.reason)
				}
			default:
				if !errors.As(err, &retry) || retry.RetryAfter != tt.retryAfter || retry.Reason != tt.reason {
					t.Errorf("err = %#v, want RetryableError %v %q", err, tt.retryAfter, tt.reason)
				}
			}
		})
	}
}

func TestSendGRPCPartialSuccess(t *testing.T) {
	r := &grpcReceiver{partial: true}
	s := newSender(t, grpcConfig(t, startGRPC(t, r)))
	res, err := s.Send(context.Background(), testBatch())
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected != 2 || res.Message != "spans too old" {
		t.Errorf("Result = %+v, want Rejected 2, Message %q", res, "spans too old")
	}
}

func TestSendGRPCTLS(t *testing.T) {
	pki := newTestPKI(t)
	r := &grpcReceiver{}
	creds := credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{pki.server},
		ClientCAs:    pki.pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	})
	target := strings.Replace(startGRPC(t, r, grpc.Creds(creds)), "http://", "https://", 1)
	dir := t.TempDir()
	env := []string{
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + target,
		"OTEL_EXPORTER_OTLP_PROTOCOL=grpc",
		"OTEL_EXPORTER_OTLP_CERTIFICATE=" + writeFile(t, dir, "ca.pem", pki.caPEM),
		"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=" + writeFile(t, dir, "c.pem", pki.clientCertPEM),
		"OTEL_EXPORTER_OTLP_CLIENT_KEY=" + writeFile(t, dir, "k.pem", pki.clientKeyPEM),
	}
	cfg, err := FromEnv(env, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newSender(t, cfg).Send(context.Background(), testBatch()); err != nil {
		t.Fatalf("Send over TLS with a client certificate: %v", err)
	}
	r.mu.Lock()
	n := len(r.traces)
	r.mu.Unlock()
	if n != 1 {
		t.Errorf("received %d trace requests, want 1", n)
	}

	// Without the CA: the server is not trusted, a permanent error.
	cfg, err = FromEnv(env[:2], "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = newSender(t, cfg).Send(context.Background(), testBatch())
	var perm *upload.PermanentError
	if !errors.As(err, &perm) {
		t.Errorf("Send without the CA = %v, want a permanent error", err)
	}
}

func TestSendGRPCUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := "http://" + ln.Addr().String()
	_ = ln.Close()
	s := newSender(t, grpcConfig(t, target))
	_, err = s.Send(context.Background(), testBatch())
	var perm *upload.PermanentError
	if err == nil || errors.As(err, &perm) || strings.Contains(err.Error(), "tok-123") {
		t.Errorf("Send to a closed port = %v, want a retryable transport error without secrets", err)
	}
}
