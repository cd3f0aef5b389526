package env

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestHost(t *testing.T) {
	h := Host()
	name, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if h.Name != name || h.OS != runtime.GOOS || h.Arch != runtime.GOARCH || h.CPUs != runtime.NumCPU() {
		t.Errorf("Host() = %+v", h)
	}
	if runtime.GOOS != "linux" {
		return
	}
	out, err := exec.Command("uname", "-r").Output()
	if err != nil {
		t.Skipf("uname -r: %v", err)
	}
	if want := strings.TrimSpace(string(out)); h.KernelRelease != want {
		t.Errorf("KernelRelease = %q, want %q (uname -r)", h.KernelRelease, want)
	}
	if want := memTotal(t); h.MemoryTotal != want {
		t.Errorf("MemoryTotal = %d, want %d (/proc/meminfo)", h.MemoryTotal, want)
	}
}

// memTotal reads MemTotal from /proc/meminfo, in bytes.
func memTotal(t *testing.T) uint64 {
	t.Helper()
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		t.Skipf("open /proc/meminfo: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseUint(fields[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb * 1024
		}
	}
	t.Skip("no MemTotal in /proc/meminfo")
	return 0
}

func TestHostAttributes(t *testing.T) {
	h := HostInfo{Name: "box", OS: "linux", Arch: "amd64", KernelRelease: "6.8.0", CPUs: 16, MemoryTotal: 1 << 30}
	got := h.Attributes()
	want := map[string]any{
		"host.name": "box", AttrOSType: "linux", AttrHostArch: "amd64", AttrOSVersion: "6.8.0",
		AttrHostCPUCount: int64(16), AttrHostMemoryTotal: int64(1 << 30),
	}
	if len(got) != len(want) {
		t.Errorf("Attributes() = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("Attributes()[%q] = %v (%T), want %v (%T)", k, got[k], got[k], v, v)
		}
	}
	if a := (HostInfo{}).Attributes(); len(a) != 0 {
		t.Errorf("empty HostInfo attributes = %v, want none", a)
	}
}
