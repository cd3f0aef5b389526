//go:build unix

package store

import (
	"os"

	"golang.org/x/sys/unix"
)

// repairSidecars makes the database's -shm and -wal files writable again
// when the database file is writable and they are not (docs/store.md,
// "Failures"). SQLite gives them the database file's mode when it creates
// them, so a reader that ran while the database was read-only leaves a
// read-only -shm behind, and every later write fails ("attempt to write a
// readonly database") after the database is made writable again.
//
// Only their mode changes, to the database file's, never their content: that
// is safe while other processes have them open or mapped, unlike removing
// them. Files of another user (chmod is refused) and a database that is
// itself read-only are left as they are. No file is opened, so no lock of
// this process on them is dropped.
func repairSidecars(path string) {
	if unix.Access(path, unix.W_OK) != nil {
		return
	}
	db, err := os.Stat(path)
	if err != nil {
		return
	}
	for _, p := range [...]string{path + "-shm", path + "-wal"} {
		fi, err := os.Lstat(p)
		if err != nil || !fi.Mode().IsRegular() || unix.Access(p, unix.W_OK) == nil {
			continue
		}
		_ = os.Chmod(p, db.Mode().Perm())
	}
}
