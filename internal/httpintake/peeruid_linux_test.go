package httpintake

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// procHex formats a as the kernel does in /proc/net/tcp{,6}.
func procHex(a netip.AddrPort) string {
	b := a.Addr().AsSlice()
	var s strings.Builder
	for i := 0; i < len(b); i += 4 {
		fmt.Fprintf(&s, "%08X", binary.NativeEndian.Uint32(b[i:]))
	}
	return fmt.Sprintf("%s:%04X", s.String(), a.Port())
}

func TestFindSocketUID(t *testing.T) {
	server := netip.MustParseAddrPort("127.0.0.1:4317")
	client := netip.MustParseAddrPort("127.0.0.1:50123")
	mapped := netip.AddrPortFrom(netip.AddrFrom16(client.Addr().As16()), client.Port())
	header := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	row := func(local, remote netip.AddrPort, uid int) string {
		return fmt.Sprintf("   0: %s %s 01 00000000:00000000 00:00000000 00000000  %d        0 12345 1 0000000000000000 20 4 30 10 -1\n",
			procHex(local), procHex(remote), uid)
	}
	tests := []struct {
		name    string
		table   string
		wantUID uint32
		found   bool
	}{
		{"client row", header + row(server, client, 0) + row(client, server, 1000), 1000, true},
		{"only the server's end", header + row(server, client, 0), 0, false},
		{"other connections", header + row(client, netip.MustParseAddrPort("127.0.0.1:80"), 5) + row(netip.MustParseAddrPort("127.0.0.1:50124"), server, 6), 0, false},
		{"ipv6 socket, mapped address", header + row(mapped, netip.AddrPortFrom(netip.AddrFrom16(server.Addr().As16()), server.Port()), 1001), 1001, true},
		{"malformed rows skipped", header + "garbage\n   1: zz:zz 0100007F:1F90 01\n" + row(client, server, 7), 7, true},
		{"empty", "", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uid, found, err := findSocketUID(strings.NewReader(tt.table), client, server)
			if err != nil || uid != tt.wantUID || found != tt.found {
				t.Errorf("findSocketUID = %d, %v, %v; want %d, %v, nil", uid, found, err, tt.wantUID, tt.found)
			}
		})
	}
}

func TestPeerUIDOfRealConnection(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	local := sc.LocalAddr().(*net.TCPAddr).AddrPort()
	remote := sc.RemoteAddr().(*net.TCPAddr).AddrPort()
	uid, err := peerUID(local, remote)
	if err != nil || uid != uint32(os.Getuid()) {
		t.Fatalf("peerUID(%v, %v) = %d, %v; want %d", local, remote, uid, err, os.Getuid())
	}
	// An address nobody is connected from.
	other := netip.AddrPortFrom(remote.Addr(), remote.Port()+1)
	if _, err := peerUID(local, other); err == nil {
		t.Errorf("peerUID(%v, %v) found a socket", local, other)
	}
}
