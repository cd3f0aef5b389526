package httpintake

import (
	"sync/atomic"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Stats is a snapshot of the intake's counters since Start.
type Stats struct {
	// Requests counts requests per route: "traces", "metrics", "logs",
	// "signals", "sdk_config", "grpc_traces", "grpc_metrics", "grpc_logs" (the
	// OTLP/gRPC Export methods) and "not_found" (wrong prefix or path,
	// unknown gRPC method).
	Requests map[string]uint64
	// Records handed to the consumer; SDKUploads counts the Graphsignal SDK
	// uploads handed on whole (Config.PassThrough).
	Spans, Metrics, Logs, SDKUploads uint64
	// SDKConfigFromAPI counts sdk_config requests answered with
	// Config.SDKConfig's options rather than the local default.
	SDKConfigFromAPI uint64
	// BadRequests counts undecodable bodies (400); TooLarge bodies over the
	// limit (413); UnsupportedMedia unknown content types or encodings (415);
	// Unauthorized Graphsignal SDK requests with a wrong or missing key (401)
	// and gRPC calls from another user than graphsignal's.
	BadRequests, TooLarge, UnsupportedMedia, Unauthorized uint64
	// Throttled counts requests refused as busy because the request bytes
	// in flight would have passed Config.InFlightBytes (the client may
	// send them again).
	Throttled uint64
	// Dropped counts data points not converted: unsupported metric types
	// (exponential histograms, summaries, profiles) and series beyond
	// Config.MaxSeries.
	Dropped uint64
}

var routes = [...]string{routeTraces, routeMetrics, routeLogs, routeSignals, routeSDKConfig, routeNotFound,
	routeGRPCTraces, routeGRPCMetrics, routeGRPCLogs}

type counters struct {
	requests                                              [len(routes)]atomic.Uint64
	spans, metrics, logs, sdkUploads                      atomic.Uint64
	sdkConfigFromAPI                                      atomic.Uint64
	badRequests, tooLarge, unsupportedMedia, unauthorized atomic.Uint64
	dropped                                               atomic.Uint64
	throttled                                             atomic.Uint64
}

func (c *counters) request(route string) {
	for i, r := range routes {
		if r == route {
			c.requests[i].Add(1)
			return
		}
	}
}

func (c *counters) batch(b *telemetry.Batch) {
	c.spans.Add(uint64(len(b.Spans)))
	c.metrics.Add(uint64(len(b.Metrics)))
	c.logs.Add(uint64(len(b.Logs)))
	c.sdkUploads.Add(uint64(len(b.SDKUploads)))
}

// Stats returns the current counters. It may be called after Close.
func (s *Server) Stats() Stats {
	st := Stats{
		Requests:         make(map[string]uint64, len(routes)),
		Spans:            s.stats.spans.Load(),
		Metrics:          s.stats.metrics.Load(),
		Logs:             s.stats.logs.Load(),
		SDKUploads:       s.stats.sdkUploads.Load(),
		SDKConfigFromAPI: s.stats.sdkConfigFromAPI.Load(),
		BadRequests:      s.stats.badRequests.Load(),
		TooLarge:         s.stats.tooLarge.Load(),
		UnsupportedMedia: s.stats.unsupportedMedia.Load(),
		Unauthorized:     s.stats.unauthorized.Load(),
		Dropped:          s.stats.dropped.Load(),
		Throttled:        s.stats.throttled.Load(),
	}
	for i, r := range routes {
		st.Requests[r] = s.stats.requests[i].Load()
	}
	return st
}

// MetricSpans is the counter of spans received over HTTP (OTLP and the
// Graphsignal SDK API).
const MetricSpans = "graphsignal.intake.http.spans"

// Metrics returns the counters as cumulative telemetry counters at time now,
// named graphsignal.intake.http.* (requests carry a "route" tag), tagged with
// the run's tags and trace.
func (s *Server) Metrics(now time.Time) []telemetry.Metric {
	st := s.Stats()
	m := func(name string, v uint64, extra telemetry.Tags) telemetry.Metric {
		return telemetry.Metric{
			TraceID: s.cfg.TraceID,
			Name:    "graphsignal.intake.http." + name,
			Kind:    telemetry.Counter,
			Unit:    telemetry.UnitCount,
			Tags:    s.tags().Merge(extra),
			Time:    now,
			Value:   float64(v),
		}
	}
	out := make([]telemetry.Metric, 0, len(routes)+10)
	for _, r := range routes {
		out = append(out, m("requests", st.Requests[r], telemetry.Tags{"route": r}))
	}
	out = append(out,
		m("spans", st.Spans, nil),
		m("metrics", st.Metrics, nil),
		m("logs", st.Logs, nil),
		m("sdk_uploads", st.SDKUploads, nil),
		m("sdk_config_from_api", st.SDKConfigFromAPI, nil),
		m("bad_requests", st.BadRequests, nil),
		m("too_large", st.TooLarge, nil),
		m("unsupported_media", st.UnsupportedMedia, nil),
		m("unauthorized", st.Unauthorized, nil),
		m("dropped", st.Dropped, nil),
		m("throttled", st.Throttled, nil),
	)
	return out
}
