//go:build !linux

package httpintake

import (
	"errors"
	"net/netip"
)

// peerUID cannot tell who is at the other end of a loopback TCP connection
// outside Linux, so the intake refuses every gRPC call there (OTLP/HTTP,
// authorised by the capability prefix, works everywhere).
func peerUID(netip.AddrPort, netip.AddrPort) (uint32, error) {
	return 0, errors.New("the caller's user can only be checked on Linux")
}
