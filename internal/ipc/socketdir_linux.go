package ipc

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// socketDirPrefix names a run's private socket directory. Only directories
// with this prefix follow the locking below and are ever swept; those of
// earlier versions ("graphsignal-" and digits) are left alone.
const socketDirPrefix = "graphsignal-run-"

// Modes of a run's directory: it is created read-only to its owner and
// made writable (sweepableMode) only once its run holds the lock, so that a
// sweep never takes the lock of a directory whose run has not taken it yet.
const (
	creatingMode  = 0o500
	sweepableMode = 0o700
)

// dirLock is a run's hold on its private socket directory: an flock(2) on
// the directory itself, held for the run's life through a close-on-exec
// descriptor, so that the kernel lets go of it when graphsignal ends,
// however it ends (SIGKILL included). A directory whose lock can be taken is
// one whose run is gone: a later run removes it (sweepSocketDirs). Unlike a
// recorded pid, the lock cannot be mistaken for a live run by pid reuse.
//
// dirLock also owns the goroutine that sweeps the parent directory, which
// release joins.
type dirLock struct {
	fd    int
	swept chan struct{}
}

// createSocketDir creates a new directory in parent, locks it, and starts
// sweeping parent of stale ones in the background. The directory is left in
// creatingMode: the caller makes it sweepableMode (0700, private) before
// using it.
func createSocketDir(parent string) (string, *dirLock, error) {
	var dir string
	for {
		dir = filepath.Join(parent, socketDirPrefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		err := unix.Mkdir(dir, creatingMode)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EEXIST) {
			return "", nil, &os.PathError{Op: "mkdir", Path: dir, Err: err}
		}
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == nil {
		err = flock(fd, unix.LOCK_EX)
		if err != nil {
			_ = unix.Close(fd)
		}
	}
	if err != nil {
		_ = unix.Rmdir(dir)
		return "", nil, &os.PathError{Op: "lock", Path: dir, Err: err}
	}
	l := &dirLock{fd: fd, swept: make(chan struct{})}
	go func() {
		defer close(l.swept)
		sweepSocketDirs(parent, filepath.Base(dir))
	}()
	return dir, l, nil
}

func flock(fd, how int) error {
	for {
		err := unix.Flock(fd, how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// release joins the sweep and lets go of the lock; the directory should be
// removed first. Nil-safe and idempotent.
func (l *dirLock) release() {
	if l == nil || l.fd < 0 {
		return
	}
	<-l.swept
	_ = unix.Close(l.fd)
	l.fd = -1
}

// sweepSocketDirs removes the directories in parent that runs left behind
// when they were killed: named with socketDirPrefix (own excepted), owned by
// this user, in sweepableMode, and not locked. Errors are ignored: a
// directory it cannot check or remove is left for a later run.
func sweepSocketDirs(parent, own string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	uid := uint32(os.Getuid())
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, socketDirPrefix) || name == own || !e.IsDir() {
			continue
		}
		sweepSocketDir(filepath.Join(parent, name), uid)
	}
}

func sweepSocketDir(dir string, uid uint32) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Uid != uid || st.Mode&0o777 != sweepableMode {
		return // another user's, or its run is still creating it
	}
	if unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) != nil {
		return // its run holds it (EWOULDBLOCK)
	}
	_ = os.RemoveAll(dir)
}
