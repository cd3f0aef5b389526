//go:build linux

package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/gpu"
)

// fakeGPUMain stands in for the GPU sampler (cmd/graphsignal-gpu) in
// scripts: it speaks the same report (internal/gpu's messages) about two
// H100s, without NVML. Once the file named by FAKE_GPU_PIDFILE holds the
// program's pid, each sample gives that process 1 GiB on GPU 0 (and pid 1,
// not the program's, 5 GiB); FAKE_GPU_XID, when set, is raised once on
// GPU 1 after the first such sample, and the file FAKE_GPU_SAMPLED is
// created after the second (so that a program can wait until it was seen,
// however slow the machine). It ends when its stdin reaches EOF, as the
// real sampler does.
func fakeGPUMain() {
	interval := flag.Duration("interval", time.Second, "")
	flag.Parse()
	w := gpu.NewWriter(os.Stdout)
	devs := []gpu.Device{
		{Index: 0, UUID: "GPU-aaaaaaaa-0000-0000-0000-000000000000", Name: "NVIDIA H100 80GB HBM3", BusID: "00000000:18:00.0",
			Architecture: "Hopper", ComputeCapability: "9.0", MemoryTotal: 80 << 30, MIG: "disabled"},
		{Index: 1, UUID: "GPU-bbbbbbbb-0000-0000-0000-000000000000", Name: "NVIDIA H100 80GB HBM3", BusID: "00000000:2a:00.0",
			Architecture: "Hopper", ComputeCapability: "9.0", MemoryTotal: 80 << 30, MIG: "disabled"},
	}
	visible := devs
	if v, ok := os.LookupEnv("CUDA_VISIBLE_DEVICES"); ok {
		visible = gpu.Visible(v, true, devs)
	}
	must(w.Write(gpu.Message{Hello: &gpu.Hello{System: gpu.System{DriverVersion: "550.54.15", CUDAVersion: "12.4"}, Devices: visible}}))
	stop := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
		close(stop)
	}()
	xid, _ := strconv.ParseUint(os.Getenv("FAKE_GPU_XID"), 10, 64)
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	seen := 0 // samples written with the program's pid
	for n := 0; ; n++ {
		s := gpu.Sample{Time: time.Now()}
		for i, d := range visible {
			s.Devices = append(s.Devices, gpu.DeviceSample{UUID: d.UUID, Values: map[string]float64{
				gpu.MetricUtilization: float64(50 * (i + 1)), gpu.MetricMemoryUsage: float64(uint64(10+i) << 30),
				gpu.MetricMemoryTotal: 80 << 30, gpu.MetricTemperature: 40, gpu.MetricPowerUsage: 300,
				gpu.MetricEnergy: float64(100 * n),
			}})
		}
		pid := programPID()
		if pid > 0 && len(visible) > 0 {
			s.Processes = []gpu.Process{{PID: pid, UUID: visible[0].UUID, MemoryUsed: 1 << 30}, {PID: 1, UUID: visible[0].UUID, MemoryUsed: 5 << 30}}
		}
		must(w.Write(gpu.Message{Sample: &s}))
		if pid > 0 && xid > 0 && len(visible) > 1 {
			must(w.Write(gpu.Message{XID: &gpu.XID{Time: time.Now(), UUID: visible[1].UUID, Code: xid}}))
			xid = 0
		}
		if pid > 0 {
			seen++
		}
		if seen == 2 {
			if f := os.Getenv("FAKE_GPU_SAMPLED"); f != "" {
				must(os.WriteFile(f, nil, 0o644))
			}
		}
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}

// programPID reads FAKE_GPU_PIDFILE's pid, 0 until it is there.
func programPID() int {
	b, err := os.ReadFile(os.Getenv("FAKE_GPU_PIDFILE"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakegpu:", err)
		os.Exit(1)
	}
}
