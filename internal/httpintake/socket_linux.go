package httpintake

import (
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// listenBacklog is what net.Listen asks for too; the kernel caps it at
// net.core.somaxconn.
const listenBacklog = 1<<16 - 1

// listenLoopback creates a non-blocking, close-on-exec TCP socket
// listening on 127.0.0.1 at a port the kernel picks, and returns it with
// its address ("127.0.0.1:port"). It makes four system calls and nothing
// else (net.Listen would also probe the IPv6 and Multipath TCP support of
// the host); the runtime's poller takes the socket over in Serve.
func listenLoopback() (int, string, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, "", err
	}
	addr, err := bindLoopback(fd)
	if err != nil {
		_ = unix.Close(fd)
		return -1, "", err
	}
	return fd, addr, nil
}

func bindLoopback(fd int) (string, error) {
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return "", err
	}
	if err := unix.Listen(fd, listenBacklog); err != nil {
		return "", err
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return "", err
	}
	in4, ok := sa.(*unix.SockaddrInet4)
	if !ok {
		return "", unix.EAFNOSUPPORT
	}
	return netip.AddrFrom4(in4.Addr).String() + ":" + strconv.Itoa(in4.Port), nil
}
