//go:build !linux

package ipc

import (
	"net"
	"os"
)

// peerUID is the portable fallback: without SO_PEERCRED the private 0700
// directory is the only protection, and every peer is taken to be this
// process's user.
func peerUID(*net.UnixConn) (int, error) { return os.Getuid(), nil }
