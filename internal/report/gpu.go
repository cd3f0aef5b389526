package report

import (
	"fmt"
	"strings"

	"github.com/graphsignal/graphsignal/internal/gpu"
)

// GPULine describes a run's part of one GPU in one line (docs/gpu.md):
// "NVIDIA H100 80GB HBM3 · utilization avg 54%, peak 100% · memory peak
// 61.2 GiB of 80 GiB (program 60 GiB) · energy 12.3 kJ".
func GPULine(d gpu.DeviceResult) string {
	var parts []string
	if d.Name != "" {
		parts = append(parts, d.Name)
	}
	if d.HaveUtilization {
		parts = append(parts, fmt.Sprintf("utilization avg %.0f%%, peak %.0f%%", d.UtilizationAvg, d.UtilizationPeak))
	}
	if d.MemoryPeak > 0 {
		m := "memory peak " + Bytes(int64(d.MemoryPeak))
		if d.MemoryTotal > 0 {
			m += " of " + Bytes(int64(d.MemoryTotal))
		}
		if d.HaveProcessMemory {
			m += " (program " + Bytes(int64(d.ProcessMemoryPeak)) + ")"
		}
		parts = append(parts, m)
	}
	if d.HaveEnergy {
		parts = append(parts, "energy "+joules(d.Energy))
	}
	if len(parts) == 0 {
		return "no sample"
	}
	return strings.Join(parts, " · ")
}

// joules says "850 J", "12.3 kJ", "4.10 MJ".
func joules(j float64) string {
	switch {
	case j >= 1e6:
		return fmt.Sprintf("%.2f MJ", j/1e6)
	case j >= 1e3:
		return fmt.Sprintf("%.1f kJ", j/1e3)
	}
	return fmt.Sprintf("%.0f J", j)
}

// gpuJSON is one GPU of a run in `show --json` (docs/json.md).
type gpuJSON struct {
	Index                  int      `json:"index"`
	UUID                   string   `json:"uuid"`
	Name                   string   `json:"name"`
	BusID                  string   `json:"bus_id"`
	Architecture           string   `json:"architecture"`
	ComputeCapability      string   `json:"compute_capability"`
	MIG                    string   `json:"mig"`
	Parent                 string   `json:"parent"`
	MemoryTotalBytes       *int64   `json:"memory_total_bytes"`
	UtilizationAvg         *float64 `json:"utilization_avg"`
	UtilizationPeak        *float64 `json:"utilization_peak"`
	MemoryPeakBytes        *int64   `json:"memory_peak_bytes"`
	ProcessMemoryPeakBytes *int64   `json:"process_memory_peak_bytes"`
	EnergyJoules           *float64 `json:"energy_joules"`
}

func gpusDoc(ds []gpu.DeviceResult) []gpuJSON {
	out := make([]gpuJSON, 0, len(ds))
	for _, d := range ds {
		g := gpuJSON{Index: d.Index, UUID: d.UUID, Name: d.Name, BusID: d.BusID, Architecture: d.Architecture,
			ComputeCapability: d.ComputeCapability, MIG: d.MIG, Parent: d.Parent}
		if d.MemoryTotal > 0 {
			g.MemoryTotalBytes = ptr(int64(d.MemoryTotal))
		}
		if d.HaveUtilization {
			g.UtilizationAvg, g.UtilizationPeak = ptr(d.UtilizationAvg), ptr(d.UtilizationPeak)
		}
		if d.MemoryPeak > 0 {
			g.MemoryPeakBytes = ptr(int64(d.MemoryPeak))
		}
		if d.HaveProcessMemory {
			g.ProcessMemoryPeakBytes = ptr(int64(d.ProcessMemoryPeak))
		}
		if d.HaveEnergy {
			g.EnergyJoules = ptr(d.Energy)
		}
		out = append(out, g)
	}
	return out
}

func ptr[T any](v T) *T { return &v }
