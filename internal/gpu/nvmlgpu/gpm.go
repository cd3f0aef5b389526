//go:build cgo

package nvmlgpu

import (
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/graphsignal/graphsignal/internal/gpu"
)

// gpmMinSpan is the least time between the two GPM samples whose
// difference gives the GPM metrics (NVML's advice).
const gpmMinSpan = 100 * time.Millisecond

// gpmMetrics are the GPM metrics read, and the gpu metrics they become.
var gpmMetrics = []struct {
	id     nvml.GpmMetricId
	metric string
}{
	{nvml.GPM_METRIC_SM_UTIL, gpu.MetricSMActivity},
	{nvml.GPM_METRIC_SM_OCCUPANCY, gpu.MetricSMOccupancy},
	{nvml.GPM_METRIC_ANY_TENSOR_UTIL, gpu.MetricTensorActivity},
	{nvml.GPM_METRIC_DRAM_BW_UTIL, gpu.MetricDRAMBandwidth},
}

// gpmState is a device's GPM (GPU performance monitoring, Hopper and
// newer): the previous GPM sample and the buffers reused for each pass.
type gpmState struct {
	lib        nvml.Interface
	prev, cur  nvml.GpmSample
	prevTime   time.Time
	havePrev   bool
	metricsGet nvml.GpmMetricsGetType
}

// newGPM returns d's GPM state, or nil when the driver or d lacks GPM.
func (s *Sampler) newGPM(d *device) *gpmState {
	for _, sym := range []string{symGpmSupport, symGpmSampleAlloc, symGpmSampleGet, symGpmMetricsGet} {
		if !s.symbols[sym] {
			return nil
		}
	}
	support, ret := d.h.GpmQueryDeviceSupport()
	if ret != nvml.SUCCESS || support.IsSupportedDevice == 0 {
		s.note(d.info.UUID+" gpm", "%s: GPM metrics not reported: device without GPM (%v)", d.info.UUID, ret)
		return nil
	}
	prev, ret := s.lib.GpmSampleAlloc()
	if ret != nvml.SUCCESS {
		return nil
	}
	cur, ret := s.lib.GpmSampleAlloc()
	if ret != nvml.SUCCESS {
		prev.Free()
		return nil
	}
	return &gpmState{lib: s.lib, prev: prev, cur: cur}
}

// sample takes a GPM sample of h and, when the previous one is at least
// gpmMinSpan older, puts the metrics between them in values.
func (g *gpmState) sample(h nvml.Device, now time.Time, values map[string]float64) nvml.Return {
	if g.havePrev && now.Sub(g.prevTime) < gpmMinSpan {
		return nvml.SUCCESS
	}
	if ret := h.GpmSampleGet(g.cur); ret != nvml.SUCCESS {
		return ret
	}
	g.prev, g.cur = g.cur, g.prev
	hadPrev := g.havePrev
	g.havePrev, g.prevTime = true, now
	if !hadPrev {
		return nvml.SUCCESS
	}
	mg := &g.metricsGet
	mg.NumMetrics = uint32(len(gpmMetrics))
	mg.Sample1, mg.Sample2 = g.cur, g.prev // older, newer
	for i, m := range gpmMetrics {
		mg.Metrics[i] = nvml.GpmMetric{MetricId: uint32(m.id)}
	}
	if ret := g.lib.GpmMetricsGet(mg); ret != nvml.SUCCESS {
		return ret
	}
	for i, m := range gpmMetrics {
		if mg.Metrics[i].NvmlReturn == uint32(nvml.SUCCESS) {
			values[m.metric] = mg.Metrics[i].Value
		}
	}
	return nvml.SUCCESS
}

// free frees the GPM samples; g may be nil.
func (g *gpmState) free() {
	if g == nil {
		return
	}
	g.prev.Free()
	g.cur.Free()
}
