//go:build !linux

package procmon

import "errors"

// osSampler is the fallback where there is no /proc: New fails.
type osSampler struct{}

func newOSSampler(int32, config) (*osSampler, error) {
	return nil, errors.ErrUnsupported
}

func (*osSampler) pass(*Sample) error { return errors.ErrUnsupported }

func (*osSampler) setRootOnly() {}

// OwnPeakRSS is 0 where there is no /proc.
func OwnPeakRSS() uint64 { return 0 }
