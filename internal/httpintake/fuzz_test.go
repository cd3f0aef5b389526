package httpintake

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/protobuf/proto"

	"github.com/graphsignal/graphsignal/internal/signalspb"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// fuzzServer is a Server that converts without listening.
func fuzzServer() *Server {
	s := &Server{
		cfg: Config{TraceID: testTrace, RunSpanID: testRunSpan, Tags: testTags, MaxSeries: 100,
			Consumer: ConsumerFunc(func(telemetry.Batch) {})},
		cum: newCumulator(100),
	}
	s.runTagsPtr.Store(&s.cfg.Tags)
	return s
}

// FuzzDecode feeds arbitrary bytes to every decoder and converter: nothing
// may panic or hang, and an UploadRequest that decodes is also forwarded
// in cloud mode.
func FuzzDecode(f *testing.F) {
	if b, err := ptraceotlp.NewExportRequestFromTraces(testTraces()).MarshalProto(); err == nil {
		f.Add(b)
	}
	if b, err := ptraceotlp.NewExportRequestFromTraces(testTraces()).MarshalJSON(); err == nil {
		f.Add(b)
	}
	if b, err := proto.Marshal(sdkUpload(1)); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"x","sum":{"dataPoints":[{"asInt":"1"}],"isMonotonic":true,"aggregationTemporality":1}}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := fuzzServer()
		for _, isJSON := range []bool{false, true} {
			for _, sig := range []otlpSignal{otlpTraces, otlpMetrics, otlpLogs} {
				var b telemetry.Batch
				_ = s.decodeOTLP(sig, data, isJSON, t0, &b)
			}
		}
		var req signalspb.UploadRequest
		if req.Unmarshal(data) == nil {
			if _, err := s.decodeSignals(data, s.ownRun(), t0); err != nil {
				t.Fatalf("decodeSignals of a decodable request = %v", err)
			}
			// Cloud mode forwards whatever decodes: the merge never refuses it.
			var b telemetry.Batch
			if err := s.passThrough(&b, data, t0); err != nil || len(b.SDKUploads) != 1 {
				t.Fatalf("passThrough of a decodable request = %v", err)
			}
		}
	})
}
