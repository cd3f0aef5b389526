//go:build !linux

package ipc

import "os"

// socketDirPrefix names a run's private socket directory.
const socketDirPrefix = "graphsignal-run-"

// dirLock holds nothing here: directories left by a killed run are not
// swept on this platform.
type dirLock struct{}

// createSocketDir creates a new private directory in parent.
func createSocketDir(parent string) (string, *dirLock, error) {
	dir, err := os.MkdirTemp(parent, socketDirPrefix)
	return dir, nil, err
}

func (l *dirLock) release() {}
