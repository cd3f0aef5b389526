package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
	"github.com/graphsignal/graphsignal/internal/upload"
)

func TestConfiguredDestinations(t *testing.T) {
	const key = "gs-key-secret-42"
	tests := []struct {
		name     string
		cfg      Config
		environ  []string
		senders  []string // name prefixes
		warnings []string // substrings, one per warning
		invalid  []string // substrings, one per destination left out
	}{
		{name: "none"},
		{name: "api key", cfg: Config{APIKey: key, APIBase: "https://api.graphsignal.com"},
			senders: []string{"Graphsignal API https://api.graphsignal.com"}},
		{name: "key over plain http", cfg: Config{APIKey: key, APIBase: "http://api.example.com"},
			senders: []string{"Graphsignal API http://api.example.com"}, warnings: []string{"plain HTTP"}},
		{name: "key over http to loopback", cfg: Config{APIKey: key, APIBase: "http://127.0.0.1:1"},
			senders: []string{"Graphsignal API http://127.0.0.1:1"}},
		{name: "otlp from the environment", environ: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318", "OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20" + key},
			senders: []string{"OTLP http://collector:4318"}},
		{name: "both", cfg: Config{APIKey: key, APIBase: "https://api.graphsignal.com", OTLPEndpoint: "https://collector:4318"},
			senders: []string{"Graphsignal API ", "OTLP https://collector:4318"}},
		{name: "bad otlp setting", environ: []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318", "OTEL_EXPORTER_OTLP_PROTOCOL=carrier-pigeon"},
			invalid: []string{"OTLP: OTEL_EXPORTER_OTLP_PROTOCOL"}},
		{name: "bad api base", cfg: Config{APIKey: key, APIBase: "ftp://api.example.com"},
			invalid: []string{"Graphsignal API: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			d := configuredDestinations(&cfg, tt.environ)
			if len(d.senders) != len(tt.senders) {
				t.Fatalf("%d senders, want %d (%v)", len(d.senders), len(tt.senders), tt.senders)
			}
			for i, s := range d.senders {
				if !strings.HasPrefix(s.Name(), tt.senders[i]) {
					t.Errorf("sender %d = %q, want %q...", i, s.Name(), tt.senders[i])
				}
				if strings.Contains(s.Name(), key) {
					t.Errorf("sender name %q shows the key", s.Name())
				}
			}
			for _, c := range []struct{ got, want []string }{{d.warnings, tt.warnings}, {d.invalid, tt.invalid}} {
				if len(c.got) != len(c.want) {
					t.Fatalf("warnings %q, invalid %q: want %q, %q", d.warnings, d.invalid, tt.warnings, tt.invalid)
				}
				for i, w := range c.got {
					if !strings.Contains(w, c.want[i]) || strings.Contains(w, key) {
						t.Errorf("%q, want %q and no key", w, c.want[i])
					}
				}
			}
			// --debug alone lists where each OTLP signal goes, never a
			// header's value.
			var quiet, debug bytes.Buffer
			d.print(&quiet, false)
			d.print(&debug, true)
			if strings.Contains(quiet.String(), "upload:") {
				t.Errorf("without --debug: %q, want no settings", quiet.String())
			}
			otlp := len(tt.senders) > 0 && strings.HasPrefix(tt.senders[len(tt.senders)-1], "OTLP")
			if got := strings.Contains(debug.String(), "graphsignal: upload: OTLP traces "); got != otlp {
				t.Errorf("with --debug: %q; OTLP traces settings shown %v, want %v", debug.String(), got, otlp)
			}
			if strings.Contains(debug.String(), key) {
				t.Errorf("with --debug: %q shows the key", debug.String())
			}
			want := len(tt.senders) > 0 || len(tt.warnings) > 0 || len(tt.invalid) > 0
			if got := wantsDelivery(&cfg, tt.environ); got != want {
				t.Errorf("wantsDelivery = %v, want %v", got, want)
			}
		})
	}
}

// TestDeliveryFlushBounded runs the run's delivery wiring against an API
// that accepts and never answers: flush returns by the flush timeout, the
// goroutines end, and the run's journal stays pending.
func TestDeliveryFlushBounded(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	cfg := &Config{APIKey: "k-secret-1234", APIBase: srv.URL, DataDir: t.TempDir()}
	var stderr bytes.Buffer
	name := spool.JournalName(time.Now(), telemetry.NewSpanID())
	dl := newDelivery(cfg, nil, name, &stderr)
	if dl == nil {
		t.Fatal("newDelivery with a key = nil")
	}
	defer dl.stop()
	exp, err := dl.opener(openJournalExporter(cfg.DataDir, name))(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	dl.start(t.Context())
	if err := exp.Export(t.Context(), telemetry.Batch{Metrics: []telemetry.Metric{{Name: "m", Kind: telemetry.Gauge, Time: time.Now()}}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	wait := flushDelivery(ctx, dl)
	if err := exp.(interface{ Close() error }).Close(); err != nil {
		t.Fatal(err)
	}
	res := wait()
	if took := time.Since(start); took > 400*time.Millisecond {
		t.Errorf("flush took %v with a flush timeout of 300ms", took)
	}
	dl.measurePending(res)
	if len(res) != 1 || res[0].flush == nil || res[0].pending.Journals != 1 || res[0].stats.Records != 0 {
		t.Fatalf("flush results = %+v, want one destination with the journal pending", res)
	}
	var out bytes.Buffer
	printDelivery(&out, res)
	if want := "0 records delivered · pending: "; !strings.Contains(out.String(), want) {
		t.Errorf("summary line %q, want %q", out.String(), want)
	}
	if strings.Contains(stderr.String()+out.String(), "k-secret-1234") {
		t.Errorf("output shows the key: %q", stderr.String()+out.String())
	}
}

// TestDeliveryExit runs the run's delivery wiring against an API that
// answers 200, with the journal closed at each point of a run's exit
// (before the Shippers start, for a very short run; after the flush
// began, as usual): the flush delivers the whole journal, with every
// request answered (none cancelled and sent again), and leaves nothing
// pending.
func TestDeliveryExit(t *testing.T) {
	for _, closeFirst := range []bool{true, false} {
		t.Run(map[bool]string{true: "closed before start", false: "closed during flush"}[closeFirst], func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			var requests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
			}))
			defer srv.Close()

			cfg := &Config{APIKey: "k-secret-1234", APIBase: srv.URL, DataDir: t.TempDir()}
			name := spool.JournalName(time.Now(), telemetry.NewSpanID())
			dl := newDelivery(cfg, nil, name, io.Discard)
			defer dl.stop()
			exp, err := dl.opener(openJournalExporter(cfg.DataDir, name))(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := exp.Export(t.Context(), telemetry.Batch{Metrics: []telemetry.Metric{{Name: fmt.Sprint("m", i), Kind: telemetry.Gauge, Time: time.Now()}}}); err != nil {
					t.Fatal(err)
				}
			}
			closeJournal := func() {
				if err := exp.(io.Closer).Close(); err != nil {
					t.Fatal(err)
				}
			}
			if closeFirst {
				closeJournal()
			}
			dl.start(t.Context())
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			wait := flushDelivery(ctx, dl)
			if !closeFirst {
				closeJournal()
			}
			res := wait()
			dl.measurePending(res)
			if len(res) != 1 || res[0].flush != nil || res[0].pending.Journals != 0 {
				t.Fatalf("flush results = %+v, want one destination with the journal delivered", res)
			}
			if st := res[0].stats; st.Records != 3 || st.Failed != 0 || st.Requests != requests.Load() {
				t.Errorf("stats = %+v with %d requests served; want 3 records, no failed attempt", st, requests.Load())
			}
			var out bytes.Buffer
			printDelivery(&out, res)
			if want := ": 3 records delivered\n"; !strings.HasSuffix(out.String(), want) {
				t.Errorf("summary line %q, want it to end in %q", out.String(), want)
			}
		})
	}
}

// TestNilDelivery checks that a run without destinations (or nested)
// pays nothing: every method is a no-op on nil.
func TestNilDelivery(t *testing.T) {
	cfg := &Config{DataDir: t.TempDir()}
	if dl := newDelivery(cfg, nil, "j", nil); dl != nil {
		t.Fatal("newDelivery without destinations != nil")
	}
	nested := []string{"GRAPHSIGNAL_SOCKET=/tmp/x.sock"}
	cfg.APIKey = "k"
	if dl := newDelivery(cfg, nested, "j", nil); dl != nil {
		t.Fatal("newDelivery in a nested run != nil")
	}
	var dl *delivery
	dl.start(t.Context())
	dl.kick()
	if res := flushDelivery(t.Context(), dl)(); res != nil {
		t.Errorf("flush of nil = %v", res)
	}
	dl.stop()
}

// TestDescribeDelivery: the summary's line per destination says what was
// delivered, what is pending and why, and what to do: a permanent refusal
// needs its cause fixed before `graphsignal upload` can send anything.
func TestDescribeDelivery(t *testing.T) {
	pending := upload.Pending{Journals: 1, Bytes: 2048}
	tests := []struct {
		name string
		r    destinationResult
		want string
	}{
		{"all delivered", destinationResult{stats: upload.Stats{Records: 1}}, "1 record delivered"},
		{"rejected and dropped", destinationResult{stats: upload.Stats{Records: 5, Rejected: 2, Dropped: 1}}, "5 records delivered · 2 rejected · 1 dropped"},
		{"refused", destinationResult{stats: upload.Stats{Permanent: true, LastError: "invalid API key (401)"}, flush: errors.New("refused"), pending: pending},
			"0 records delivered · pending: 2 KiB in 1 journal (refused); fix the cause, then graphsignal upload sends them"},
		{"flush timeout after failures", destinationResult{stats: upload.Stats{Destination: "D x", LastError: "upload to D x failed: server error (500)"}, flush: context.DeadlineExceeded, pending: pending},
			"0 records delivered · pending: 2 KiB in 1 journal (flush timeout; last error: server error (500)); graphsignal upload sends them"},
		{"flush timeout, no answer", destinationResult{flush: context.DeadlineExceeded, pending: upload.Pending{Journals: 3, Bytes: 2048}},
			"0 records delivered · pending: 2 KiB in 3 journals (flush timeout); graphsignal upload sends them"},
		{"failed", destinationResult{stats: upload.Stats{Destination: "D x", LastError: "upload to D x: connection refused"}, flush: errors.New("x"), pending: pending},
			"0 records delivered · pending: 2 KiB in 1 journal (connection refused); graphsignal upload sends them"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describeDelivery(tt.r); got != tt.want {
				t.Errorf("describeDelivery = %q\nwant               %q", got, tt.want)
			}
		})
	}
}
