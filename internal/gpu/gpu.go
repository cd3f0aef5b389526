// Package gpu is what graphsignal knows about GPUs without linking NVML:
// the facts and samples of NVIDIA devices, the line protocol in which the
// GPU sampler process (cmd/graphsignal-gpu, built with cgo) reports them to
// the run, the metric names and units they become, the meaning of XID
// codes, and CUDA_VISIBLE_DEVICES. docs/gpu.md describes the whole.
//
// graphsignal itself is a static binary and never loads NVML: the sampler
// is a separate process started only on a machine with an NVIDIA driver
// (Present), after the program has started.
package gpu

import (
	"os"
	"time"
)

// DriverVersionFile exists when an NVIDIA kernel driver is loaded.
const DriverVersionFile = "/proc/driver/nvidia/version"

// Present reports whether an NVIDIA kernel driver is loaded, by the
// existence of path (DriverVersionFile): one stat, no NVML.
func Present(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Device is the facts of one device, as NVML reports them; empty fields
// are unknown (NVML_ERROR_NOT_SUPPORTED, or a driver too old).
type Device struct {
	// Index is the device's NVML index (nvidia-smi's), not its CUDA
	// index under CUDA_VISIBLE_DEVICES.
	Index int    `json:"index"`
	UUID  string `json:"uuid"` // "GPU-…", or "MIG-…" for a MIG device
	Name  string `json:"name,omitempty"`
	BusID string `json:"bus_id,omitempty"` // PCI bus id, "00000000:18:00.0"
	// Architecture is "Hopper", "Ampere", …; ComputeCapability "9.0".
	Architecture      string  `json:"architecture,omitempty"`
	ComputeCapability string  `json:"compute_capability,omitempty"`
	MemoryTotal       uint64  `json:"memory_total,omitempty"` // bytes
	PowerLimit        float64 `json:"power_limit,omitempty"`  // watts
	// MIG is "enabled" or "disabled" ("" unknown or not supported).
	MIG string `json:"mig,omitempty"`
	// Parent is the UUID of the physical GPU of a MIG device.
	Parent string `json:"parent,omitempty"`
}

// System is the facts common to every device.
type System struct {
	DriverVersion string `json:"driver_version,omitempty"` // "550.54.15"
	CUDAVersion   string `json:"cuda_version,omitempty"`   // "12.4"
	NVMLVersion   string `json:"nvml_version,omitempty"`
}

// Sample is one pass over every device.
type Sample struct {
	Time    time.Time      `json:"time"`
	Devices []DeviceSample `json:"devices"`
	// Processes are the compute processes NVML sees on the devices, all of
	// them (the run keeps those of the program's tree), in NVML's PID
	// namespace (the host's).
	Processes []Process `json:"processes,omitempty"`
}

// DeviceSample is one device's values in a Sample: metric name (a Metric
// constant) to value, in the metric's unit. A metric the device does not
// support is absent, not zero.
type DeviceSample struct {
	UUID   string             `json:"uuid"`
	Values map[string]float64 `json:"values"`
}

// Process is one process's use of one device.
type Process struct {
	PID         int      `json:"pid"`
	UUID        string   `json:"uuid"`                  // the device
	MemoryUsed  uint64   `json:"memory_used"`           // bytes
	Utilization *float64 `json:"utilization,omitempty"` // SM %, nil when NVML gives none
}

// XID is one XID error event of a device (NVML's event set).
type XID struct {
	Time time.Time `json:"time"`
	UUID string    `json:"uuid"` // "" when NVML did not say which device
	Code uint64    `json:"code"`
}

// Gone says that a device stopped answering (NVML_ERROR_GPU_IS_LOST): it
// fell off the bus or was reset.
type Gone struct {
	Time   time.Time `json:"time"`
	UUID   string    `json:"uuid"`
	Reason string    `json:"reason"`
}

// Metric names and units of the gpu.* series (docs/gpu.md), the
// Graphsignal SDK's names. Each point carries the device tags (DeviceTags).
const (
	MetricUtilization        = "gpu.utilization"               // %: a kernel was running
	MetricMemoryAccess       = "gpu.memory.access"             // %: memory controller busy
	MetricMemoryUsage        = "gpu.memory.usage"              // By
	MetricMemoryFree         = "gpu.memory.free"               // By
	MetricMemoryTotal        = "gpu.memory.total"              // By
	MetricTemperature        = "gpu.temperature"               // Cel
	MetricPowerUsage         = "gpu.power.usage"               // W
	MetricPowerLimit         = "gpu.power.limit"               // W
	MetricEnergy             = "gpu.energy"                    // J, counter since the sampler started
	MetricClockSM            = "gpu.clock.sm"                  // MHz
	MetricClockMemory        = "gpu.clock.memory"              // MHz
	MetricPCIeTX             = "gpu.pcie.throughput.tx"        // By/s
	MetricPCIeRX             = "gpu.pcie.throughput.rx"        // By/s
	MetricNVLinkTX           = "gpu.nvlink.throughput.data.tx" // By/s
	MetricNVLinkRX           = "gpu.nvlink.throughput.data.rx" // By/s
	MetricECCCorrected       = "gpu.errors.ecc.sbe.volatile"   // count since the driver loaded
	MetricECCUncorrected     = "gpu.errors.ecc.dbe.volatile"   // count since the driver loaded
	MetricThrottleReasons    = "gpu.throttle_reasons"          // NVML clocks-event reason bit mask
	MetricSMActivity         = "gpu.sm.activity"               // % (GPM, Hopper and newer)
	MetricSMOccupancy        = "gpu.sm.occupancy"              // % (GPM)
	MetricTensorActivity     = "gpu.tensor.activity"           // % (GPM)
	MetricDRAMBandwidth      = "gpu.dram.bandwidth"            // % of peak (GPM)
	MetricProcessMemory      = "gpu.process.memory.usage"      // By: the program's tree on the device
	MetricProcessUtilization = "gpu.process.utilization"       // %: the tree's SM share
	MetricXIDErrors          = "gpu.errors.xid"                // counter: XID events of the run
)

// Units of the gpu.* series, in UCUM as the other series.
const (
	UnitCelsius     = "Cel"
	UnitWatts       = "W"
	UnitJoules      = "J"
	UnitMegahertz   = "MHz"
	UnitBytesPerSec = "By/s"
)
