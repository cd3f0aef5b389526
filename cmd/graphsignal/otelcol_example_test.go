//go:build linux

package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const exampleCollector = "../../examples/otel-collector/collector.yaml"

// TestCollectorExampleValidates checks examples/otel-collector/collector.yaml
// with `otelcol validate` of a Collector built from the official modules: it
// is valid with the environment the README names, and validation is not a
// formality (without the backend's address it is refused).
func TestCollectorExampleValidates(t *testing.T) {
	bin := otelcolPath(t)
	conf, err := filepath.Abs(exampleCollector)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     []string
		wantErr string // "" for valid
	}{
		{"documented environment", []string{"OTLP_BACKEND_ENDPOINT=https://otlp.example.com", "OTLP_BACKEND_AUTHORIZATION=Bearer t0ken"}, ""},
		{"listen addresses overridden", []string{"OTLP_BACKEND_ENDPOINT=https://otlp.example.com", "OTLP_BACKEND_AUTHORIZATION=Bearer t0ken",
			"OTLP_GRPC_LISTEN=127.0.0.1:14317", "OTLP_HTTP_LISTEN=127.0.0.1:14318"}, ""},
		{"no backend endpoint", nil, "endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, "validate", "--config=file:"+conf)
			cmd.Env = append(isolatedEnv(t.TempDir()), tt.env...)
			out, err := cmd.CombinedOutput()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("otelcol validate %s: %v\n%s", exampleCollector, err, out)
			case tt.wantErr != "" && err == nil:
				t.Errorf("otelcol validate %s succeeded, want an error about %q", exampleCollector, tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(string(out), tt.wantErr):
				t.Errorf("otelcol validate %s: %s, want an error about %q", exampleCollector, out, tt.wantErr)
			}
		})
	}
}

// TestCollectorExampleRelays runs the example as the fleet's Collector: a
// run exports to it, it batches and forwards over OTLP/HTTP to a "backend"
// (a second collector writing files), which gets the whole run.
func TestCollectorExampleRelays(t *testing.T) {
	bin := otelcolPath(t)
	conf, err := filepath.Abs(exampleCollector)
	if err != nil {
		t.Fatal(err)
	}
	backend := startFileSink(t, bin)
	relay := startOtelcol(t, bin, func(grpcAddr, httpAddr string) ([]string, []string) {
		return []string{"--config=file:" + conf}, []string{
			"OTLP_GRPC_LISTEN=" + grpcAddr, "OTLP_HTTP_LISTEN=" + httpAddr,
			"OTLP_BACKEND_ENDPOINT=http://" + backend.HTTPAddr, "OTLP_BACKEND_AUTHORIZATION=Bearer t0ken",
		}
	})
	const session = "s-otelcol-example"
	r := runWithOTLP(t, otlpRun{endpoint: "http://" + relay.HTTPAddr, session: session, flushTimeout: 5 * time.Second}, "socketspans", "0")
	if r.code != 0 {
		t.Fatalf("graphsignal run exited %d, want 0; stderr:\n%s", r.code, r.stderr)
	}
	want := runExpect{program: "socketspans", session: session, ids: parseSpanIDs(t, r.stdout), socket: true}
	// The example batches for up to 5 s before forwarding.
	got := backend.waitFor(t, 30*time.Second, want.missing)
	want.check(t, got)
}
