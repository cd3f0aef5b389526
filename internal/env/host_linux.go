package env

import "golang.org/x/sys/unix"

// kernelFacts returns the kernel release and total memory from uname(2) and
// sysinfo(2).
func kernelFacts() (release string, memTotal uint64) {
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		release = unix.ByteSliceToString(u.Release[:])
	}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		memTotal = uint64(si.Totalram) * uint64(si.Unit)
	}
	return release, memTotal
}
