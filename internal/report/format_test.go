package report

import (
	"math"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0ns"},
		{850, "850ns"},
		{12345, "12.3µs"},
		{45 * time.Millisecond, "45ms"},
		{1500 * time.Microsecond, "1.5ms"},
		{1250 * time.Millisecond, "1.25s"},
		{12500 * time.Millisecond, "12.5s"},
		{80 * time.Second, "1m20s"},
		{59*time.Minute + 59*time.Second + 600*time.Millisecond, "60m00s"},
		{2*time.Hour + 5*time.Minute + 10*time.Second, "2h05m"},
		{-2 * time.Second, "-2s"},
	}
	for _, tt := range tests {
		if got := Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1536, "1.5 KiB"},
		{512 << 20, "512 MiB"},
		{1258291, "1.2 MiB"},
		{5 << 40, "5 TiB"},
		{math.MaxInt64, "8192 PiB"},
		{-2048, "-2 KiB"},
	}
	for _, tt := range tests {
		if got := Bytes(tt.n); got != tt.want {
			t.Errorf("Bytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestNumberAndValue(t *testing.T) {
	tests := []struct {
		v    float64
		unit string
		want string
	}{
		{0, "", "0"},
		{42, "", "42"},
		{999999, "", "999999"},
		{1250000, "", "1.25M"},
		{3.14159, "", "3.14"},
		{0.000123, "", "0.000123"},
		{49.5, "%", "49.5%"},
		{2 << 20, telemetry.UnitBytes, "2 MiB"},
		{0.25, telemetry.UnitSeconds, "250ms"},
		{math.NaN(), "%", "NaN"},
		{math.Inf(-1), "", "-Inf"},
	}
	for _, tt := range tests {
		if got := Value(tt.v, tt.unit); got != tt.want {
			t.Errorf("Value(%v, %q) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
}

func TestSparkline(t *testing.T) {
	tests := []struct {
		in   []float64
		want string
	}{
		{nil, ""},
		{[]float64{5, 5, 5}, "▁▁▁"},
		{[]float64{0, 1, 2, 3, 4, 5, 6, 7}, "▁▂▃▄▅▆▇█"},
		{[]float64{0, math.NaN(), 10}, "▁ █"},
	}
	for _, tt := range tests {
		if got := Sparkline(tt.in); got != tt.want {
			t.Errorf("Sparkline(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOutcome(t *testing.T) {
	end := time.Unix(10, 0)
	tests := []struct {
		run  store.Run
		want string
	}{
		{store.Run{End: end, HasExitCode: true}, "ok"},
		{store.Run{}, "in progress (no end recorded)"},
		{store.Run{End: end, HasExitCode: true, ExitCode: 3}, "exit 3"},
		{store.Run{End: end, Signal: "SIGKILL", ErrorKind: telemetry.ErrorKindSignal}, "killed by SIGKILL"},
		{store.Run{End: end, Signal: "SIGSEGV", CoreDumped: true, ErrorKind: telemetry.ErrorKindCoreDump}, "killed by SIGSEGV (core dumped)"},
		{store.Run{End: end, Signal: "SIGKILL", ErrorKind: telemetry.ErrorKindOOMKill}, "OOM-killed"},
		{store.Run{End: end, ErrorKind: telemetry.ErrorKindExecFailure, ErrorMessage: "permission denied"}, "cannot run: permission denied"},
		{store.Run{End: end, ErrorKind: telemetry.ErrorKindExecFailure, ErrorMessage: `cannot run "nope": not found in PATH`}, `cannot run "nope": not found in PATH`},
		{store.Run{End: end, Status: telemetry.StatusError, ErrorMessage: "boom"}, "error: boom"},
	}
	for _, tt := range tests {
		if got := Outcome(&tt.run); got != tt.want {
			t.Errorf("Outcome(%+v) = %q, want %q", tt.run, got, tt.want)
		}
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"a\tb", "a b"},
		{"evil\x1b]0;title\x07", "evil\uFFFD]0;title\uFFFD"},
		{"nl\nx\u0085", "nl\uFFFDx\uFFFD"},
		{"ünïcode ▁", "ünïcode ▁"},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
