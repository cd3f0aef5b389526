//go:build unix

package store

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// shmHelperEnv makes the test binary run the read-only -shm scenario in the
// data dir it names (TestReadOnlyShmRecovered, as an unprivileged user).
const shmHelperEnv = "GRAPHSIGNAL_STORE_TEST_SHM"

// TestReadOnlyShmRecovered: a store read while its database file was
// read-only is left with a read-only -shm by SQLite; once the database is
// writable again, the store opens and takes writes. File modes do not bind
// root, so as root the scenario runs in a copy of this test binary as the
// user nobody (65534).
func TestReadOnlyShmRecovered(t *testing.T) {
	if dir := os.Getenv(shmHelperEnv); dir != "" {
		readOnlyShmScenario(t, dir)
		return
	}
	if os.Getuid() != 0 {
		readOnlyShmScenario(t, t.TempDir())
		return
	}
	const nobody = 65534
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "store.test")
	copyFile(t, exe, bin)
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(data, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestReadOnlyShmRecovered$", "-test.v")
	cmd.Env = append(os.Environ(), shmHelperEnv+"="+data)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scenario as uid %d: %v\n%s", nobody, err, out)
	}
}

func readOnlyShmScenario(t *testing.T, dir string) {
	ctx := context.Background()
	db := filepath.Join(dir, FileName)
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	run := runSpan("before", 0, time.Second)
	if err := s.Write(ctx, telemetry.Batch{Spans: []telemetry.Span{run}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The database is made read-only, and read: SQLite creates its -shm
	// with the database's mode.
	if err := os.Chmod(db, 0o400); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(ctx, dir); err == nil {
		_, _ = s.Sessions(ctx, SessionFilter{})
		_ = s.Close()
	}
	fi, err := os.Stat(db + "-shm")
	if err != nil || fi.Mode().Perm()&0o200 != 0 {
		t.Fatalf("precondition: want a read-only -shm after reading a read-only database, have %v, %v", fi, err)
	}
	// Fixed: the database is writable again.
	if err := os.Chmod(db, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatalf("Open after the database was made writable = %v", err)
	}
	defer s.Close()
	if err := s.Write(ctx, telemetry.Batch{Spans: []telemetry.Span{runSpan("after", time.Second, time.Second)}}); err != nil {
		t.Fatalf("Write after the database was made writable = %v", err)
	}
	if _, err := s.Session(ctx, "after"); err != nil {
		t.Errorf("Session(after) = %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
