//go:build !unix

package store

// repairSidecars does nothing where SQLite's -shm file is not a plain file
// with Unix permissions.
func repairSidecars(string) {}
