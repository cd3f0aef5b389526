//go:build cgo

package nvmlgpu

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/gpu"
)

func TestOpenDiscovers8H100s(t *testing.T) {
	lib := newDGX(t, nil)
	s := openSampler(t, lib, "", false)
	hello := s.Hello()
	wantSystem := gpu.System{DriverVersion: "550.54.15", CUDAVersion: "12.4", NVMLVersion: "12.550.54.15"}
	if diff := cmp.Diff(wantSystem, hello.System); diff != "" {
		t.Errorf("System mismatch (-want +got):\n%s", diff)
	}
	if len(hello.Devices) != 8 {
		t.Fatalf("Hello has %d devices, want 8", len(hello.Devices))
	}
	for i, got := range hello.Devices {
		want := gpu.Device{
			Index: i, UUID: gpuDevice(lib, i).UUID, Name: "NVIDIA H100 80GB HBM3",
			BusID: gpuDevice(lib, i).PciBusID, Architecture: "Hopper", ComputeCapability: "9.0",
			MemoryTotal: 80 << 30, PowerLimit: 700, MIG: "disabled",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("device %d mismatch (-want +got):\n%s", i, diff)
		}
	}
}

func TestCloseShutsDownOnce(t *testing.T) {
	lib := newDGX(t, nil)
	s, err := Open(lib, "", false)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close()
	if n := len(lib.ShutdownCalls()); n != 1 {
		t.Errorf("Shutdown called %d times, want 1", n)
	}
}

func TestOpenInitFailure(t *testing.T) {
	tests := []struct {
		ret  nvml.Return
		want string
	}{
		{nvml.ERROR_LIBRARY_NOT_FOUND, "library (libnvidia-ml.so.1) not found"},
		{nvml.ERROR_DRIVER_NOT_LOADED, "driver not loaded"},
		{nvml.ERROR_LIB_RM_VERSION_MISMATCH, "versions differ"},
		{nvml.ERROR_FUNCTION_NOT_FOUND, "driver too old"},
		{nvml.ERROR_UNKNOWN, "NVML unavailable"},
	}
	for _, tt := range tests {
		// Only Init is set: the mock panics, failing the test, on any
		// other call.
		lib := &mock.Interface{InitFunc: func() nvml.Return { return tt.ret }}
		s, err := Open(lib, "", false)
		if s != nil || err == nil || !errors.Is(err, tt.ret) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open with Init %v = %v, %v; want nil and an error wrapping it, saying %q", tt.ret, s, err, tt.want)
		}
	}
}

// sampleTwice samples s at t0 and one second later and returns both.
func sampleTwice(s *Sampler) (first, second gpu.Sample) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	first, _ = s.Sample(t0)
	second, _ = s.Sample(t0.Add(time.Second))
	return first, second
}

func TestSampleValues(t *testing.T) {
	lib := newDGX(t, nil)
	s := openSampler(t, lib, "", false)
	first, second := sampleTwice(s)
	instant := map[string]float64{
		gpu.MetricUtilization:     90,
		gpu.MetricMemoryAccess:    40,
		gpu.MetricMemoryUsage:     10 << 30,
		gpu.MetricMemoryFree:      70 << 30,
		gpu.MetricMemoryTotal:     80 << 30,
		gpu.MetricTemperature:     61,
		gpu.MetricPowerUsage:      512.5,
		gpu.MetricPowerLimit:      700,
		gpu.MetricEnergy:          500, // one call since Open's
		gpu.MetricClockSM:         1980,
		gpu.MetricClockMemory:     2619,
		gpu.MetricPCIeTX:          1000 * 1024,
		gpu.MetricPCIeRX:          2000 * 1024,
		gpu.MetricECCCorrected:    3,
		gpu.MetricECCUncorrected:  0,
		gpu.MetricThrottleReasons: 4,
	}
	// The second pass adds the rates and GPM metrics, which need two reads.
	rates := map[string]float64{
		gpu.MetricEnergy:         1000,
		gpu.MetricNVLinkTX:       1 << 30, // 1 GiB in 1 s
		gpu.MetricNVLinkRX:       2 << 30,
		gpu.MetricSMActivity:     float64(nvml.GPM_METRIC_SM_UTIL) * 10,
		gpu.MetricSMOccupancy:    float64(nvml.GPM_METRIC_SM_OCCUPANCY) * 10,
		gpu.MetricTensorActivity: float64(nvml.GPM_METRIC_ANY_TENSOR_UTIL) * 10,
		gpu.MetricDRAMBandwidth:  float64(nvml.GPM_METRIC_DRAM_BW_UTIL) * 10,
	}
	want2 := make(map[string]float64)
	for _, m := range []map[string]float64{instant, rates} {
		for k, v := range m {
			want2[k] = v
		}
	}
	for _, tt := range []struct {
		name   string
		sample gpu.Sample
		want   map[string]float64
	}{{"first", first, instant}, {"second", second, want2}} {
		if len(tt.sample.Devices) != 8 {
			t.Fatalf("%s sample has %d devices, want 8", tt.name, len(tt.sample.Devices))
		}
		for i, d := range tt.sample.Devices {
			if d.UUID != gpuDevice(lib, i).UUID {
				t.Errorf("%s sample device %d is %s, want %s", tt.name, i, d.UUID, gpuDevice(lib, i).UUID)
			}
			if diff := cmp.Diff(tt.want, d.Values); diff != "" {
				t.Errorf("%s sample device %d values mismatch (-want +got):\n%s", tt.name, i, diff)
			}
		}
	}
}

func TestSampleGPMNeeds100ms(t *testing.T) {
	lib := newDGX(t, nil)
	s := openSampler(t, lib, "", false)
	t0 := time.Now()
	tests := []struct {
		at      time.Duration
		wantGPM bool
	}{
		{0, false},                      // the first GPM sample
		{50 * time.Millisecond, false},  // too soon after it
		{100 * time.Millisecond, true},  // 100 ms after the first
		{150 * time.Millisecond, false}, // 50 ms after that
		{300 * time.Millisecond, true},
	}
	for _, tt := range tests {
		sample, _ := s.Sample(t0.Add(tt.at))
		_, got := sample.Devices[0].Values[gpu.MetricSMActivity]
		if got != tt.wantGPM {
			t.Errorf("Sample at +%v has %s: %v, want %v", tt.at, gpu.MetricSMActivity, got, tt.wantGPM)
		}
	}
}

func TestSampleUnsupportedIsAbsent(t *testing.T) {
	lib := newDGX(t, nil)
	d := gpuDevice(lib, 3)
	d.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }
	d.GetPowerUsageFunc = func() (uint32, nvml.Return) { return 0, nvml.ERROR_NOT_SUPPORTED }
	d.GetTotalEccErrorsFunc = func(nvml.MemoryErrorType, nvml.EccCounterType) (uint64, nvml.Return) {
		return 0, nvml.ERROR_NOT_SUPPORTED
	}
	d.GetFieldValuesFunc = func(f []nvml.FieldValue) nvml.Return {
		for i := range f {
			f[i].NvmlReturn = uint32(nvml.ERROR_NOT_SUPPORTED)
		}
		return nvml.SUCCESS
	}
	d.GetMemoryInfo_v2Func = func() (nvml.Memory_v2, nvml.Return) { return nvml.Memory_v2{}, nvml.ERROR_FUNCTION_NOT_FOUND }
	d.GetMemoryInfoFunc = func() (nvml.Memory, nvml.Return) {
		return nvml.Memory{Total: 80 << 30, Used: 5 << 30, Free: 75 << 30}, nvml.SUCCESS
	}
	d.GpmQueryDeviceSupportFunc = func() (nvml.GpmSupport, nvml.Return) { return nvml.GpmSupport{}, nvml.SUCCESS }
	s := openSampler(t, lib, "", false)
	_, second := sampleTwice(s)

	got := second.Devices[3].Values
	for _, m := range []string{
		gpu.MetricTemperature, gpu.MetricPowerUsage, gpu.MetricECCCorrected, gpu.MetricECCUncorrected,
		gpu.MetricNVLinkTX, gpu.MetricNVLinkRX, gpu.MetricSMActivity, gpu.MetricTensorActivity,
	} {
		if v, ok := got[m]; ok {
			t.Errorf("device 3 %s = %v, want absent", m, v)
		}
	}
	if got[gpu.MetricMemoryUsage] != 5<<30 || got[gpu.MetricUtilization] != 90 || got[gpu.MetricPowerLimit] != 700 {
		t.Errorf("device 3 values %v: want memory from GetMemoryInfo and the supported metrics", got)
	}
	if n := len(d.GetTemperatureCalls()); n != 1 {
		t.Errorf("GetTemperature called %d times in 2 passes, want 1 (not asked again after NOT_SUPPORTED)", n)
	}
	if _, ok := second.Devices[2].Values[gpu.MetricTemperature]; !ok {
		t.Errorf("device 2 lacks %s", gpu.MetricTemperature)
	}
	notes := strings.Join(s.TakeNotes(), "\n")
	if !strings.Contains(notes, d.UUID+": "+gpu.MetricTemperature+" not reported") {
		t.Errorf("notes %q do not say why device 3 has no temperature", notes)
	}
}

func TestSampleProcesses(t *testing.T) {
	lib := newDGX(t, nil)
	procs := func(p ...nvml.ProcessInfo) func() ([]nvml.ProcessInfo, nvml.Return) {
		return func() ([]nvml.ProcessInfo, nvml.Return) { return p, nvml.SUCCESS }
	}
	// GPU 0: two processes, utilization samples for one of them.
	gpuDevice(lib, 0).GetComputeRunningProcessesFunc = procs(
		nvml.ProcessInfo{Pid: 100, UsedGpuMemory: 1 << 30}, nvml.ProcessInfo{Pid: 200, UsedGpuMemory: 2 << 30})
	gpuDevice(lib, 0).GetProcessUtilizationFunc = func(uint64) ([]nvml.ProcessUtilizationSample, nvml.Return) {
		return []nvml.ProcessUtilizationSample{{Pid: 100, SmUtil: 30, TimeStamp: 1}, {Pid: 100, SmUtil: 50, TimeStamp: 2}}, nvml.SUCCESS
	}
	// GPU 1: idle, NOT_FOUND (the default); GPU 2: no per-process utilization.
	gpuDevice(lib, 1).GetComputeRunningProcessesFunc = procs(nvml.ProcessInfo{Pid: 300, UsedGpuMemory: 3 << 30})
	gpuDevice(lib, 2).GetComputeRunningProcessesFunc = procs(nvml.ProcessInfo{Pid: 400, UsedGpuMemory: 4 << 30})
	gpuDevice(lib, 2).GetProcessUtilizationFunc = func(uint64) ([]nvml.ProcessUtilizationSample, nvml.Return) {
		return nil, nvml.ERROR_NOT_SUPPORTED
	}
	s := openSampler(t, lib, "", false)
	sample, _ := s.Sample(time.Now())

	pct := func(v float64) *float64 { return &v }
	want := []gpu.Process{
		{PID: 100, UUID: gpuDevice(lib, 0).UUID, MemoryUsed: 1 << 30, Utilization: pct(40)},
		{PID: 200, UUID: gpuDevice(lib, 0).UUID, MemoryUsed: 2 << 30, Utilization: pct(0)},
		{PID: 300, UUID: gpuDevice(lib, 1).UUID, MemoryUsed: 3 << 30, Utilization: pct(0)},
		{PID: 400, UUID: gpuDevice(lib, 2).UUID, MemoryUsed: 4 << 30},
	}
	if diff := cmp.Diff(want, sample.Processes); diff != "" {
		t.Errorf("processes mismatch (-want +got):\n%s", diff)
	}
	// The next pass asks for utilization since the last sample seen.
	s.Sample(time.Now())
	calls := gpuDevice(lib, 0).GetProcessUtilizationCalls()
	if last := calls[len(calls)-1].V; last != 2 {
		t.Errorf("second pass asked utilization since %d, want 2", last)
	}
}

func TestSampleGPULost(t *testing.T) {
	lib := newDGX(t, nil)
	d := gpuDevice(lib, 5)
	s := openSampler(t, lib, "", false)
	t0 := time.Now()
	if _, gone := s.Sample(t0); len(gone) != 0 {
		t.Fatalf("first pass: gone %v, want none", gone)
	}
	d.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) { return nvml.Utilization{}, nvml.ERROR_GPU_IS_LOST }
	sample, gone := s.Sample(t0.Add(time.Second))
	if len(gone) != 1 || gone[0].UUID != d.UUID || !strings.Contains(gone[0].Reason, "lost") {
		t.Fatalf("second pass: gone %v, want one for %s", gone, d.UUID)
	}
	if len(sample.Devices) != 7 {
		t.Errorf("second pass has %d devices, want 7", len(sample.Devices))
	}
	calls := len(d.GetMemoryInfo_v2Calls())
	sample, gone = s.Sample(t0.Add(2 * time.Second))
	if len(gone) != 0 || len(sample.Devices) != 7 {
		t.Errorf("third pass: %d devices, gone %v; want 7 and none", len(sample.Devices), gone)
	}
	if n := len(d.GetMemoryInfo_v2Calls()); n != calls {
		t.Errorf("the lost GPU was asked again (%d calls, then %d)", calls, n)
	}
}

func TestMIG(t *testing.T) {
	lib := newDGX(t, nil)
	parent := gpuDevice(lib, 0)
	migs := addMIG(parent, 2, []nvml.ProcessInfo{{Pid: 500, UsedGpuMemory: 1 << 30}})
	uuid := func(i int) string { u, _ := migs[i].GetUUID(); return u }
	tests := []struct {
		visible string
		set     bool
		want    []string
	}{
		{"", false, append([]string{parent.UUID, uuid(0), uuid(1)}, uuids(lib, 1, 8)...)},
		{uuid(1), true, []string{uuid(1)}},
		{"MIG-" + parent.UUID + "/1/0", true, []string{uuid(0)}}, // legacy form
		{"0", true, []string{parent.UUID, uuid(0), uuid(1)}},
	}
	for _, tt := range tests {
		s := openSampler(t, lib, tt.visible, tt.set)
		var got []string
		for _, d := range s.Hello().Devices {
			got = append(got, d.UUID)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Open(%q, %v) devices mismatch (-want +got):\n%s", tt.visible, tt.set, diff)
		}
	}

	s := openSampler(t, lib, uuid(1), true)
	if d := s.Hello().Devices[0]; d.Parent != parent.UUID || d.MemoryTotal != 40<<30 {
		t.Errorf("MIG device %+v: want parent %s and 40 GiB", d, parent.UUID)
	}
	sample, _ := s.Sample(time.Now())
	wantValues := map[string]float64{gpu.MetricMemoryUsage: 1 << 30, gpu.MetricMemoryFree: 39 << 30, gpu.MetricMemoryTotal: 40 << 30}
	if len(sample.Devices) != 1 || sample.Devices[0].UUID != uuid(1) {
		t.Fatalf("sample devices %+v, want %s only", sample.Devices, uuid(1))
	}
	if diff := cmp.Diff(wantValues, sample.Devices[0].Values); diff != "" {
		t.Errorf("MIG values mismatch (-want +got):\n%s", diff)
	}
	wantProcs := []gpu.Process{{PID: 500, UUID: uuid(1), MemoryUsed: 1 << 30}}
	if diff := cmp.Diff(wantProcs, sample.Processes); diff != "" {
		t.Errorf("MIG processes mismatch (-want +got):\n%s", diff)
	}
}

func uuids(lib *server.Server, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, gpuDevice(lib, i).UUID)
	}
	return out
}
