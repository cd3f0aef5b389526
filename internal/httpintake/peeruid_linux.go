package httpintake

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// errPeerNotFound: no socket of the tables is the peer of the connection
// (it closed meanwhile, or it lives in another network namespace).
var errPeerNotFound = errors.New("peer socket not found in /proc/net/tcp")

// peerUID returns the uid that owns the TCP socket whose local address is
// remote and whose remote address is local: the other end of a loopback
// connection accepted at local. Loopback TCP has no SO_PEERCRED, but both
// ends of the connection are sockets of this host, listed with their owner
// in /proc/net/tcp (an IPv6 socket connected to 127.0.0.1 is listed in
// /proc/net/tcp6 with the address ::ffff:127.0.0.1).
func peerUID(local, remote netip.AddrPort) (uint32, error) {
	// The kernel's tables of TCP sockets in this network namespace.
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(name)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // no IPv6 in this kernel
			}
			return 0, fmt.Errorf("read socket table: %w", err)
		}
		uid, found, err := findSocketUID(f, remote, local)
		f.Close()
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", name, err)
		}
		if found {
			return uid, nil
		}
	}
	return 0, errPeerNotFound
}

// findSocketUID scans a /proc/net/tcp or tcp6 table for the socket bound to
// local and connected to remote, and returns its uid.
func findSocketUID(r io.Reader, local, remote netip.AddrPort) (uid uint32, found bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), 4096)
	first := true
	for sc.Scan() {
		if first { // the header line
			first = false
			continue
		}
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid ...
		f := strings.Fields(sc.Text())
		if len(f) < 8 {
			continue
		}
		l, ok1 := parseProcAddr(f[1])
		rem, ok2 := parseProcAddr(f[2])
		if !ok1 || !ok2 || !sameAddrPort(l, local) || !sameAddrPort(rem, remote) {
			continue
		}
		v, err := strconv.ParseUint(f[7], 10, 32)
		if err != nil {
			return 0, false, fmt.Errorf("bad uid %q", f[7])
		}
		return uint32(v), true, nil
	}
	return 0, false, sc.Err()
}

// sameAddrPort compares two addresses, an IPv4-mapped IPv6 address equal to
// its IPv4 form.
func sameAddrPort(a, b netip.AddrPort) bool {
	return a.Port() == b.Port() && a.Addr().Unmap() == b.Addr().Unmap()
}

// parseProcAddr parses "0100007F:1F90" (IPv4) or 32 hex digits and a port
// (IPv6): the address as the kernel prints it, 32-bit words in host byte
// order, and the port in hex.
func parseProcAddr(s string) (netip.AddrPort, bool) {
	hexAddr, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, false
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.AddrPort{}, false
	}
	var raw [16]byte
	if len(hexAddr) != 8 && len(hexAddr) != 32 {
		return netip.AddrPort{}, false
	}
	for i := 0; i < len(hexAddr)/8; i++ {
		w, err := strconv.ParseUint(hexAddr[i*8:i*8+8], 16, 32)
		if err != nil {
			return netip.AddrPort{}, false
		}
		binary.NativeEndian.PutUint32(raw[i*4:], uint32(w))
	}
	var addr netip.Addr
	if len(hexAddr) == 8 {
		addr = netip.AddrFrom4([4]byte(raw[:4]))
	} else {
		addr = netip.AddrFrom16(raw)
	}
	return netip.AddrPortFrom(addr, uint16(port)), true
}
