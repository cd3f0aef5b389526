package grpcunary

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
)

// TestReadFrameAllocatesWhatArrives: a prefix announcing a large message
// followed by a few bytes must not make the reader allocate the announced
// size (a hostile caller could pin memory with many such streams).
func TestReadFrameAllocatesWhatArrives(t *testing.T) {
	const announced = 16 << 20
	in := append([]byte{0, 0, 0, 0, 0}, "short"...)
	binary.BigEndian.PutUint32(in[1:], announced)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err := readFrame(bytes.NewReader(in), announced)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("readFrame = %v, want io.ErrUnexpectedEOF", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("readFrame allocated %d bytes for a 5-byte message announced as %d", got, announced)
	}
}
