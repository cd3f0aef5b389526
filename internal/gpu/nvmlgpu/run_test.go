//go:build cgo

package nvmlgpu

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"

	"github.com/graphsignal/graphsignal/internal/gpu"
)

// readReport decodes every message of a report.
func readReport(t *testing.T, report []byte) []gpu.Message {
	t.Helper()
	r := gpu.NewReader(bytes.NewReader(report))
	var msgs []gpu.Message
	for {
		m, err := r.Read()
		if errors.Is(err, io.EOF) {
			return msgs
		}
		if err != nil {
			t.Fatalf("report line %d: %v\n%s", len(msgs)+1, err, report)
		}
		msgs = append(msgs, m)
	}
}

func TestRunReportsSamplesAndXID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		events := make(chan nvml.EventData)
		lib := newDGX(t, events)
		var report bytes.Buffer
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- Run(ctx, lib, Config{Interval: time.Second}, &report) }()

		time.Sleep(1500 * time.Millisecond) // samples at 0 s and 1 s
		events <- nvml.EventData{
			Device: gpuDevice(lib, 2), EventType: nvml.EventTypeXidCriticalError, EventData: 79,
			GpuInstanceId: noInstance, ComputeInstanceId: noInstance,
		}
		time.Sleep(time.Second) // a sample at 2 s
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}

		var kinds []string
		var xid *gpu.XID
		for _, m := range readReport(t, report.Bytes()) {
			switch {
			case m.Hello != nil:
				kinds = append(kinds, "hello")
				if len(m.Hello.Devices) != 8 {
					t.Errorf("Hello has %d devices, want 8", len(m.Hello.Devices))
				}
			case m.Sample != nil:
				kinds = append(kinds, "sample")
				if len(m.Sample.Devices) != 8 {
					t.Errorf("Sample has %d devices, want 8", len(m.Sample.Devices))
				}
			case m.XID != nil:
				kinds = append(kinds, "xid")
				xid = m.XID
			}
		}
		if got, want := strings.Join(kinds, " "), "hello sample sample xid sample"; got != want {
			t.Errorf("report is %q, want %q", got, want)
		}
		if xid == nil || xid.Code != 79 || xid.UUID != gpuDevice(lib, 2).UUID {
			t.Errorf("XID %+v, want code 79 on %s", xid, gpuDevice(lib, 2).UUID)
		}
		if n := len(lib.ShutdownCalls()); n != 1 {
			t.Errorf("Shutdown called %d times, want 1", n)
		}
	})
}

func TestRunWithoutNVML(t *testing.T) {
	// Only Init is set: the mock panics on any other call.
	lib := &mock.Interface{InitFunc: func() nvml.Return { return nvml.ERROR_LIBRARY_NOT_FOUND }}
	var report, debug bytes.Buffer
	err := Run(t.Context(), lib, Config{Interval: time.Second, Debug: &debug}, &report)
	if !errors.Is(err, nvml.ERROR_LIBRARY_NOT_FOUND) {
		t.Errorf("Run = %v, want an error wrapping ERROR_LIBRARY_NOT_FOUND", err)
	}
	msgs := readReport(t, report.Bytes())
	if len(msgs) != 1 || !strings.Contains(msgs[0].Note, "not found") {
		t.Errorf("report %+v, want one Note saying the library is not found", msgs)
	}
	if !strings.Contains(debug.String(), "not found") {
		t.Errorf("debug output %q lacks the note", debug.String())
	}
}

func BenchmarkSample8GPUs(b *testing.B) {
	s := openSampler(b, newDGX(b, nil), "", false)
	now := time.Now()
	for b.Loop() {
		now = now.Add(time.Second)
		s.Sample(now)
	}
}

// TestDropNonFinite: NaN and infinite values, which JSON cannot hold and
// would end the report, are dropped and the rest is written.
func TestDropNonFinite(t *testing.T) {
	nan, inf, ok := math.NaN(), math.Inf(1), 42.0
	s := gpu.Sample{Devices: []gpu.DeviceSample{{UUID: "GPU-0", Values: map[string]float64{
		gpu.MetricUtilization: nan, gpu.MetricSMActivity: inf, gpu.MetricTemperature: ok}}},
		Processes: []gpu.Process{{PID: 1, Utilization: &nan}, {PID: 2, Utilization: &ok}}}
	dropNonFinite(&s)
	if v := s.Devices[0].Values; len(v) != 1 || v[gpu.MetricTemperature] != 42 {
		t.Errorf("values = %v, want the temperature alone", v)
	}
	if s.Processes[0].Utilization != nil || *s.Processes[1].Utilization != 42 {
		t.Errorf("processes = %+v", s.Processes)
	}
	var buf bytes.Buffer
	if err := gpu.NewWriter(&buf).Write(gpu.Message{Sample: &s}); err != nil {
		t.Errorf("the sample does not encode: %v", err)
	}
}
