package launcher

import (
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DieBySignal ends graphsignal the way the child ended: killed by sig, so
// that a shell or CI runner waiting for graphsignal sees exactly what it would
// have seen for the child. No core file is written and the Go runtime prints
// nothing. It returns only when the signal cannot kill graphsignal (as PID 1
// the kernel ignores default-action signals, and some signals do not
// terminate); the caller then exits with 128+sig.
func DieBySignal(sig syscall.Signal) {
	if os.Getpid() == 1 {
		return
	}
	signal.Reset(sig)
	// Core-dumping signals (QUIT, ABRT, SEGV...) must not leave a core file
	// of graphsignal's own.
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	runtime.LockOSThread()
	// Install SIG_DFL with the kernel directly: the Go runtime keeps its own
	// handlers for signals such as QUIT and PIPE even after signal.Reset.
	var dfl [4]uint64 // struct sigaction with sa_handler = SIG_DFL (0)
	_, _, _ = unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	set := uint64(1) << (uint(sig) - 1)
	_, _, _ = unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_UNBLOCK, uintptr(unsafe.Pointer(&set)), 0, 8, 0, 0)
	_ = unix.Tgkill(os.Getpid(), unix.Gettid(), sig)
	// A terminating signal has been delivered by now; give a stopped or
	// slow delivery a moment before the caller falls back to an exit code.
	time.Sleep(50 * time.Millisecond)
	runtime.UnlockOSThread()
}
