package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graphsignal/graphsignal/internal/env"
	"github.com/graphsignal/graphsignal/internal/httpintake"
	"github.com/graphsignal/graphsignal/internal/ipc"
	"github.com/graphsignal/graphsignal/internal/sdkconfig"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// intakeDrain bounds how long the intakes keep reading after the child has
// exited, for data its SDKs wrote just before (within the flush timeout).
const intakeDrain = 500 * time.Millisecond

// enqueuer takes records without blocking (the pipeline).
type enqueuer interface {
	Enqueue(b telemetry.Batch) bool
}

// errNoHTTPIntake refuses a nested run's SDK upload when the HTTP intake,
// whose decoder it needs, could not be started.
var errNoHTTPIntake = errors.New("no HTTP intake to decode the SDK upload")

// intakes are the run's local socket and loopback HTTP intake (docs/protocol.md and docs/intake.md).
// Either may be nil when it could not be started; the run goes on without.
type intakes struct {
	sock  *ipc.Server
	http  *httpintake.Server
	token string // the per-run local API key, "" when the child inherits the user's
	// sdkConfig fetches the Graphsignal API's sdk_config in cloud mode
	// (nil otherwise); started by serve, closed by shutdown.
	sdkConfig *sdkconfig.Fetcher
}

// startIntakes binds both intakes, delivering into out: their addresses
// exist (a client that connects waits in the backlog) but nothing serves
// them until serve, which the run calls once the child has started, so that
// setting up the servers overlaps the child instead of delaying it. A
// failure to bind one is warned about on stderr and never stops the run.
// token is the per-run local key the child gets in GRAPHSIGNAL_API_KEY and
// the HTTP intake accepts; "" when the child inherits the user's key
// (inheritedAPIKey), which the intake accepts instead.
func startIntakes(ctx context.Context, cfg *Config, id runIdentity, tags telemetry.Tags, token string, out enqueuer, stderr io.Writer) *intakes {
	in := &intakes{token: token}
	consume := func(b telemetry.Batch) { out.Enqueue(b) }
	var httpSrv atomic.Pointer[httpintake.Server]
	sock, err := ipc.Bind(ctx, ipc.Config{
		TraceID: id.traceID, SpanID: id.spanID, Tags: tags,
		RecordPayloads: cfg.RecordPayloads, Consumer: ipc.ConsumerFunc(consume),
		// Context tags set on the socket apply to what arrives over HTTP too.
		OnTags: func(t telemetry.Tags) {
			if srv := httpSrv.Load(); srv != nil {
				srv.SetTags(t)
			}
		},
		// A nested run's SDK uploads, forwarded whole, are decoded as the
		// HTTP intake decodes the SDK's requests (docs/protocol.md).
		DecodeSDKUpload: func(u ipc.SDKUpload) (telemetry.Batch, error) {
			srv := httpSrv.Load()
			if srv == nil {
				return telemetry.Batch{}, errNoHTTPIntake
			}
			return srv.DecodeForwarded(httpintake.ForwardedUpload{Time: u.Time, Body: u.Body, TraceID: u.TraceID, RunSpan: u.RunSpan})
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "graphsignal: warning: local socket intake: %v (SDKs in the program cannot report)\n", err)
	} else {
		in.sock = sock
	}
	apiKey := cfg.APIKey
	if token != "" {
		apiKey = token
	}
	hcfg := httpintake.Config{
		TraceID: id.traceID, RunSpanID: id.spanID, Tags: tags, APIKey: apiKey,
		RecordPayloads: cfg.RecordPayloads, Consumer: httpintake.ConsumerFunc(consume),
		// Cloud mode: the SDK's uploads are forwarded whole (docs/intake.md).
		PassThrough: cfg.APIKey != "",
	}
	if cfg.APIKey != "" {
		f, err := sdkconfig.New(sdkconfig.Config{APIBase: cfg.APIBase, APIKey: cfg.APIKey, Tags: tags, CacheDir: cfg.DataDir})
		if err != nil {
			fmt.Fprintf(stderr, "graphsignal: warning: %v (the Graphsignal SDK in the program gets the default options)\n", err)
		} else {
			in.sdkConfig, hcfg.SDKConfig = f, f
		}
	}
	srv, err := httpintake.Bind(ctx, hcfg)
	if err != nil {
		fmt.Fprintf(stderr, "graphsignal: warning: HTTP intake: %v (OpenTelemetry SDKs in the program cannot report)\n", err)
	} else {
		in.http = srv
		httpSrv.Store(srv)
	}
	return in
}

// serve starts serving both intakes.
func (in *intakes) serve() {
	if in.sock != nil {
		in.sock.Serve()
	}
	if in.http != nil {
		in.http.Serve()
		if in.sdkConfig != nil {
			in.sdkConfig.Start()
		}
	}
}

// newLocalToken returns the per-run key the official Graphsignal SDK in the
// child uses against the loopback intake in local mode.
func newLocalToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "gs-local-" + hex.EncodeToString(b[:])
}

// childEnv returns the variables the intakes add to the child's environment;
// the OTLP endpoints only when routeOTLP says so.
func (in *intakes) childEnv(environ []string, routeOTLP bool) map[string]string {
	add := map[string]string{}
	if in.sock != nil {
		add[env.VarSocket] = in.sock.Addr()
	}
	if in.http != nil {
		add[env.VarAPIBase] = in.http.Endpoint()
		// The intake, whatever the user set: the run records the child's
		// OpenTelemetry data and its exporter forwards it to the user's
		// endpoint (docs/intake.md).
		if routeOTLP {
			for k, v := range env.OTLPChildEndpoints(environ, in.http.Endpoint(), in.http.GRPCEndpoint()) {
				add[k] = v
			}
		}
	}
	if in.token != "" {
		add[env.VarAPIKey] = in.token
	}
	return add
}

// shutdown stops both intakes after letting them drain what the child sent,
// and returns their non-zero counters as metrics of the run (a counter that
// is absent is zero; storing the zeros would only slow the run's exit).
func (in *intakes) shutdown(ctx context.Context, now time.Time) []telemetry.Metric {
	ctx, cancel := context.WithTimeout(ctx, intakeDrain)
	defer cancel()
	// The two drain at the same time: each waits for its own goroutines.
	var httpDone sync.WaitGroup
	if in.http != nil {
		httpDone.Go(func() { _ = in.http.Close(ctx) })
	}
	var metrics []telemetry.Metric
	if in.sock != nil {
		_ = in.sock.Shutdown(ctx)
		metrics = append(metrics, in.sock.Metrics(now)...)
	}
	httpDone.Wait()
	if in.sdkConfig != nil {
		in.sdkConfig.Close()
	}
	if in.http != nil {
		metrics = append(metrics, in.http.Metrics(now)...)
	}
	nonZero := metrics[:0]
	for _, m := range metrics {
		if m.Value != 0 {
			nonZero = append(nonZero, m)
		}
	}
	return nonZero
}

// printIntake writes the intakes' non-zero counters (messages, bad lines by
// reason, drops) for --debug.
func printIntake(w io.Writer, metrics []telemetry.Metric) {
	for _, m := range metrics {
		if m.Value == 0 {
			continue
		}
		fmt.Fprintf(w, "graphsignal: intake: %s%s = %v\n", m.Name, formatLabels(m.Tags), m.Value)
	}
}

// formatLabels renders a metric's own labels (not the run's tags) as {k=v}.
func formatLabels(tags telemetry.Tags) string {
	var parts []string
	for _, k := range []string{"reason", "type", "kind", "route"} {
		if v, ok := tags[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// spansReceived counts the spans the child reported through both intakes.
// droppedAtIntake is how many records the socket intake dropped under
// overload (ipc.MetricDropped), from its final counters.
func droppedAtIntake(metrics []telemetry.Metric) uint64 {
	var n uint64
	for _, m := range metrics {
		if m.Name == ipc.MetricDropped {
			n += uint64(m.Value)
		}
	}
	return n
}

func spansReceived(metrics []telemetry.Metric) int {
	n := 0
	for _, m := range metrics {
		if (m.Name == ipc.MetricMessages && m.Tags["type"] == "span") || m.Name == httpintake.MetricSpans {
			n += int(m.Value)
		}
	}
	return n
}
