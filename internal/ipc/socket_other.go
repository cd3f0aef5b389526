//go:build !linux

package ipc

import "syscall"

// memoryTempDir returns "": only Linux has a /dev/shm to rely on.
func memoryTempDir() string { return "" }

// listenBacklog is what net.Listen asks for on most systems.
const listenBacklog = syscall.SOMAXCONN

// listenUnix creates a non-blocking, close-on-exec Unix stream socket
// listening at path (the portable fallback of socket_linux.go).
func listenUnix(path string) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return -1, err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		_ = syscall.Close(fd)
		return -1, err
	}
	if err := syscall.Listen(fd, listenBacklog); err != nil {
		_ = syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}
