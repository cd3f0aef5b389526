package cli

import (
	"strings"
	"testing"

	"github.com/graphsignal/graphsignal/internal/recorder"
)

// TestMemorySummary checks the memory part of the summary's second line:
// the figures as recorded, and never "0 B" for a run whose process no
// sample saw alive (true can end before the first sample).
func TestMemorySummary(t *testing.T) {
	tests := []struct {
		name string
		res  recorder.Resources
		want string
	}{
		{"not sampled", recorder.Resources{}, "memory not sampled"},
		{"ended before the first sample", recorder.Resources{Sampled: true, PeakProcesses: 1},
			"memory not seen (the program ended before the first sample)"},
		{"one process", recorder.Resources{Sampled: true, PeakRSS: 900 << 10, LargestRSS: 900 << 10, PeakProcesses: 1},
			"peak memory 900 KiB (largest process 900 KiB) · 1 process"},
		{"a pool", recorder.Resources{Sampled: true, PeakRSS: 129 << 20, LargestRSS: 30 << 20, PeakProcesses: 5},
			"peak memory 129 MiB (largest process 30 MiB) · 5 processes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := memorySummary(tt.res)
			if got != tt.want {
				t.Errorf("memorySummary(%+v) = %q, want %q", tt.res, got, tt.want)
			}
			if strings.Contains(got, " 0 B") {
				t.Errorf("memorySummary(%+v) = %q, says 0 B", tt.res, got)
			}
		})
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{{0, "0 spans"}, {1, "1 span"}, {2, "2 spans"}}
	for _, tt := range tests {
		if got := plural(tt.n, "span", "spans"); got != tt.want {
			t.Errorf("plural(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
