package gpu

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// collect is a RecordingConfig.Out that keeps what it gets.
type collect struct {
	mu sync.Mutex
	b  telemetry.Batch
}

func (c *collect) out(b telemetry.Batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.b.Metrics = append(c.b.Metrics, b.Metrics...)
	c.b.Logs = append(c.b.Logs, b.Logs...)
}

func (c *collect) series(name, index string) []float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []float64
	for _, m := range c.b.Metrics {
		if m.Name == name && m.Tags[TagDeviceIndex] == index {
			out = append(out, m.Value)
		}
	}
	return out
}

var (
	t0   = time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC)
	h100 = []Device{
		{Index: 0, UUID: "GPU-0", Name: "NVIDIA H100 80GB HBM3", BusID: "00000000:18:00.0", Architecture: "Hopper",
			ComputeCapability: "9.0", MemoryTotal: 80 << 30, MIG: "disabled"},
		{Index: 1, UUID: "GPU-1", Name: "NVIDIA H100 80GB HBM3", BusID: "00000000:2a:00.0", MemoryTotal: 80 << 30},
	}
)

func sampleAt(d time.Duration, util0, mem0, energy0 float64, procs ...Process) Message {
	return Message{Sample: &Sample{Time: t0.Add(d), Devices: []DeviceSample{
		{UUID: "GPU-0", Values: map[string]float64{MetricUtilization: util0, MetricMemoryUsage: mem0, MetricEnergy: energy0,
			MetricTemperature: 50, "gpu.unknown.metric": 1}},
		{UUID: "GPU-1", Values: map[string]float64{MetricMemoryUsage: 1 << 30}}, // utilisation not supported
		{UUID: "GPU-not-visible", Values: map[string]float64{MetricUtilization: 100}},
	}, Processes: procs}}
}

// TestRecording: samples become gpu.* points with device tags (unknown
// metrics and devices skipped, unsupported ones absent), the program's
// processes are summed per device, and the summary is the run's.
func TestRecording(t *testing.T) {
	var c collect
	inTree := func(pid int) bool { return pid == 100 || pid == 101 }
	r := NewRecording(RecordingConfig{Trace: telemetry.TraceID{1}, RunSpan: telemetry.SpanID{2}, Out: c.out, InTree: inTree})
	r.Handle(Message{Hello: &Hello{System: System{DriverVersion: "550.54.15", CUDAVersion: "12.4"}, Devices: h100}})
	half := 50.0
	r.Handle(sampleAt(0, 20, 10<<30, 100, Process{PID: 100, UUID: "GPU-0", MemoryUsed: 2 << 30, Utilization: &half},
		Process{PID: 101, UUID: "GPU-0", MemoryUsed: 1 << 30}, Process{PID: 7, UUID: "GPU-0", MemoryUsed: 30 << 30}))
	r.Handle(sampleAt(time.Second, 80, 12<<30, 400, Process{PID: 100, UUID: "GPU-0", MemoryUsed: 4 << 30}))
	r.Handle(Message{Note: "GPM not supported"})

	if got := c.series(MetricUtilization, "0"); !reflect.DeepEqual(got, []float64{20, 80}) {
		t.Errorf("gpu.utilization of GPU 0 = %v", got)
	}
	if got := c.series(MetricUtilization, "1"); len(got) != 0 {
		t.Errorf("gpu.utilization of GPU 1 (not supported) = %v, want no point", got)
	}
	if got := c.series(MetricProcessMemory, "0"); !reflect.DeepEqual(got, []float64{3 << 30, 4 << 30}) {
		t.Errorf("gpu.process.memory.usage of GPU 0 = %v, want the tree's 3 GiB then 4 GiB", got)
	}
	if got := c.series(MetricProcessMemory, "1"); !reflect.DeepEqual(got, []float64{0, 0}) {
		t.Errorf("gpu.process.memory.usage of GPU 1 = %v, want 0s", got)
	}
	if got := c.series(MetricProcessUtilization, "0"); !reflect.DeepEqual(got, []float64{50}) {
		t.Errorf("gpu.process.utilization of GPU 0 = %v, want one point, 50", got)
	}
	c.mu.Lock()
	for _, m := range c.b.Metrics {
		if m.Name == "gpu.unknown.metric" || m.Tags[TagDeviceUUID] == "GPU-not-visible" {
			t.Errorf("point of an unknown metric or device: %+v", m)
		}
		if m.TraceID != (telemetry.TraceID{1}) {
			t.Errorf("point outside the run's trace: %+v", m)
		}
		if m.Name == MetricEnergy && (m.Kind != telemetry.Counter || m.Unit != UnitJoules) {
			t.Errorf("gpu.energy is %v %q, want a counter in J", m.Kind, m.Unit)
		}
		if m.Name == MetricUtilization && (m.Tags[TagDeviceName] != "NVIDIA H100 80GB HBM3" || m.Tags[TagDeviceBusID] == "") {
			t.Errorf("device tags: %v", m.Tags)
		}
	}
	c.mu.Unlock()

	res := r.Result()
	d0 := res.Devices[0]
	if d0.UtilizationAvg != 50 || d0.UtilizationPeak != 80 || d0.MemoryPeak != 12<<30 || d0.Energy != 400 ||
		d0.ProcessMemoryPeak != 4<<30 || !d0.HaveProcessMemory || d0.Samples != 2 {
		t.Errorf("GPU 0 summary = %+v", d0)
	}
	if d1 := res.Devices[1]; d1.HaveUtilization || d1.HaveEnergy || d1.MemoryPeak != 1<<30 {
		t.Errorf("GPU 1 summary = %+v", d1)
	}
	if !reflect.DeepEqual(res.Notes, []string{"GPM not supported"}) {
		t.Errorf("notes = %v", res.Notes)
	}
	if _, lost := res.Lost(); lost {
		t.Error("a device lost without an XID or a Gone")
	}

	// The run span's attributes read back as the summary (as stored:
	// numbers may come back as float64).
	attrs := res.Attributes()
	stored := map[string]any{}
	for k, v := range attrs {
		if i, ok := v.(int64); ok {
			stored[k] = float64(i)
		} else {
			stored[k] = v
		}
	}
	back := ParseAttributes(stored)
	for i := range res.Devices {
		res.Devices[i].Samples = 0 // not stored
	}
	if !reflect.DeepEqual(back, res.Devices) {
		t.Errorf("ParseAttributes(Attributes()) =\n%+v\nwant\n%+v", back, res.Devices)
	}
	if attrs["gpu.driver.version"] != "550.54.15" || attrs["gpu.count"] != int64(2) {
		t.Errorf("attributes = %v", attrs)
	}
}

// TestRecordingNoTree: without InTree (a PID namespace of its own) no
// per-process series is made and the summary says so.
func TestRecordingNoTree(t *testing.T) {
	var c collect
	r := NewRecording(RecordingConfig{Out: c.out})
	r.Handle(Message{Hello: &Hello{Devices: h100}})
	r.Handle(sampleAt(0, 20, 10<<30, 100, Process{PID: 100, UUID: "GPU-0", MemoryUsed: 2 << 30}))
	if got := c.series(MetricProcessMemory, "0"); len(got) != 0 {
		t.Errorf("gpu.process.memory.usage = %v, want none", got)
	}
	if d := r.Result().Devices[0]; d.HaveProcessMemory {
		t.Errorf("summary = %+v, want no process memory", d)
	}
}

// TestRecordingXID: an XID is an error log of the run span and a counter
// point at once, and a fatal one (79) or a device gone is the run's loss;
// nothing is recorded after Stop.
func TestRecordingXID(t *testing.T) {
	var c collect
	r := NewRecording(RecordingConfig{Trace: telemetry.TraceID{1}, RunSpan: telemetry.SpanID{2}, Out: c.out})
	r.Handle(Message{Hello: &Hello{Devices: h100}})
	x13 := XID{Time: t0, UUID: "GPU-0", Code: 13}
	x79 := XID{Time: t0.Add(time.Second), UUID: "GPU-1", Code: 79}
	for _, m := range []Message{{XID: &x13}, {XID: &x79}} {
		r.Handle(m)
	}
	r.Stop()
	r.Handle(Message{XID: &x13})
	r.Handle(sampleAt(0, 1, 1, 1))
	c.mu.Lock()
	logs := c.b.Logs
	c.mu.Unlock()
	if len(logs) != 2 {
		t.Fatalf("%d error logs, want 2: %+v", len(logs), logs)
	}
	if got := c.series(MetricUtilization, "0"); len(got) != 0 {
		t.Errorf("a sample recorded after Stop: %v", got)
	}
	if l := logs[1]; l.Level != "ERROR" || l.SpanID != (telemetry.SpanID{2}) ||
		l.Message != "XID 79 on GPU 1 (NVIDIA H100 80GB HBM3): GPU has fallen off the bus" || l.Tags["gpu.xid"] != "79" {
		t.Errorf("log = %+v", l)
	}
	res := r.Result()
	if len(res.XIDs) != 2 || len(res.Events()) != 2 {
		t.Fatalf("XIDs %v, events %v", res.XIDs, res.Events())
	}
	if lost, ok := res.Lost(); !ok || !strings.HasPrefix(lost, "XID 79 on GPU 1") {
		t.Errorf("Lost = %q, %v", lost, ok)
	}

	onlyGone := NewRecording(RecordingConfig{Out: c.out})
	onlyGone.Handle(Message{Hello: &Hello{Devices: h100}})
	onlyGone.Handle(Message{Gone: &Gone{Time: t0, UUID: "GPU-0", Reason: "GPU is lost"}})
	if lost, ok := onlyGone.Result().Lost(); !ok || !strings.Contains(lost, "GPU 0") {
		t.Errorf("a device gone without an XID: Lost = %q, %v", lost, ok)
	}
}

func TestXIDDescribe(t *testing.T) {
	tests := []struct {
		x     XID
		dev   string
		want  string
		fatal bool
	}{
		{XID{Code: 79}, "GPU 3 (H100)", "XID 79 on GPU 3 (H100): GPU has fallen off the bus", true},
		{XID{Code: 13}, "", "XID 13: graphics engine exception (often an out-of-range access in a kernel)", false},
		{XID{Code: 95}, "GPU 0", "XID 95 on GPU 0: uncontained ECC error (every application on the GPU is affected; reset it)", true},
		{XID{Code: 9999}, "GPU 0", "XID 9999 on GPU 0", false},
	}
	for _, tt := range tests {
		if got := tt.x.Describe(tt.dev); got != tt.want || tt.x.Fatal() != tt.fatal {
			t.Errorf("XID %d: %q fatal=%v, want %q fatal=%v", tt.x.Code, got, tt.x.Fatal(), tt.want, tt.fatal)
		}
	}
	for _, code := range []uint64{13, 31, 43, 45, 48, 63, 64, 74, 79, 92, 94, 95, 119} {
		if XIDMeaning(code) == "" {
			t.Errorf("XID %d has no meaning", code)
		}
	}
}

// TestTreeMatcher: a real process tree (sh → sleep): both belong to sh's
// tree, graphsignal's test process and pid 1 do not.
func TestTreeMatcher(t *testing.T) {
	if ns, _ := os.Readlink("/proc/self/ns/pid"); ns != hostPIDNamespace {
		if TreeMatcher("/proc", os.Getpid()) != nil {
			t.Fatal("a matcher in a PID namespace of its own")
		}
		t.Skip("not in the host's PID namespace")
	}
	cmd := exec.Command("sh", "-c", "sleep 5 & echo $!; wait")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var child int
	buf := make([]byte, 32)
	n, _ := out.Read(buf)
	if _, err := fmt.Sscan(strings.TrimSpace(string(buf[:n])), &child); err != nil {
		t.Fatal(err)
	}
	in := TreeMatcher("/proc", cmd.Process.Pid)
	for _, tt := range []struct {
		pid  int
		want bool
	}{{cmd.Process.Pid, true}, {child, true}, {os.Getpid(), false}, {1, false}, {1 << 30, false}} {
		if got := in(tt.pid); got != tt.want {
			t.Errorf("in tree(%d) = %v, want %v", tt.pid, got, tt.want)
		}
	}
}

// TestFindSampler: an explicit name or path, else beside graphsignal, else
// PATH.
func TestFindSampler(t *testing.T) {
	dir := t.TempDir()
	beside := filepath.Join(dir, SamplerName)
	if err := os.WriteFile(beside, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	self := filepath.Join(dir, "graphsignal")
	inPath := func(name string) (string, error) {
		if name == SamplerName || name == "custom" {
			return "/usr/bin/" + name, nil
		}
		return "", exec.ErrNotFound
	}
	tests := []struct {
		explicit, self string
		want           string
		wantErr        bool
	}{
		{"", self, beside, false},
		{"", "/nowhere/graphsignal", "/usr/bin/" + SamplerName, false},
		{"custom", self, "/usr/bin/custom", false},
		{"missing", self, "", true},
	}
	for _, tt := range tests {
		got, err := FindSampler(tt.explicit, tt.self, inPath)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("FindSampler(%q, %q) = %q, %v", tt.explicit, tt.self, got, err)
		}
	}
	if _, err := FindSampler("", "/nowhere/graphsignal", func(string) (string, error) { return "", exec.ErrNotFound }); err == nil ||
		!strings.Contains(err.Error(), "README") {
		t.Errorf("no sampler anywhere: %v, want an error that says how to build it", err)
	}
}

// TestRecordingMIG: a GPU in MIG mode and its MIG devices share the NVML
// index; each keeps its own summary through the run span's attributes.
func TestRecordingMIG(t *testing.T) {
	var c collect
	r := NewRecording(RecordingConfig{Out: c.out})
	r.Handle(Message{Hello: &Hello{Devices: []Device{
		{Index: 0, UUID: "GPU-0", Name: "NVIDIA H100 80GB HBM3", MIG: "enabled"},
		{Index: 0, UUID: "MIG-a", Name: "NVIDIA H100 80GB HBM3 MIG 1g.10gb", Parent: "GPU-0"},
		{Index: 0, UUID: "MIG-b", Name: "NVIDIA H100 80GB HBM3 MIG 1g.10gb", Parent: "GPU-0"},
	}}})
	r.Handle(Message{Sample: &Sample{Time: t0, Devices: []DeviceSample{
		{UUID: "GPU-0", Values: map[string]float64{MetricMemoryUsage: 30 << 30}},
		{UUID: "MIG-a", Values: map[string]float64{MetricMemoryUsage: 1 << 30}},
		{UUID: "MIG-b", Values: map[string]float64{MetricMemoryUsage: 2 << 30}},
	}}})
	res := r.Result()
	back := ParseAttributes(res.Attributes())
	if len(back) != 3 {
		t.Fatalf("%d devices read back, want 3: %+v", len(back), back)
	}
	for i, want := range []struct {
		uuid, parent string
		mem          uint64
	}{{"GPU-0", "", 30 << 30}, {"MIG-a", "GPU-0", 1 << 30}, {"MIG-b", "GPU-0", 2 << 30}} {
		if d := back[i]; d.UUID != want.uuid || d.Parent != want.parent || d.MemoryPeak != want.mem || d.Index != 0 {
			t.Errorf("device %d = %+v, want %+v", i, d, want)
		}
	}
	if got := back[1].Short(); got != "GPU 0 MIG-a" {
		t.Errorf("Short = %q", got)
	}
}
