package httpintake

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestNodeOTelSDK runs testdata/node-otel/export-spans.js: the OpenTelemetry
// JS SDK from npm (@opentelemetry/sdk-trace-node 2.12 with the OTLP
// exporters 0.223), configured only through OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_PROTOCOL and TRACEPARENT, as a child of graphsignal run
// would be: over OTLP/HTTP (protobuf, JSON) and over OTLP/gRPC, both with
// the bare gRPC endpoint the child gets with OTEL_EXPORTER_OTLP_PROTOCOL=grpc
// and with the HTTP endpoint (a program that picks the gRPC exporter in its
// code; the exporter ignores the path).
func TestNodeOTelSDK(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "testdata", "node-otel"))
	if err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found in PATH; install Node.js >= 20.6 to run the OTel JS SDK test")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@opentelemetry", "sdk-trace-node")); err != nil {
		t.Skipf("%s/node_modules is missing: run testdata/node-otel/install.sh", dir)
	}
	tests := []struct {
		name, arg, protocol, encoding string
		grpcEndpoint                  bool
	}{
		{name: "proto", arg: "proto", encoding: "proto"},
		{name: "json", arg: "json", encoding: "json"},
		{name: "grpc", protocol: "grpc", encoding: "grpc", grpcEndpoint: true},
		{name: "grpc exporter with the HTTP endpoint", arg: "grpc", encoding: "grpc"},
	}
	for _, tt := range tests {
		encoding := tt.encoding
		t.Run(tt.name, func(t *testing.T) {
			s, col := startIntake(t, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			args := []string{"export-spans.js"}
			if tt.arg != "" {
				args = append(args, tt.arg)
			}
			cmd := exec.CommandContext(ctx, node, args...)
			cmd.Dir = dir
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "OTEL_") && !strings.HasPrefix(kv, "TRACEPARENT=") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			endpoint := s.Endpoint()
			if tt.grpcEndpoint {
				endpoint = s.GRPCEndpoint()
			}
			cmd.Env = append(cmd.Env,
				"OTEL_EXPORTER_OTLP_ENDPOINT="+endpoint,
				"TRACEPARENT=00-"+testTrace.String()+"-"+testRunSpan.String()+"-01")
			if tt.protocol != "" {
				cmd.Env = append(cmd.Env, "OTEL_EXPORTER_OTLP_PROTOCOL="+tt.protocol)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("node export-spans.js %s: %v\nstderr:\n%s", encoding, err, stderr.String())
			}
			var ids struct {
				Root, Child struct {
					TraceID string `json:"trace_id"`
					SpanID  string `json:"span_id"`
				}
			}
			if err := json.Unmarshal(out, &ids); err != nil {
				t.Fatalf("node output %q: %v", out, err)
			}
			spans := map[string]telemetry.Span{}
			for _, sp := range col.all().Spans {
				spans[sp.SpanID.String()] = sp
			}
			root, okR := spans[ids.Root.SpanID]
			child, okC := spans[ids.Child.SpanID]
			if !okR || !okC || len(spans) != 2 {
				t.Fatalf("node reported root %s child %s; intake got %d spans: %v", ids.Root.SpanID, ids.Child.SpanID, len(spans), spans)
			}
			if root.TraceID.String() != ids.Root.TraceID || root.TraceID != testTrace || child.TraceID != testTrace {
				t.Errorf("trace ids root %s child %s, node said %s, run's %s", root.TraceID, child.TraceID, ids.Root.TraceID, testTrace)
			}
			if root.ParentSpanID != testRunSpan || child.ParentSpanID != root.SpanID {
				t.Errorf("parents: root %s (want run %s), child %s (want %s)", root.ParentSpanID, testRunSpan, child.ParentSpanID, root.SpanID)
			}
			if root.Name != "node-root" || child.Name != "node-child" || child.Status != telemetry.StatusError ||
				len(child.Exceptions) != 1 || child.Exceptions[0].Message != "node boom" || child.Exceptions[0].Type != "TypeError" {
				t.Errorf("child = %+v", child)
			}
			if child.Attributes["llm.model"] != "gpt-test" || child.Attributes["resource.service.name"] != "node-otel-test" ||
				root.Attributes["test.encoding"] != encoding || child.Attributes["ok"] != true {
				t.Errorf("attributes root %v child %v", root.Attributes, child.Attributes)
			}
			if child.Attributes["tokens"] != int64(42) && child.Attributes["tokens"] != float64(42) {
				t.Errorf("tokens = %#v, want 42", child.Attributes["tokens"])
			}
			if st := s.Stats(); (encoding == "grpc") != (st.Requests[routeGRPCTraces] > 0) {
				t.Errorf("requests %v: gRPC traces counted %d times for %s", st.Requests, st.Requests[routeGRPCTraces], encoding)
			}
		})
	}
}
