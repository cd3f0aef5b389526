package pagein

import (
	"reflect"
	"testing"
)

func TestParseMaps(t *testing.T) {
	text := "00400000-00d22000 r-xp 00000000 fe:00 10176766                           /usr/bin/graphsignal\n" +
		"00d22000-01631000 r--p 00922000 fe:00 10176766                           /usr/bin/graphsignal\n" +
		"01631000-016b5000 rw-p 01231000 fe:00 10176766                           /usr/bin/graphsignal\n" +
		"016b5000-036ff000 rw-p 00000000 00:00 0 \n" +
		"7f0000000000-7f0000001000 r--p 00000000 fe:00 42 /tmp/a file with spaces (deleted)\n" +
		"not a mapping\n" +
		"zz-00d22000 r-xp 00000000 fe:00 1 /x\n" +
		"00d22000-00400000 r-xp 00000000 fe:00 1 /end-before-start\n" +
		"7ffdf6aed000-7ffdf6b0e000 rw-p 00000000 00:00 0                          [stack]" // no final newline
	want := []mapping{
		{start: 0x400000, end: 0xd22000, readable: true, exec: true, dev: "fe:00", inode: 10176766},
		{start: 0xd22000, end: 0x1631000, readable: true, dev: "fe:00", inode: 10176766},
		{start: 0x1631000, end: 0x16b5000, readable: true, writable: true, dev: "fe:00", inode: 10176766},
		{start: 0x16b5000, end: 0x36ff000, readable: true, writable: true, dev: "00:00"},
		{start: 0x7f0000000000, end: 0x7f0000001000, readable: true, dev: "fe:00", inode: 42},
		{start: 0x7ffdf6aed000, end: 0x7ffdf6b0e000, readable: true, writable: true, dev: "00:00"},
	}
	if got := parseMaps([]byte(text)); !reflect.DeepEqual(got, want) {
		t.Errorf("parseMaps:\n got %+v\nwant %+v", got, want)
	}
}

func TestSegments(t *testing.T) {
	maps := []mapping{
		{start: 0x1000, end: 0x2000, readable: true, exec: true, dev: "fe:00", inode: 7},     // code
		{start: 0x2000, end: 0x3000, readable: true, dev: "fe:00", inode: 7},                 // read-only data
		{start: 0x3000, end: 0x4000, readable: true, writable: true, dev: "fe:00", inode: 7}, // data
		{start: 0x4000, end: 0x5000, readable: true, writable: true, dev: "00:00"},           // bss, heap
		{start: 0x6000, end: 0x7000, readable: true, exec: true, dev: "fe:00", inode: 8},     // another file's code
		{start: 0x7000, end: 0x8000, readable: true, exec: true, dev: "fe:01", inode: 7},     // same inode, other device
		{start: 0x8000, end: 0x9000, exec: true, dev: "fe:00", inode: 7},                     // not readable
		{start: 0x9000, end: 0xa000, readable: true, exec: true, dev: "fe:00", inode: 7},     // code again
	}
	tests := []struct {
		name string
		pc   uintptr
		want []mapping
	}{
		{"in the code", 0x1800, []mapping{maps[0], maps[7]}},
		{"in read-only data", 0x2000, []mapping{maps[0], maps[7]}},
		{"in another file", 0x6800, maps[4:5]},
		{"in anonymous memory", 0x4800, nil},
		{"nowhere", 0xb000, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := segments(maps, tt.pc); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("segments(%#x) = %+v, want %+v", tt.pc, got, tt.want)
			}
		})
	}
}
