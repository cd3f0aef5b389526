//go:build cgo

// Package nvmlgpu samples NVIDIA devices through NVML (go-nvml): their
// facts, their metrics, their compute processes and their XID events, as
// the values of package gpu. It is the whole of the GPU sampler process
// (cmd/graphsignal-gpu), which Run drives; it takes an nvml.Interface so
// that tests run it on go-nvml's mock.
//
// No NVML call is made after a failed Init (go-nvml would call into a
// library that is not there). Functions that newer drivers added are
// called only when the library exports them.
package nvmlgpu

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/graphsignal/graphsignal/internal/gpu"
)

// Sampler samples the visible devices of one NVML session. Sample and
// WatchXID may run at the same time; Sample is not safe for concurrent use
// with itself. After Close no method may be called.
type Sampler struct {
	lib     nvml.Interface
	hello   gpu.Hello
	devices []*device // the visible ones, in Hello's order
	symbols map[string]bool

	closeOnce sync.Once

	notesMu sync.Mutex
	notes   []string
	noted   map[string]bool
}

// Optional symbols: functions that drivers older than the oldest we meet
// in practice lack. go-nvml resolves symbols lazily; calling a missing one
// crashes the process, so each is looked up once, in Open.
const (
	symMemoryInfoV2       = "nvmlDeviceGetMemoryInfo_v2"
	symClocksEventReasons = "nvmlDeviceGetCurrentClocksEventReasons"
	symThrottleReasons    = "nvmlDeviceGetCurrentClocksThrottleReasons"
	symArchitecture       = "nvmlDeviceGetArchitecture"
	symMigMode            = "nvmlDeviceGetMigMode"
	symFieldValues        = "nvmlDeviceGetFieldValues"
	symGpmSupport         = "nvmlGpmQueryDeviceSupport"
	symGpmSampleAlloc     = "nvmlGpmSampleAlloc"
	symGpmSampleGet       = "nvmlGpmSampleGet"
	symGpmMetricsGet      = "nvmlGpmMetricsGet"
	symProcessUtilization = "nvmlDeviceGetProcessUtilization"
	symEnergy             = "nvmlDeviceGetTotalEnergyConsumption"
)

var optionalSymbols = []string{
	symMemoryInfoV2, symClocksEventReasons, symThrottleReasons, symArchitecture,
	symMigMode, symFieldValues, symGpmSupport, symGpmSampleAlloc, symGpmSampleGet,
	symGpmMetricsGet, symProcessUtilization, symEnergy,
}

// Open initializes NVML on lib and discovers the devices that
// CUDA_VISIBLE_DEVICES (visible; visibleSet false when unset) leaves
// visible. When Init fails, the error says why and wraps the nvml.Return
// (errors.Is(err, nvml.ERROR_LIBRARY_NOT_FOUND)), and no other call was
// made on lib. The caller must Close a returned Sampler.
func Open(lib nvml.Interface, visible string, visibleSet bool) (*Sampler, error) {
	if ret := lib.Init(); ret != nvml.SUCCESS {
		return nil, fmt.Errorf("nvml init: %s: %w", initFailure(ret), ret)
	}
	s := &Sampler{lib: lib, symbols: make(map[string]bool), noted: make(map[string]bool)}
	ext := lib.Extensions()
	for _, name := range optionalSymbols {
		s.symbols[name] = ext.LookupSymbol(name) == nil
	}
	s.hello.System = s.system()
	all, err := s.discover()
	if err != nil {
		s.Close()
		return nil, err
	}
	s.hello.Devices = gpu.Visible(rewriteLegacyMIG(visible, all), visibleSet, infos(all))
	byUUID := make(map[string]*device, len(all))
	for _, d := range all {
		byUUID[d.info.UUID] = d
	}
	for _, info := range s.hello.Devices {
		s.devices = append(s.devices, byUUID[info.UUID])
	}
	s.prepare()
	return s, nil
}

// initFailure says in words why Init returned ret.
func initFailure(ret nvml.Return) string {
	switch ret {
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		return "NVML library (libnvidia-ml.so.1) not found"
	case nvml.ERROR_DRIVER_NOT_LOADED:
		return "NVIDIA driver not loaded"
	case nvml.ERROR_LIB_RM_VERSION_MISMATCH:
		return "NVML library and kernel driver versions differ (driver updated without reload?)"
	case nvml.ERROR_FUNCTION_NOT_FOUND:
		return "driver too old"
	case nvml.ERROR_NO_PERMISSION:
		return "no permission to open the NVIDIA devices"
	case nvml.ERROR_INSUFFICIENT_POWER, nvml.ERROR_IRQ_ISSUE, nvml.ERROR_GPU_IS_LOST:
		return "a GPU is in a bad state"
	}
	return "NVML unavailable"
}

// Hello returns the system and the visible devices.
func (s *Sampler) Hello() gpu.Hello { return s.hello }

// Close frees what Open and WatchXID allocated and shuts NVML down; a
// second Close does nothing.
func (s *Sampler) Close() {
	s.closeOnce.Do(func() {
		for _, d := range s.devices {
			d.gpm.free()
		}
		s.lib.Shutdown()
	})
}

// TakeNotes returns the notes written since the last call: why a metric
// or a device is not reported, each said once.
func (s *Sampler) TakeNotes() []string {
	s.notesMu.Lock()
	defer s.notesMu.Unlock()
	notes := s.notes
	s.notes = nil
	return notes
}

// note records a note once per key.
func (s *Sampler) note(key, format string, args ...any) {
	s.notesMu.Lock()
	defer s.notesMu.Unlock()
	if s.noted[key] {
		return
	}
	s.noted[key] = true
	s.notes = append(s.notes, fmt.Sprintf(format, args...))
}

func (s *Sampler) system() gpu.System {
	var sys gpu.System
	if v, ret := s.lib.SystemGetDriverVersion(); ret == nvml.SUCCESS {
		sys.DriverVersion = v
	}
	if v, ret := s.lib.SystemGetCudaDriverVersion(); ret == nvml.SUCCESS && v > 0 {
		sys.CUDAVersion = fmt.Sprintf("%d.%d", v/1000, v%1000/10)
	}
	if v, ret := s.lib.SystemGetNVMLVersion(); ret == nvml.SUCCESS {
		sys.NVMLVersion = v
	}
	return sys
}

// discover returns every device NVML sees: each GPU, then its MIG
// devices. A GPU that does not answer is left out, with a note.
func (s *Sampler) discover() ([]*device, error) {
	count, ret := s.lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("nvml device count: %w", ret)
	}
	var all []*device
	for i := range count {
		h, ret := s.lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			s.note(fmt.Sprintf("handle %d", i), "GPU %d: no handle: %v", i, ret)
			continue
		}
		d := s.newDevice(h, i)
		if d.info.UUID == "" {
			s.note(fmt.Sprintf("uuid %d", i), "GPU %d: no UUID: left out", i)
			continue
		}
		all = append(all, d)
		if d.info.MIG == "enabled" {
			all = append(all, s.migDevices(d)...)
		}
	}
	return all, nil
}

func (s *Sampler) newDevice(h nvml.Device, index int) *device {
	d := &device{h: h, info: gpu.Device{Index: index}, unsupported: make(map[string]bool)}
	if v, ret := h.GetUUID(); ret == nvml.SUCCESS {
		d.info.UUID = v
	}
	if v, ret := h.GetName(); ret == nvml.SUCCESS {
		d.info.Name = v
	}
	if v, ret := h.GetPciInfo(); ret == nvml.SUCCESS {
		d.info.BusID = cString(v.BusId[:])
	}
	if s.symbols[symArchitecture] {
		if v, ret := h.GetArchitecture(); ret == nvml.SUCCESS {
			d.info.Architecture = architecture(v)
		}
	}
	if major, minor, ret := h.GetCudaComputeCapability(); ret == nvml.SUCCESS {
		d.info.ComputeCapability = strconv.Itoa(major) + "." + strconv.Itoa(minor)
	}
	if v, ret := h.GetMemoryInfo(); ret == nvml.SUCCESS {
		d.info.MemoryTotal = v.Total
	}
	if v, ret := h.GetEnforcedPowerLimit(); ret == nvml.SUCCESS {
		d.info.PowerLimit = float64(v) / 1000
	}
	if s.symbols[symMigMode] {
		if current, _, ret := h.GetMigMode(); ret == nvml.SUCCESS {
			d.info.MIG = "disabled"
			if current == nvml.DEVICE_MIG_ENABLE {
				d.info.MIG = "enabled"
			}
		}
	}
	return d
}

// migDevices returns the MIG devices of the MIG-enabled GPU parent.
func (s *Sampler) migDevices(parent *device) []*device {
	slots, ret := parent.h.GetMaxMigDeviceCount()
	if ret != nvml.SUCCESS {
		return nil
	}
	var migs []*device
	for i := range slots {
		h, ret := parent.h.GetMigDeviceHandleByIndex(i)
		if ret != nvml.SUCCESS {
			continue // NOT_FOUND: no MIG device in this slot
		}
		d := &device{h: h, mig: true, parentH: parent.h, unsupported: make(map[string]bool), info: gpu.Device{
			Index:             parent.info.Index,
			Name:              parent.info.Name,
			BusID:             parent.info.BusID,
			Architecture:      parent.info.Architecture,
			ComputeCapability: parent.info.ComputeCapability,
			Parent:            parent.info.UUID,
		}}
		if v, ret := h.GetUUID(); ret == nvml.SUCCESS {
			d.info.UUID = v
		}
		if d.info.UUID == "" {
			continue
		}
		if v, ret := h.GetName(); ret == nvml.SUCCESS {
			d.info.Name = v
		}
		if v, ret := h.GetMemoryInfo(); ret == nvml.SUCCESS {
			d.info.MemoryTotal = v.Total
		}
		d.gi, d.ci = -1, -1
		if v, ret := h.GetGpuInstanceId(); ret == nvml.SUCCESS {
			d.gi = v
		}
		if v, ret := h.GetComputeInstanceId(); ret == nvml.SUCCESS {
			d.ci = v
		}
		migs = append(migs, d)
	}
	return migs
}

// prepare reads the first energy counter, allocates GPM samples, and
// sends the process reads of a MIG-enabled GPU to its sampled MIG devices.
func (s *Sampler) prepare() {
	for _, d := range s.devices {
		if d.mig {
			continue
		}
		for _, mig := range s.devices {
			d.processesViaMIG = d.processesViaMIG || mig.info.Parent == d.info.UUID
		}
		if s.symbols[symEnergy] {
			if v, ret := d.h.GetTotalEnergyConsumption(); ret == nvml.SUCCESS {
				d.energyBase, d.energyKnown = v, true
			}
		}
		d.gpm = s.newGPM(d)
	}
}

func infos(devices []*device) []gpu.Device {
	out := make([]gpu.Device, len(devices))
	for i, d := range devices {
		out[i] = d.info
	}
	return out
}

// rewriteLegacyMIG replaces the legacy MIG entries of CUDA_VISIBLE_DEVICES
// ("MIG-GPU-<uuid>/<gi>/<ci>") with the UUIDs of the MIG devices they
// name, leaving the other entries as they are.
func rewriteLegacyMIG(value string, devices []*device) string {
	if !strings.Contains(value, "MIG-GPU-") {
		return value
	}
	entries := strings.Split(value, ",")
	for i, entry := range entries {
		parent, gi, ci, ok := parseLegacyMIG(strings.TrimSpace(entry))
		if !ok {
			continue
		}
		for _, d := range devices {
			if d.mig && d.info.Parent == parent && d.gi == gi && d.ci == ci {
				entries[i] = d.info.UUID
			}
		}
	}
	return strings.Join(entries, ",")
}

func parseLegacyMIG(entry string) (parent string, gi, ci int, ok bool) {
	rest, found := strings.CutPrefix(entry, "MIG-")
	if !found || !strings.HasPrefix(rest, "GPU-") {
		return "", 0, 0, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return "", 0, 0, false
	}
	gi, err1 := strconv.Atoi(parts[1])
	ci, err2 := strconv.Atoi(parts[2])
	if err := errors.Join(err1, err2); err != nil {
		return "", 0, 0, false
	}
	return parts[0], gi, ci, true
}

// architecture names a DeviceArchitecture as NVIDIA does.
func architecture(a nvml.DeviceArchitecture) string {
	switch a {
	case nvml.DEVICE_ARCH_KEPLER:
		return "Kepler"
	case nvml.DEVICE_ARCH_MAXWELL:
		return "Maxwell"
	case nvml.DEVICE_ARCH_PASCAL:
		return "Pascal"
	case nvml.DEVICE_ARCH_VOLTA:
		return "Volta"
	case nvml.DEVICE_ARCH_TURING:
		return "Turing"
	case nvml.DEVICE_ARCH_AMPERE:
		return "Ampere"
	case nvml.DEVICE_ARCH_ADA:
		return "Ada"
	case nvml.DEVICE_ARCH_HOPPER:
		return "Hopper"
	case nvml.DEVICE_ARCH_BLACKWELL:
		return "Blackwell"
	case nvml.DEVICE_ARCH_RUBIN:
		return "Rubin"
	}
	return ""
}

// cString returns the NUL-terminated string in b.
func cString(b []int8) string {
	var sb strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}

// lostReason is the Gone reason of a device NVML reports lost.
func lostReason(ret nvml.Return) string {
	return "GPU is lost (" + ret.Error() + "): off the bus or reset"
}
