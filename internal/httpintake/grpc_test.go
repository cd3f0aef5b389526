package httpintake

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/status"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// dialGRPC connects a real grpc-go client to the intake's gRPC endpoint.
func dialGRPC(t *testing.T, s *Server) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(strings.TrimPrefix(s.GRPCEndpoint(), "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func grpcTraces() ptraceotlp.ExportRequest {
	td := ptrace.NewTraces()
	sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetName("grpc-span")
	sp.SetTraceID([16]byte(testTrace))
	sp.SetSpanID([8]byte{7, 7, 7})
	sp.Attributes().PutStr("k", "v")
	return ptraceotlp.NewExportRequestFromTraces(td)
}

// TestGRPCOTLP sends each OTLP signal with grpc-go's clients (the
// Collector's pdata wrappers) to the intake, on the port that also serves
// OTLP/HTTP.
func TestGRPCOTLP(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "identity", true: "gzip"}[compress], func(t *testing.T) {
			s, col := startIntake(t, nil)
			cc := dialGRPC(t, s)
			var opts []grpc.CallOption
			if compress {
				opts = append(opts, grpc.UseCompressor(gzip.Name))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()

			if _, err := ptraceotlp.NewGRPCClient(cc).Export(ctx, grpcTraces(), opts...); err != nil {
				t.Fatalf("trace Export: %v", err)
			}
			md := pmetric.NewMetrics()
			g := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
			g.SetName("queue.depth")
			g.SetEmptyGauge().DataPoints().AppendEmpty().SetDoubleValue(3)
			if _, err := pmetricotlp.NewGRPCClient(cc).Export(ctx, pmetricotlp.NewExportRequestFromMetrics(md), opts...); err != nil {
				t.Fatalf("metrics Export: %v", err)
			}
			ld := plog.NewLogs()
			lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
			lr.Body().SetStr("hello over grpc")
			lr.SetSeverityNumber(plog.SeverityNumberWarn)
			if _, err := plogotlp.NewGRPCClient(cc).Export(ctx, plogotlp.NewExportRequestFromLogs(ld), opts...); err != nil {
				t.Fatalf("logs Export: %v", err)
			}

			got := col.all()
			if len(got.Spans) != 1 || got.Spans[0].Name != "grpc-span" || got.Spans[0].ParentSpanID != testRunSpan ||
				got.Spans[0].Tags["session_id"] != "s-1" || got.Spans[0].Attributes["graphsignal.intake"] != "otlp" {
				t.Errorf("spans = %+v", got.Spans)
			}
			if len(got.Metrics) != 1 || got.Metrics[0].Name != "queue.depth" || got.Metrics[0].Value != 3 {
				t.Errorf("metrics = %+v", got.Metrics)
			}
			if len(got.Logs) != 1 || got.Logs[0].Message != "hello over grpc" || got.Logs[0].Level != "warning" {
				t.Errorf("logs = %+v", got.Logs)
			}
			st := s.Stats()
			for _, r := range []string{routeGRPCTraces, routeGRPCMetrics, routeGRPCLogs} {
				if st.Requests[r] != 1 {
					t.Errorf("requests[%s] = %d, want 1", r, st.Requests[r])
				}
			}
			if st.Spans != 1 || st.Metrics != 1 || st.Logs != 1 || st.Unauthorized != 0 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

// TestGRPCRefusals covers the calls the intake refuses, each with its gRPC
// status and its counter, and checks nothing reaches the consumer.
func TestGRPCRefusals(t *testing.T) {
	tests := []struct {
		name     string
		mod      func(*Config)
		server   func(*Server)
		call     func(ctx context.Context, cc *grpc.ClientConn) error
		want     codes.Code
		counter  func(Stats) uint64
		wantHTTP map[string]uint64
	}{
		{
			name:   "another user",
			server: func(s *Server) { s.uid = uint32(os.Getuid()) + 1 },
			call: func(ctx context.Context, cc *grpc.ClientConn) error {
				_, err := ptraceotlp.NewGRPCClient(cc).Export(ctx, grpcTraces())
				return err
			},
			want:     codes.PermissionDenied,
			counter:  func(st Stats) uint64 { return st.Unauthorized },
			wantHTTP: map[string]uint64{routeGRPCTraces: 1},
		},
		{
			name: "caller cannot be identified",
			server: func(s *Server) {
				s.peerUID = func(netip.AddrPort, netip.AddrPort) (uint32, error) { return 0, errors.New("no table") }
			},
			call: func(ctx context.Context, cc *grpc.ClientConn) error {
				_, err := ptraceotlp.NewGRPCClient(cc).Export(ctx, grpcTraces())
				return err
			},
			want:     codes.PermissionDenied,
			counter:  func(st Stats) uint64 { return st.Unauthorized },
			wantHTTP: map[string]uint64{routeGRPCTraces: 1},
		},
		{
			name: "undecodable message",
			call: func(ctx context.Context, cc *grpc.ClientConn) error {
				return cc.Invoke(ctx, grpcTracesMethod, &rawMessage{0x0a, 0x05, 0x01}, &rawMessage{}, grpc.ForceCodec(rawCodec{}))
			},
			want:     codes.InvalidArgument,
			counter:  func(st Stats) uint64 { return st.BadRequests },
			wantHTTP: map[string]uint64{routeGRPCTraces: 1},
		},
		{
			name: "oversized message",
			mod:  func(c *Config) { c.MaxBodyBytes = 256 },
			call: func(ctx context.Context, cc *grpc.ClientConn) error {
				req := grpcTraces()
				req.Traces().ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SetName(strings.Repeat("n", 1000))
				_, err := ptraceotlp.NewGRPCClient(cc).Export(ctx, req, grpc.UseCompressor(gzip.Name))
				return err
			},
			want:     codes.ResourceExhausted,
			counter:  func(st Stats) uint64 { return st.TooLarge },
			wantHTTP: map[string]uint64{routeGRPCTraces: 1},
		},
		{
			name: "unknown method",
			call: func(ctx context.Context, cc *grpc.ClientConn) error {
				return cc.Invoke(ctx, "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export", &rawMessage{}, &rawMessage{}, grpc.ForceCodec(rawCodec{}))
			},
			want:     codes.Unimplemented,
			wantHTTP: map[string]uint64{routeNotFound: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, col := bindIntakeWith(t, tt.mod)
			if tt.server != nil {
				tt.server(s) // before Serve: no request reads it concurrently
			}
			s.Serve()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := tt.call(ctx, dialGRPC(t, s))
			if status.Code(err) != tt.want {
				t.Fatalf("call = %v, want %v", err, tt.want)
			}
			st := s.Stats()
			if tt.counter == nil {
				// counted by route only
			} else if n := tt.counter(st); n != 1 {
				t.Errorf("counter = %d, want 1 (stats %+v)", n, st)
			}
			for r, n := range tt.wantHTTP {
				if st.Requests[r] != n {
					t.Errorf("requests[%s] = %d, want %d", r, st.Requests[r], n)
				}
			}
			if b := col.all(); b.Len() != 0 {
				t.Errorf("consumer got %d records from a refused call", b.Len())
			}
		})
	}
}

// rawMessage is a grpc-go message of raw bytes, for requests no generated
// type would send, sent with rawCodec.
type rawMessage []byte

// rawCodec is a grpc-go codec that sends and receives rawMessage as it is.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *v.(*rawMessage), nil }
func (rawCodec) Unmarshal(b []byte, v any) error {
	*v.(*rawMessage) = append((*v.(*rawMessage))[:0], b...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// TestOTelGoSDKOverGRPC exports spans with the OpenTelemetry Go SDK's gRPC
// exporter configured through OTEL_EXPORTER_OTLP_ENDPOINT, as the child
// gets it: the bare gRPC endpoint, and the HTTP endpoint with its prefix
// (the Go exporter ignores a path).
func TestOTelGoSDKOverGRPC(t *testing.T) {
	for _, withPrefix := range []bool{false, true} {
		t.Run(map[bool]string{false: "bare endpoint", true: "endpoint with prefix"}[withPrefix], func(t *testing.T) {
			s, col := startIntake(t, nil)
			endpoint := s.GRPCEndpoint()
			if withPrefix {
				endpoint = s.Endpoint()
			}
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
			ctx := context.Background()
			exp, err := otlptracegrpc.New(ctx)
			if err != nil {
				t.Fatalf("otlptracegrpc.New: %v", err)
			}
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
			traceparent := "00-" + testTrace.String() + "-" + testRunSpan.String() + "-01"
			parent := propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": traceparent})
			tracer := tp.Tracer("grpc-test")
			rctx, root := tracer.Start(parent, "grpc-root")
			_, child := tracer.Start(rctx, "grpc-child")
			child.SetAttributes(attribute.Int("n", 1))
			child.End()
			root.End()
			if err := tp.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			spans := map[string]telemetry.Span{}
			for _, sp := range col.all().Spans {
				spans[sp.Name] = sp
			}
			r, c := spans["grpc-root"], spans["grpc-child"]
			if len(spans) != 2 || r.TraceID != testTrace || r.ParentSpanID != testRunSpan ||
				c.ParentSpanID != telemetry.SpanID(root.SpanContext().SpanID()) || c.SpanID != telemetry.SpanID(child.SpanContext().SpanID()) {
				t.Errorf("spans = %+v", spans)
			}
			if s.Stats().Requests[routeGRPCTraces] == 0 {
				t.Errorf("no gRPC trace request counted: %+v", s.Stats())
			}
		})
	}
}

// TestGRPCAndHTTPOnOnePort checks OTLP/HTTP over HTTP/1.1 and h2c keeps
// working next to gRPC, and that the capability still guards it: a gRPC
// content type does not open the HTTP routes.
func TestGRPCAndHTTPOnOnePort(t *testing.T) {
	s, col := startIntake(t, nil)
	body, err := grpcTraces().MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	h2 := &http.Transport{Protocols: &p}
	t.Cleanup(h2.CloseIdleConnections)
	for _, c := range []*http.Client{newClient(t), {Transport: h2}} {
		if r := do(t, c, http.MethodPost, s.Endpoint()+"/v1/traces", map[string]string{"Content-Type": ctProtobuf}, body); r.code != http.StatusOK {
			t.Errorf("OTLP/HTTP = %d", r.code)
		}
	}
	if n := len(col.all().Spans); n != 2 {
		t.Errorf("got %d spans over HTTP/1.1 and h2c, want 2", n)
	}
	// A gRPC request to an HTTP route's path, capability included, is still
	// a gRPC call: an unknown method.
	frame := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(body)))
	req, err := http.NewRequest(http.MethodPost, s.Endpoint()+"/v1/traces", bytes.NewReader(append(frame, body...)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/grpc")
	resp, err := h2.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Grpc-Status"); got != "12" || len(col.all().Spans) != 2 {
		t.Errorf("gRPC to /v1/traces: grpc-status %q, spans %d; want 12 (Unimplemented), 2", got, len(col.all().Spans))
	}
}
