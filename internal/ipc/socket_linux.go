package ipc

import "golang.org/x/sys/unix"

// shmDir is the shared memory file system, a tmpfs on every usual Linux.
const shmDir = "/dev/shm"

// memoryTempDir returns /dev/shm when it is a tmpfs that everyone may
// create in but no one may delete another's entries from (mode 1777, like
// /tmp), else "".
func memoryTempDir() string {
	var fs unix.Statfs_t
	if unix.Statfs(shmDir, &fs) != nil || fs.Type != unix.TMPFS_MAGIC {
		return ""
	}
	var st unix.Stat_t
	if unix.Stat(shmDir, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Mode&0o1777 != 0o1777 {
		return ""
	}
	return shmDir
}

// listenBacklog is what net.Listen asks for too; the kernel caps it at
// net.core.somaxconn.
const listenBacklog = 1<<16 - 1

// listenUnix creates a non-blocking, close-on-exec Unix stream socket
// listening at path, with three system calls and nothing else: the
// runtime's poller takes it over in Serve.
func listenUnix(path string) (int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		_ = unix.Close(fd)
		return -1, err
	}
	if err := unix.Listen(fd, listenBacklog); err != nil {
		_ = unix.Close(fd)
		return -1, err
	}
	return fd, nil
}
