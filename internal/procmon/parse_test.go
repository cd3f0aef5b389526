package procmon

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// statLine builds a /proc/<pid>/stat line with the given pid and command
// name; fields after the name follow a real kernel's layout.
func statLine(pid, comm string) string {
	return pid + " (" + comm + ") S 7 42 42 0 -1 4194304 100 0 0 0 " +
		"150 25 300 40 20 0 3 0 123456 10485760 512 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
}

func TestParseStat(t *testing.T) {
	want := procStat{pid: 99, ppid: 7, state: 'S', utime: 150, stime: 25, cutime: 300, cstime: 40,
		threads: 3, start: 123456, vsize: 10485760, rssPages: 512}
	tests := []struct {
		name, line string
	}{
		{"plain", statLine("99", "sleep")},
		{"spaces", statLine("99", "my prog")},
		{"parens", statLine("99", "a) (b")},
		{"close paren last", statLine("99", "x) S 1 2 3 (")},
		{"empty name", statLine("99", "")},
		{"no newline", statLine("99", "sh")[:len(statLine("99", "sh"))-1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got procStat
			if err := parseStat([]byte(tt.line), &got); err != nil {
				t.Fatalf("parseStat(%q) = %v, want nil", tt.line, err)
			}
			if diff := cmp.Diff(want, got, cmp.AllowUnexported(procStat{})); diff != "" {
				t.Errorf("parseStat(%q) mismatch (-want +got):\n%s", tt.line, diff)
			}
		})
	}
}

func TestParseStatNegativeFields(t *testing.T) {
	line := "5 (x) Z 1 5 5 0 -1 0 0 0 0 0 1 2 -3 -4 20 0 -1 0 77 0 -9"
	var got procStat
	if err := parseStat([]byte(line), &got); err != nil {
		t.Fatalf("parseStat(%q) = %v, want nil", line, err)
	}
	want := procStat{pid: 5, ppid: 1, state: 'Z', utime: 1, stime: 2, start: 77}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(procStat{})); diff != "" {
		t.Errorf("parseStat(%q) mismatch (-want +got):\n%s", line, diff)
	}
}

func TestParseStatMalformed(t *testing.T) {
	for _, line := range []string{
		"",
		"99",
		"(sleep) S 1",
		"99 sleep S 1 2 3",
		"99 (sleep S 1 2 3",
		"abc (sleep) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22",
		"0 (sleep) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22",
		"99 (sleep) S 1 2 3",                   // truncated
		"99 (a) (b) S 1 2 3 4 5 6 7 8 9 10 11", // truncated after a tricky name
		"99 (sleep) SS 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22",
		"99 (sleep) S x 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22",
		"99 (sleep) S 1 2 3 4 5 6 7 8 9 10 1x 12 13 14 15 16 17 18 19 20 21 22",
		"99 (sleep) S 1 2 3 4 5 6 7 8 9 10 11 12 -x 14 15 16 17 18 19 20 21 22",
		"99 (sleep) S 99999999999 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22",
		"99 (sleep) S 1 2 3 4 5 6 7 8 9 10 99999999999999999999999 12 13 14 15 16 17 18 19 20 21 22",
	} {
		var st procStat
		if err := parseStat([]byte(line), &st); !errors.Is(err, errMalformed) {
			t.Errorf("parseStat(%q) = %v, want errMalformed", line, err)
		}
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte(statLine("1", "a) (b")))
	f.Add([]byte("1 (x) R"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var st procStat
		if err := parseStat(b, &st); err == nil && st.pid <= 0 {
			t.Errorf("parseStat(%q) accepted pid %d", b, st.pid)
		}
	})
}

func TestParseIO(t *testing.T) {
	tests := []struct {
		in      string
		want    ioCounters
		wantErr bool
	}{
		{"rchar: 5\nwchar: 6\nsyscr: 1\nsyscw: 1\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n", ioCounters{4096, 8192}, false},
		{"read_bytes: 1\nwrite_bytes: 2", ioCounters{1, 2}, false},
		{"read_bytes: 1\n", ioCounters{}, true},
		{"read_bytes: x\nwrite_bytes: 2\n", ioCounters{}, true},
		{"", ioCounters{}, true},
	}
	for _, tt := range tests {
		got, err := parseIO([]byte(tt.in))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseIO(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseHostCPU(t *testing.T) {
	tests := []struct {
		in      string
		want    cpuTimes
		wantErr bool
	}{
		{"cpu  10 1 5 100 4 1 1 2 7 0\ncpu0 1 1 1 1\nintr 1 2 3\n", cpuTimes{busy: 20, total: 124}, false},
		{"cpu 1 2 3 4\n", cpuTimes{busy: 6, total: 10}, false},
		{"cpu 1 2 3\n", cpuTimes{}, true},
		{"cpu0 1 2 3 4\n", cpuTimes{}, true},
		{"cpu 1 2 x 4\n", cpuTimes{}, true},
	}
	for _, tt := range tests {
		got, err := parseHostCPU([]byte(tt.in))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseHostCPU(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseMeminfo(t *testing.T) {
	tests := []struct {
		in           string
		total, avail uint64
		wantErr      bool
	}{
		{"MemTotal:       16000 kB\nMemFree:  1 kB\nMemAvailable:    4000 kB\n", 16000 << 10, 4000 << 10, false},
		{"MemTotal: 1 kB\n", 0, 0, true},
		{"MemTotal: x kB\nMemAvailable: 1 kB\n", 0, 0, true},
	}
	for _, tt := range tests {
		total, avail, err := parseMeminfo([]byte(tt.in))
		if (err != nil) != tt.wantErr || total != tt.total || avail != tt.avail {
			t.Errorf("parseMeminfo(%q) = %d, %d, %v; want %d, %d, error %v", tt.in, total, avail, err, tt.total, tt.avail, tt.wantErr)
		}
	}
}
