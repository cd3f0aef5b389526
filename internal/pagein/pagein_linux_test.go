package pagein

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"reflect"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// TestExecutableMapsTheCode unmaps the test binary's code from the page
// tables (MADV_DONTNEED: it faults back in from the page cache as it
// runs), then checks that Executable maps all of it again.
func TestExecutableMapsTheCode(t *testing.T) {
	text, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no memory map: %v", err)
	}
	code := segments(parseMaps(text), reflect.ValueOf(Executable).Pointer())
	if len(code) == 0 {
		t.Fatal("the test binary's code is not in /proc/self/maps")
	}
	var size uintptr
	for _, s := range code {
		size += s.end - s.start
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, s.start, s.end-s.start, unix.MADV_DONTNEED); errno != 0 {
			t.Fatalf("madvise MADV_DONTNEED: %v", errno)
		}
	}
	before, sizeKiB := residentKiB(t, code), int64(size>>10)
	if before > sizeKiB*9/10 {
		// The test's own run faulted the code back in before it was
		// measured: nothing is left to tell Executable's work from.
		t.Skipf("%d of %d KiB resident again before the call", before, sizeKiB)
	}
	n, err := Executable()
	if errors.Is(err, unix.EINVAL) {
		t.Skipf("kernel without MADV_POPULATE_READ: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	after := residentKiB(t, code)
	if n != int64(size) {
		t.Errorf("Executable covered %d bytes, want the %d of the read-only segments", n, size)
	}
	if after < sizeKiB*99/100 {
		t.Errorf("resident %d KiB before the call and %d KiB after, of %d KiB: want all of it after", before, after, sizeKiB)
	}
}

// residentKiB sums the Rss of the given mappings in /proc/self/smaps.
func residentKiB(t *testing.T, maps []mapping) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	want := map[uintptr]bool{}
	for _, m := range maps {
		want[m.start] = true
	}
	var total int64
	in := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if m := parseMaps(sc.Bytes()); len(m) == 1 {
			in = want[m[0].start]
			continue
		}
		switch {
		case in && len(f) >= 2 && string(f[0]) == "Rss:":
			kib, err := strconv.ParseInt(string(f[1]), 10, 64)
			if err != nil {
				t.Fatalf("smaps Rss %q: %v", f[1], err)
			}
			total += kib
		}
	}
	return total
}
