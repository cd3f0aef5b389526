//go:build !linux

package journal

import "os"

// Reclaim is not implemented here: journals keep their blocks until they
// are removed, and the size bound applies to the whole file.
func Reclaim(dir, name string, upTo, keep int64) (int64, error) { return 0, ErrReclaimUnsupported }

// reclaimed returns 0: no file has holes here.
func reclaimed(f *os.File) int64 { return 0 }

// dataFrom returns off: without holes, every byte is data.
func dataFrom(f *os.File, off int64) int64 { return off }
