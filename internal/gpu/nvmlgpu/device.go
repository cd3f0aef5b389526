//go:build cgo

package nvmlgpu

import (
	"math"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/graphsignal/graphsignal/internal/gpu"
)

// device is one visible device and what Sample keeps of it between passes.
// Only the goroutine sampling it in a pass touches its mutable fields.
type device struct {
	h    nvml.Device
	info gpu.Device

	mig     bool        // a MIG device: memory and processes only
	parentH nvml.Device // the physical GPU of a MIG device
	gi, ci  int         // a MIG device's GPU and compute instance ids

	// processesViaMIG: a MIG-enabled GPU whose MIG devices are sampled;
	// its processes are read on them, not on it.
	processesViaMIG bool

	lost        bool
	unsupported map[string]bool // probes that answered NOT_SUPPORTED

	energyKnown bool
	energyBase  uint64 // mJ at Open
	gpm         *gpmState
	procSeen    uint64 // last process utilization timestamp, µs

	nvlinkKnown    bool
	nvlinkTX       uint64 // KiB
	nvlinkRX       uint64
	nvlinkReadTime time.Time
}

// deviceResult is one device's part of a pass.
type deviceResult struct {
	values    map[string]float64
	processes []gpu.Process
	lost      nvml.Return // ERROR_GPU_IS_LOST when the device stopped answering
}

// Sample reads every visible device once, concurrently (NVML is thread
// safe; PCIe throughput alone takes 20 ms a call). Devices that answered
// NVML_ERROR_GPU_IS_LOST come back in gone, once each, and are not sampled
// again. A metric a device does not support is absent from its values;
// after NOT_SUPPORTED it is not asked again.
func (s *Sampler) Sample(now time.Time) (gpu.Sample, []gpu.Gone) {
	results := make([]deviceResult, len(s.devices))
	var wg sync.WaitGroup
	for i, d := range s.devices {
		if d.lost {
			continue
		}
		wg.Go(func() { results[i] = s.sampleDevice(d, now) })
	}
	wg.Wait()

	sample := gpu.Sample{Time: now, Devices: []gpu.DeviceSample{}}
	var gone []gpu.Gone
	for i, d := range s.devices {
		r := results[i]
		switch {
		case r.lost != nvml.SUCCESS:
			d.lost = true
			gone = append(gone, gpu.Gone{Time: now, UUID: d.info.UUID, Reason: lostReason(r.lost)})
		case r.values != nil:
			sample.Devices = append(sample.Devices, gpu.DeviceSample{UUID: d.info.UUID, Values: r.values})
			sample.Processes = append(sample.Processes, r.processes...)
		}
	}
	return sample, gone
}

// probe is one pass's reading of one device.
type probe struct {
	s   *Sampler
	d   *device
	r   deviceResult
	now time.Time
}

// want reports whether the probe named name should be asked.
func (p *probe) want(name string) bool {
	return p.r.lost == nvml.SUCCESS && !p.d.unsupported[name]
}

// ok reports whether ret is SUCCESS; otherwise it remembers a lost device
// or an unsupported probe, and notes why name is missing.
func (p *probe) ok(name string, ret nvml.Return) bool {
	switch ret {
	case nvml.SUCCESS:
		return true
	case nvml.ERROR_GPU_IS_LOST:
		p.r.lost = ret
	case nvml.ERROR_NOT_SUPPORTED, nvml.ERROR_FUNCTION_NOT_FOUND, nvml.ERROR_NO_PERMISSION:
		p.d.unsupported[name] = true
		p.s.note(p.d.info.UUID+" "+name, "%s: %s not reported: %v", p.d.info.UUID, name, ret)
	default:
		p.s.note(p.d.info.UUID+" "+name+" "+ret.Error(), "%s: %s not read: %v", p.d.info.UUID, name, ret)
	}
	return false
}

func (s *Sampler) sampleDevice(d *device, now time.Time) deviceResult {
	p := &probe{s: s, d: d, now: now, r: deviceResult{values: make(map[string]float64, 24)}}
	p.memory()
	if !d.mig {
		p.gpuMetrics()
		p.nvlink()
		if d.gpm != nil && p.want("gpm") {
			p.ok("gpm", d.gpm.sample(d.h, now, p.r.values))
		}
	}
	if !d.processesViaMIG {
		p.processes()
	}
	return p.r
}

func (p *probe) memory() {
	h, v := p.d.h, p.r.values
	if p.s.symbols[symMemoryInfoV2] && p.want("memory_v2") {
		m, ret := h.GetMemoryInfo_v2()
		if ret == nvml.SUCCESS {
			v[gpu.MetricMemoryUsage], v[gpu.MetricMemoryFree], v[gpu.MetricMemoryTotal] = float64(m.Used), float64(m.Free), float64(m.Total)
			return
		}
		if ret == nvml.ERROR_GPU_IS_LOST {
			p.r.lost = ret
			return
		}
		p.d.unsupported["memory_v2"] = ret == nvml.ERROR_NOT_SUPPORTED || ret == nvml.ERROR_FUNCTION_NOT_FOUND
	}
	if p.want("memory") {
		m, ret := h.GetMemoryInfo()
		if p.ok("memory", ret) {
			v[gpu.MetricMemoryUsage], v[gpu.MetricMemoryFree], v[gpu.MetricMemoryTotal] = float64(m.Used), float64(m.Free), float64(m.Total)
		}
	}
}

func (p *probe) gpuMetrics() {
	h, v := p.d.h, p.r.values
	if p.want(gpu.MetricUtilization) {
		u, ret := h.GetUtilizationRates()
		if p.ok(gpu.MetricUtilization, ret) {
			v[gpu.MetricUtilization], v[gpu.MetricMemoryAccess] = float64(u.Gpu), float64(u.Memory)
		}
	}
	if p.want(gpu.MetricTemperature) {
		t, ret := h.GetTemperature(nvml.TEMPERATURE_GPU)
		if p.ok(gpu.MetricTemperature, ret) {
			v[gpu.MetricTemperature] = float64(t)
		}
	}
	if p.want(gpu.MetricPowerUsage) {
		mw, ret := h.GetPowerUsage()
		if p.ok(gpu.MetricPowerUsage, ret) {
			v[gpu.MetricPowerUsage] = float64(mw) / 1000
		}
	}
	if p.want(gpu.MetricPowerLimit) {
		mw, ret := h.GetEnforcedPowerLimit()
		if p.ok(gpu.MetricPowerLimit, ret) {
			v[gpu.MetricPowerLimit] = float64(mw) / 1000
		}
	}
	if p.d.energyKnown && p.want(gpu.MetricEnergy) {
		mj, ret := h.GetTotalEnergyConsumption()
		if p.ok(gpu.MetricEnergy, ret) {
			if mj < p.d.energyBase { // the driver reloaded: count from zero again
				p.d.energyBase = 0
			}
			v[gpu.MetricEnergy] = float64(mj-p.d.energyBase) / 1000
		}
	}
	p.clock(gpu.MetricClockSM, nvml.CLOCK_SM)
	p.clock(gpu.MetricClockMemory, nvml.CLOCK_MEM)
	p.pcie(gpu.MetricPCIeTX, nvml.PCIE_UTIL_TX_BYTES)
	p.pcie(gpu.MetricPCIeRX, nvml.PCIE_UTIL_RX_BYTES)
	p.ecc(gpu.MetricECCCorrected, nvml.MEMORY_ERROR_TYPE_CORRECTED)
	p.ecc(gpu.MetricECCUncorrected, nvml.MEMORY_ERROR_TYPE_UNCORRECTED)
	if p.want(gpu.MetricThrottleReasons) {
		var reasons uint64
		ret := nvml.ERROR_FUNCTION_NOT_FOUND
		switch {
		case p.s.symbols[symClocksEventReasons]:
			reasons, ret = h.GetCurrentClocksEventReasons()
		case p.s.symbols[symThrottleReasons]:
			reasons, ret = h.GetCurrentClocksThrottleReasons()
		}
		if p.ok(gpu.MetricThrottleReasons, ret) {
			v[gpu.MetricThrottleReasons] = float64(reasons)
		}
	}
}

func (p *probe) clock(name string, clock nvml.ClockType) {
	if p.want(name) {
		mhz, ret := p.d.h.GetClockInfo(clock)
		if p.ok(name, ret) {
			p.r.values[name] = float64(mhz)
		}
	}
}

// pcie reads a PCIe throughput, which NVML gives in KB/s (KiB, as the
// other NVML byte counts) over its last 20 ms.
func (p *probe) pcie(name string, counter nvml.PcieUtilCounter) {
	if p.want(name) {
		kbs, ret := p.d.h.GetPcieThroughput(counter)
		if p.ok(name, ret) {
			p.r.values[name] = float64(kbs) * 1024
		}
	}
}

func (p *probe) ecc(name string, kind nvml.MemoryErrorType) {
	if p.want(name) {
		n, ret := p.d.h.GetTotalEccErrors(kind, nvml.VOLATILE_ECC)
		if p.ok(name, ret) {
			p.r.values[name] = float64(n)
		}
	}
}

// nvlink reads the NVLink data counters (KiB, summed over the links) and
// reports their rates from the second pass on.
func (p *probe) nvlink() {
	if !p.s.symbols[symFieldValues] || !p.want(gpu.MetricNVLinkTX) {
		return
	}
	fields := []nvml.FieldValue{
		{FieldId: nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_TX, ScopeId: math.MaxUint32},
		{FieldId: nvml.FI_DEV_NVLINK_THROUGHPUT_DATA_RX, ScopeId: math.MaxUint32},
	}
	if !p.ok(gpu.MetricNVLinkTX, p.d.h.GetFieldValues(fields)) {
		return
	}
	for _, f := range fields {
		if ret := nvml.Return(f.NvmlReturn); !p.ok(gpu.MetricNVLinkTX, ret) {
			return
		}
	}
	tx, txOK := fieldUint(fields[0])
	rx, rxOK := fieldUint(fields[1])
	if !txOK || !rxOK {
		p.d.unsupported[gpu.MetricNVLinkTX] = true
		p.s.note(p.d.info.UUID+" nvlink type", "%s: NVLink counters of value type %d not read", p.d.info.UUID, fields[0].ValueType)
		return
	}
	d := p.d
	if dt := p.now.Sub(d.nvlinkReadTime).Seconds(); d.nvlinkKnown && dt > 0 && tx >= d.nvlinkTX && rx >= d.nvlinkRX {
		p.r.values[gpu.MetricNVLinkTX] = float64(tx-d.nvlinkTX) * 1024 / dt
		p.r.values[gpu.MetricNVLinkRX] = float64(rx-d.nvlinkRX) * 1024 / dt
	}
	d.nvlinkKnown, d.nvlinkTX, d.nvlinkRX, d.nvlinkReadTime = true, tx, rx, p.now
}

// fieldUint decodes an unsigned field value.
func fieldUint(f nvml.FieldValue) (uint64, bool) {
	b := f.Value
	switch nvml.ValueType(f.ValueType) {
	case nvml.VALUE_TYPE_UNSIGNED_LONG_LONG, nvml.VALUE_TYPE_UNSIGNED_LONG:
		return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56, true
	case nvml.VALUE_TYPE_UNSIGNED_INT:
		return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24, true
	}
	return 0, false
}

// processes reads the device's compute processes and, where NVML gives
// it, their SM utilization since the last pass.
func (p *probe) processes() {
	if !p.want("processes") {
		return
	}
	infos, ret := p.d.h.GetComputeRunningProcesses()
	if !p.ok("processes", ret) || len(infos) == 0 {
		return
	}
	util := p.processUtilization()
	for _, info := range infos {
		proc := gpu.Process{PID: int(info.Pid), UUID: p.d.info.UUID}
		if info.UsedGpuMemory != math.MaxUint64 { // NVML_VALUE_NOT_AVAILABLE
			proc.MemoryUsed = info.UsedGpuMemory
		}
		if util != nil {
			u := util[info.Pid]
			proc.Utilization = &u
		}
		p.r.processes = append(p.r.processes, proc)
	}
}

// processUtilization returns the mean SM % of each process since the last
// pass (a process absent had none), or nil when NVML gives none: MIG
// devices, a driver without the function.
func (p *probe) processUtilization() map[uint32]float64 {
	const name = "process utilization"
	if p.d.mig || p.d.info.MIG == "enabled" || !p.s.symbols[symProcessUtilization] || !p.want(name) {
		return nil
	}
	samples, ret := p.d.h.GetProcessUtilization(p.d.procSeen)
	if ret == nvml.ERROR_NOT_FOUND { // no sample since the last pass: idle
		return map[uint32]float64{}
	}
	if !p.ok(name, ret) {
		return nil
	}
	sum := make(map[uint32]float64)
	count := make(map[uint32]float64)
	for _, s := range samples {
		sum[s.Pid] += float64(s.SmUtil)
		count[s.Pid]++
		p.d.procSeen = max(p.d.procSeen, s.TimeStamp)
	}
	for pid := range sum {
		sum[pid] /= count[pid]
	}
	return sum
}
