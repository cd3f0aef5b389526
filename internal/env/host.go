package env

import (
	"os"
	"runtime"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Attribute keys of host facts, OpenTelemetry's host and os semantic
// conventions where they exist; host.cpu.count and host.memory.total are
// graphsignal's own.
const (
	AttrHostArch        = "host.arch"         // string, GOARCH ("amd64", "arm64")
	AttrOSType          = "os.type"           // string, GOOS ("linux", "darwin")
	AttrOSVersion       = "os.version"        // string, the kernel release
	AttrHostCPUCount    = "host.cpu.count"    // int64, logical CPUs usable by graphsignal
	AttrHostMemoryTotal = "host.memory.total" // int64 bytes
)

// HostInfo holds facts about the machine graphsignal runs on. Empty or zero
// fields are unknown.
type HostInfo struct {
	Name          string // host name
	OS            string // GOOS
	Arch          string // GOARCH
	KernelRelease string // uname release, "6.8.0-45-generic"
	CPUs          int    // logical CPUs usable by this process (affinity-aware)
	MemoryTotal   uint64 // physical memory in bytes (the machine's, not a cgroup limit)
}

// Host returns the facts of this machine without blocking I/O: besides the
// host name (os.Hostname) it makes two system calls on Linux (uname,
// sysinfo) and none elsewhere, where the kernel release and memory are left
// unknown. A fact the system does not tell is left empty.
func Host() HostInfo {
	h := HostInfo{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU()}
	h.Name, _ = os.Hostname()
	h.KernelRelease, h.MemoryTotal = kernelFacts()
	return h
}

// Attributes returns the facts as run span attributes; the host name is
// telemetry.AttrHostName. Unknown facts are left out.
func (h HostInfo) Attributes() map[string]any {
	a := make(map[string]any, 6)
	set := func(k, v string) {
		if v != "" {
			a[k] = v
		}
	}
	set(telemetry.AttrHostName, h.Name)
	set(AttrOSType, h.OS)
	set(AttrHostArch, h.Arch)
	set(AttrOSVersion, h.KernelRelease)
	if h.CPUs > 0 {
		a[AttrHostCPUCount] = int64(h.CPUs)
	}
	if h.MemoryTotal > 0 && h.MemoryTotal <= 1<<63-1 {
		a[AttrHostMemoryTotal] = int64(h.MemoryTotal)
	}
	return a
}
