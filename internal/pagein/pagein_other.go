//go:build !linux

package pagein

import "errors"

// Executable does nothing outside Linux: it returns an error saying so.
func Executable() (int64, error) {
	return 0, errors.New("pagein: only on Linux")
}
