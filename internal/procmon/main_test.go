package procmon

import (
	"os"
	"runtime/debug"
	"strconv"
	"testing"

	"go.uber.org/goleak"
)

// helperEnv selects what the test binary does when a test re-executes it as
// a child process (the os/exec helper-process pattern).
const helperEnv = "PROCMON_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
	case "alloc":
		// Touch the given MiB, say so on stdout, wait for stdin to close.
		mib, _ := strconv.Atoi(os.Args[len(os.Args)-1])
		b := make([]byte, mib<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		os.Stdout.WriteString("ready\n")
		var one [1]byte
		_, _ = os.Stdin.Read(one[:])
		os.Exit(int(b[len(b)/2]) - 1)
	case "allocfree":
		// Touch the given MiB, give the pages back to the kernel, say so,
		// wait for stdin to close: its peak stays far above its RSS.
		mib, _ := strconv.Atoi(os.Args[len(os.Args)-1])
		b := make([]byte, mib<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		b = nil
		debug.FreeOSMemory()
		os.Stdout.WriteString("ready\n")
		var one [1]byte
		_, _ = os.Stdin.Read(one[:])
		os.Exit(len(b))
	default:
		os.Exit(2)
	}
	goleak.VerifyTestMain(m)
}
