//go:build !linux

package httpintake

import (
	"net"
	"syscall"
)

// listenLoopback listens on 127.0.0.1 at a port the kernel picks and
// returns a duplicate of the socket with its address (the portable
// fallback of socket_linux.go).
func listenLoopback() (int, string, error) {
	ln, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return -1, "", err
	}
	defer ln.Close()
	f, err := ln.File()
	if err != nil {
		return -1, "", err
	}
	defer f.Close()
	syscall.ForkLock.RLock()
	fd, err := syscall.Dup(int(f.Fd()))
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, "", err
	}
	return fd, ln.Addr().String(), nil
}
