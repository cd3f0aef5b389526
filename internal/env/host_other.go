//go:build !linux

package env

// kernelFacts is not implemented outside Linux: the kernel release and
// memory size are left unknown.
func kernelFacts() (release string, memTotal uint64) { return "", 0 }
