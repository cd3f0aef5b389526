//go:build cgo

package nvmlgpu

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/dgxh100"
	"github.com/NVIDIA/go-nvml/pkg/nvml/mock/server"
)

// newDGX returns go-nvml's DGX H100 mock (8 GPUs) with every function the
// Sampler calls set to answer as a busy H100 does; tests change what they
// test. events feeds the XID event set's Wait (nil: Wait only times out).
func newDGX(t testing.TB, events <-chan nvml.EventData) *server.Server {
	t.Helper()
	s := dgxh100.New()
	for _, h := range s.Devices {
		setBusy(h.(*server.Device))
	}
	s.GpmSampleAllocFunc = func() (nvml.GpmSample, nvml.Return) {
		return &mock.GpmSample{FreeFunc: func() nvml.Return { return nvml.SUCCESS }}, nvml.SUCCESS
	}
	s.GpmMetricsGetFunc = func(mg *nvml.GpmMetricsGetType) nvml.Return {
		for i := range mg.NumMetrics {
			mg.Metrics[i].Value = float64(mg.Metrics[i].MetricId) * 10 // SM_UTIL 20, …
		}
		return nvml.SUCCESS
	}
	s.EventSetCreateFunc = func() (nvml.EventSet, nvml.Return) {
		return &mock.EventSet{
			FreeFunc: func() nvml.Return { return nvml.SUCCESS },
			WaitFunc: func(ms uint32) (nvml.EventData, nvml.Return) {
				select {
				case e := <-events:
					return e, nvml.SUCCESS
				case <-afterMillis(ms):
					return nvml.EventData{}, nvml.ERROR_TIMEOUT
				}
			},
		}, nvml.SUCCESS
	}
	return s
}

// setBusy sets the functions the Sampler calls on d.
func setBusy(d *server.Device) {
	var energy, nvlink atomic.Uint64
	d.GetPciInfoFunc = func() (nvml.PciInfo, nvml.Return) {
		var p nvml.PciInfo
		for i, c := range []byte(d.PciBusID) {
			p.BusId[i] = int8(c)
		}
		return p, nvml.SUCCESS
	}
	d.GetEnforcedPowerLimitFunc = func() (uint32, nvml.Return) { return 700_000, nvml.SUCCESS }
	d.GetMemoryInfo_v2Func = func() (nvml.Memory_v2, nvml.Return) {
		return nvml.Memory_v2{Total: 80 << 30, Used: 10 << 30, Free: 70 << 30}, nvml.SUCCESS
	}
	d.GetUtilizationRatesFunc = func() (nvml.Utilization, nvml.Return) {
		return nvml.Utilization{Gpu: 90, Memory: 40}, nvml.SUCCESS
	}
	d.GetTemperatureFunc = func(nvml.TemperatureSensors) (uint32, nvml.Return) { return 61, nvml.SUCCESS }
	d.GetPowerUsageFunc = func() (uint32, nvml.Return) { return 512_500, nvml.SUCCESS }
	d.GetTotalEnergyConsumptionFunc = func() (uint64, nvml.Return) { // +500 J a call
		return 1_000_000 + energy.Add(500_000) - 500_000, nvml.SUCCESS
	}
	d.GetClockInfoFunc = func(c nvml.ClockType) (uint32, nvml.Return) {
		if c == nvml.CLOCK_SM {
			return 1980, nvml.SUCCESS
		}
		return 2619, nvml.SUCCESS
	}
	d.GetPcieThroughputFunc = func(c nvml.PcieUtilCounter) (uint32, nvml.Return) {
		if c == nvml.PCIE_UTIL_TX_BYTES {
			return 1000, nvml.SUCCESS
		}
		return 2000, nvml.SUCCESS
	}
	d.GetFieldValuesFunc = func(fields []nvml.FieldValue) nvml.Return { // +1 GiB TX, +2 GiB RX a call
		n := nvlink.Add(1)
		for i := range fields {
			fields[i].ValueType = uint32(nvml.VALUE_TYPE_UNSIGNED_LONG_LONG)
			kib := n << 20
			if fields[i].FieldId == nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_RX {
				kib *= 2
			}
			binary.LittleEndian.PutUint64(fields[i].Value[:], kib)
		}
		return nvml.SUCCESS
	}
	d.GetTotalEccErrorsFunc = func(kind nvml.MemoryErrorType, _ nvml.EccCounterType) (uint64, nvml.Return) {
		if kind == nvml.MEMORY_ERROR_TYPE_CORRECTED {
			return 3, nvml.SUCCESS
		}
		return 0, nvml.SUCCESS
	}
	d.GetCurrentClocksEventReasonsFunc = func() (uint64, nvml.Return) { return 4, nvml.SUCCESS }
	d.GpmQueryDeviceSupportFunc = func() (nvml.GpmSupport, nvml.Return) {
		return nvml.GpmSupport{IsSupportedDevice: 1}, nvml.SUCCESS
	}
	d.GpmSampleGetFunc = func(nvml.GpmSample) nvml.Return { return nvml.SUCCESS }
	d.GetComputeRunningProcessesFunc = func() ([]nvml.ProcessInfo, nvml.Return) { return nil, nvml.SUCCESS }
	d.GetProcessUtilizationFunc = func(uint64) ([]nvml.ProcessUtilizationSample, nvml.Return) {
		return nil, nvml.ERROR_NOT_FOUND
	}
	d.GetSupportedEventTypesFunc = func() (uint64, nvml.Return) {
		return nvml.EventTypeXidCriticalError | nvml.EventTypeSingleBitEccError, nvml.SUCCESS
	}
	d.RegisterEventsFunc = func(uint64, nvml.EventSet) nvml.Return { return nvml.SUCCESS }
}

// addMIG turns MIG on for d and gives it n MIG devices, GPU instances
// 1…n, compute instance 0, each with procs.
func addMIG(d *server.Device, n int, procs []nvml.ProcessInfo) []*mock.Device {
	d.MigMode = nvml.DEVICE_MIG_ENABLE
	var migs []*mock.Device
	for i := range n {
		m := &mock.Device{
			GetUUIDFunc: func() (string, nvml.Return) {
				return fmt.Sprintf("MIG-%d%s", i+1, d.UUID[len("GPU-")+1:]), nvml.SUCCESS
			},
			GetNameFunc: func() (string, nvml.Return) { return "NVIDIA H100 80GB HBM3 MIG 3g.40gb", nvml.SUCCESS },
			GetMemoryInfoFunc: func() (nvml.Memory, nvml.Return) {
				return nvml.Memory{Total: 40 << 30, Used: 1 << 30, Free: 39 << 30}, nvml.SUCCESS
			},
			GetMemoryInfo_v2Func: func() (nvml.Memory_v2, nvml.Return) {
				return nvml.Memory_v2{}, nvml.ERROR_NOT_SUPPORTED
			},
			GetGpuInstanceIdFunc:           func() (int, nvml.Return) { return i + 1, nvml.SUCCESS },
			GetComputeInstanceIdFunc:       func() (int, nvml.Return) { return 0, nvml.SUCCESS },
			GetComputeRunningProcessesFunc: func() ([]nvml.ProcessInfo, nvml.Return) { return procs, nvml.SUCCESS },
		}
		migs = append(migs, m)
	}
	d.GetMaxMigDeviceCountFunc = func() (int, nvml.Return) { return 7, nvml.SUCCESS }
	d.GetMigDeviceHandleByIndexFunc = func(i int) (nvml.Device, nvml.Return) {
		if i < len(migs) {
			return migs[i], nvml.SUCCESS
		}
		return nil, nvml.ERROR_NOT_FOUND
	}
	return migs
}

func gpuDevice(s *server.Server, i int) *server.Device { return s.Devices[i].(*server.Device) }

func openSampler(t testing.TB, lib nvml.Interface, visible string, set bool) *Sampler {
	t.Helper()
	s, err := Open(lib, visible, set)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func afterMillis(ms uint32) <-chan time.Time { return time.After(time.Duration(ms) * time.Millisecond) }
