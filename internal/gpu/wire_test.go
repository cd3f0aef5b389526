package gpu

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

func TestWireRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 5, 13, 0, 0, 0, time.UTC)
	util := 42.0
	msgs := []Message{
		{Hello: &Hello{System: System{DriverVersion: "550.54.15", CUDAVersion: "12.4"},
			Devices: []Device{{Index: 0, UUID: "GPU-a", Name: "NVIDIA H100 80GB HBM3", MemoryTotal: 80 << 30, MIG: "disabled"}}}},
		{Sample: &Sample{Time: at, Devices: []DeviceSample{{UUID: "GPU-a", Values: map[string]float64{MetricUtilization: 97}}},
			Processes: []Process{{PID: 7, UUID: "GPU-a", MemoryUsed: 1 << 30, Utilization: &util}}}},
		{XID: &XID{Time: at, UUID: "GPU-a", Code: 79}},
		{Gone: &Gone{Time: at, UUID: "GPU-a", Reason: "GPU is lost"}},
		{Note: "GPM not supported"},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, m := range msgs {
		if err := w.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(buf.String(), "\n"); n != len(msgs) {
		t.Fatalf("%d lines for %d messages", n, len(msgs))
	}
	r := NewReader(&buf)
	for i, want := range msgs {
		got, err := r.Read()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("message %d = %+v, want %+v", i, got, want)
		}
	}
	if _, err := r.Read(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last message: %v, want EOF", err)
	}
}

// TestReaderBadLines: a malformed line is an ErrBadMessage and reading goes
// on; a line over MaxLine ends the report.
func TestReaderBadLines(t *testing.T) {
	tests := []struct {
		name, line string
	}{
		{"not json", "hello"},
		{"no field", "{}"},
		{"two fields", `{"note":"x","xid":{"code":1}}`},
		{"wrong type", `{"sample":{"devices":"x"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tt.line + "\n" + `{"note":"after"}` + "\n"))
			if _, err := r.Read(); !errors.Is(err, ErrBadMessage) {
				t.Fatalf("Read = %v, want ErrBadMessage", err)
			}
			m, err := r.Read()
			if err != nil || m.Note != "after" {
				t.Fatalf("the line after: %+v, %v", m, err)
			}
		})
	}
	r := NewReader(strings.NewReader(`{"note":"` + strings.Repeat("x", MaxLine) + "\"}\n"))
	if _, err := r.Read(); err == nil || errors.Is(err, ErrBadMessage) || errors.Is(err, io.EOF) {
		t.Errorf("a line over MaxLine: %v, want an error that ends the report", err)
	}
}

// FuzzReader: any input gives messages or errors, never a panic, and a
// message read is exactly one field.
func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"hello":{"system":{},"devices":[{"index":0,"uuid":"GPU-a"}]}}` + "\n"))
	f.Add([]byte(`{"sample":{"time":"2026-12-05T13:00:00Z","devices":[{"uuid":"GPU-a","values":{"gpu.utilization":1e400}}]}}` + "\n"))
	f.Add([]byte(`{"xid":{"code":18446744073709551615}}` + "\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		rec := NewRecording(RecordingConfig{Out: func(telemetry.Batch) {}})
		for range 1000 {
			m, err := r.Read()
			if errors.Is(err, ErrBadMessage) {
				continue
			}
			if err != nil {
				return
			}
			if m.fields() != 1 {
				t.Fatalf("message with %d fields", m.fields())
			}
			rec.Handle(m)
		}
	})
}

// BenchmarkPresent is what GPU support costs a run on a machine without
// an NVIDIA driver: one stat of the driver's version file.
func BenchmarkPresent(b *testing.B) {
	for b.Loop() {
		Present(DriverVersionFile)
	}
}
