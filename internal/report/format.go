package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Outcome describes how a run ended, for people: "ok", "exit 3", "killed by
// SIGKILL", "killed by SIGSEGV (core dumped)", "OOM-killed", "cannot run:
// ...", "error: ...", "unknown (graphsignal was killed; ...)" for a run
// whose recorder died before its end (ended by the importer), or "in
// progress (no end recorded)" for a run still running.
func Outcome(r *store.Run) string {
	switch {
	case r.InProgress():
		return "in progress (no end recorded)"
	case r.ErrorKind == telemetry.ErrorKindRecorderLost:
		return "unknown (" + r.StatusMessage + ")"
	case r.ErrorKind == telemetry.ErrorKindExecFailure:
		if strings.HasPrefix(r.ErrorMessage, "cannot run") {
			return r.ErrorMessage // the launcher's own `cannot run "x": why`
		}
		if r.ErrorMessage != "" {
			return "cannot run: " + r.ErrorMessage
		}
		return "cannot run"
	case r.ErrorKind == telemetry.ErrorKindOOMKill:
		return "OOM-killed"
	case r.Signal != "" || r.ErrorKind == telemetry.ErrorKindSignal || r.ErrorKind == telemetry.ErrorKindCoreDump:
		s := "killed by " + orDash(r.Signal)
		if r.CoreDumped || r.ErrorKind == telemetry.ErrorKindCoreDump {
			s += " (core dumped)"
		}
		return s
	case r.HasExitCode && r.ExitCode != 0:
		return "exit " + strconv.FormatInt(r.ExitCode, 10)
	case failed(r):
		if r.ErrorMessage != "" {
			return "error: " + r.ErrorMessage
		}
		return "error"
	}
	return "ok"
}

// Plural writes a count with its noun, plural unless the count is one:
// "1 span", "2 spans", "0 spans". noun is the singular form of a noun
// made plural by an s.
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Duration formats d for people with three significant digits at most:
// 850ns, 12.3µs, 45ms, 1.25s, 1m20s, 2h05m.
func Duration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + Duration(-d)
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return sig3(float64(d)/float64(time.Microsecond)) + "µs"
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond)) + "ms"
	case d < time.Minute:
		return sig3(d.Seconds()) + "s"
	case d < time.Hour:
		d = d.Round(time.Second)
		return fmt.Sprintf("%dm%02ds", d/time.Minute, (d%time.Minute)/time.Second)
	}
	d = d.Round(time.Minute)
	return fmt.Sprintf("%dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
}

// Bytes formats n in IEC units: 512 B, 1.5 KiB, 12.3 MiB.
func Bytes(n int64) string {
	if n < 1024 && n > -1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	f := float64(n)
	for _, unit := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		f /= 1024
		if math.Abs(f) < 1024 || unit == "PiB" {
			return sig3(f) + " " + unit
		}
	}
	return "" // unreachable: the loop returns at PiB
}

// Number formats v compactly: integers in full below a million, others with
// three significant digits, large values with an SI suffix (1.25M).
func Number(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 0):
		if v > 0 {
			return "+Inf"
		}
		return "-Inf"
	}
	abs := math.Abs(v)
	if abs >= 1e6 {
		for _, s := range []struct {
			div    float64
			suffix string
		}{{1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"}} {
			if abs >= s.div {
				return sig3(v/s.div) + s.suffix
			}
		}
	}
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return sig3(v)
}

// sig3 formats v with three significant digits (more for integers of more
// digits), trimming trailing zeros.
func sig3(v float64) string {
	abs := math.Abs(v)
	prec := 2
	switch {
	case abs >= 100:
		prec = 0
	case abs >= 10:
		prec = 1
	case abs < 1 && abs > 0:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// Value formats a metric value in its unit.
func Value(v float64, unit string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Number(v)
	}
	switch unit {
	case telemetry.UnitBytes:
		return Bytes(int64(v))
	case telemetry.UnitSeconds:
		return Duration(time.Duration(v * float64(time.Second)))
	case telemetry.UnitPercent:
		return Number(v) + "%"
	}
	return Number(v)
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws values as block characters scaled between their minimum
// and maximum (a flat series draws as the lowest block).
func Sparkline(values []float64) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	var b strings.Builder
	for _, v := range values {
		i := 0
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			b.WriteRune(' ')
			continue
		case hi > lo:
			i = int(math.Round((v - lo) / (hi - lo) * float64(len(sparks)-1)))
		}
		b.WriteRune(sparks[i])
	}
	return b.String()
}

// table writes rows as columns separated by two spaces, each padded to its
// widest cell; columns whose index is in right are right-aligned. Trailing
// spaces are not written.
type table struct {
	indent string
	right  map[int]bool
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		line := t.indent
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i > 0 {
				line += "  "
			}
			if t.right[i] {
				line += pad + c
			} else {
				line += c + pad
			}
		}
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
