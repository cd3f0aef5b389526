package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func schemaVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatalf("read user_version: %v", err)
	}
	return v
}

func TestOpenNewDatabase(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	s := openStore(t, dir)
	if got, want := s.Path(), filepath.Join(dir, FileName); got != want {
		t.Errorf("Path() = %q, want %q", got, want)
	}
	if got := schemaVersion(t, s.Path()); got != SchemaVersion() {
		t.Errorf("user_version = %d, want %d", got, SchemaVersion())
	}
	var mode string
	if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	var vacuum int
	if err := s.db.QueryRow(`PRAGMA auto_vacuum`).Scan(&vacuum); err != nil || vacuum != 2 {
		t.Errorf("auto_vacuum = %d, %v; want 2 (incremental)", vacuum, err)
	}
	// The records are the user's alone, the WAL's too (both exist while
	// the database is open).
	for _, name := range []string{FileName, FileName + "-wal", FileName + "-shm"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", name, st.Mode(), err)
		}
	}
	// Reopening is a no-op migration.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	openStore(t, dir)
}

func TestMigrateFromV1(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	db, err := sql.Open("sqlite", dsn(path, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db, migrations[:1]); err != nil {
		t.Fatalf("migrate to v1: %v", err)
	}
	// A run as version 1 stored it, with a score on the span.
	_, err = db.Exec(`INSERT INTO spans (trace_id, span_id, name, start_ns, end_ns, status, is_run, session_id, attributes, scores)
		VALUES ('0123456789abcdef0123456789abcdef', '0123456789abcdef', 'make', ?, ?, 1, 1, 'old',
		'{"graphsignal.span.kind":"run","process.exit.code":0}', '[{"name":"quality","value":0.5,"time_ns":5}]')`,
		t0.UnixNano(), t0.Add(time.Second).UnixNano())
	if err != nil {
		t.Fatalf("insert v1 row: %v", err)
	}
	db.Close()
	if got := schemaVersion(t, path); got != 1 {
		t.Fatalf("user_version = %d, want 1", got)
	}

	s := openStore(t, dir)
	if got := schemaVersion(t, path); got != SchemaVersion() {
		t.Errorf("after Open: user_version = %d, want %d", got, SchemaVersion())
	}
	d, err := s.Session(ctx, "old")
	if err != nil {
		t.Fatalf("Session(old) = %v", err)
	}
	if len(d.Runs) != 1 || d.Runs[0].Name != "make" || !d.Runs[0].HasExitCode || d.Runs[0].Duration != time.Second {
		t.Errorf("migrated run = %+v", d.Runs)
	}
	if len(d.Scores) != 1 || d.Scores[0].Name != "quality" || d.Scores[0].Value != 0.5 {
		t.Errorf("migrated scores = %+v, want quality=0.5 copied from spans.scores", d.Scores)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T) string // returns the data dir
		is      error
		message string
	}{
		{
			name: "garbage file",
			setup: func(t *testing.T) string {
				dir := t.TempDir()
				garbage := []byte(strings.Repeat("this is not a database\n", 500))
				if err := os.WriteFile(filepath.Join(dir, FileName), garbage, 0o600); err != nil {
					t.Fatal(err)
				}
				return dir
			},
			is:      ErrCorrupt,
			message: "corrupt",
		},
		{
			name: "newer schema",
			setup: func(t *testing.T) string {
				dir := t.TempDir()
				db, err := sql.Open("sqlite", filepath.Join(dir, FileName))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if _, err := db.Exec(`PRAGMA user_version = 999`); err != nil {
					t.Fatal(err)
				}
				return dir
			},
			is:      ErrSchemaTooNew,
			message: "version 999",
		},
		{
			name: "data dir under a regular file",
			setup: func(t *testing.T) string {
				file := filepath.Join(t.TempDir(), "file")
				if err := os.WriteFile(file, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				return filepath.Join(file, "data")
			},
			is:      nil,
			message: "not a directory",
		},
		{
			name: "read-only data dir",
			setup: func(t *testing.T) string {
				if os.Geteuid() == 0 {
					t.Skip("root ignores directory permissions")
				}
				dir := t.TempDir()
				if err := os.Chmod(dir, 0o500); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
				return dir
			},
			message: "open",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.setup(t)
			s, err := Open(context.Background(), dir)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) = nil error, want one", dir)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Open() = %v, want errors.Is %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.message) || !strings.HasPrefix(err.Error(), "open store") {
				t.Errorf("Open() = %q, want an \"open store\" error mentioning %q", err, tt.message)
			}
		})
	}
}

// TestCorruptedFile damages a written database between two opens: Open,
// Write and Session fail with ErrCorrupt instead of panicking.
func TestCorruptedFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		write(t, s, batchOf(runSpan("c", time.Duration(i)*time.Second, time.Second), 200))
	}
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	garbage := []byte(strings.Repeat("\xde\xad\xbe\xef", 1024))
	for off := int64(4096); off < 64*4096; off += 8192 {
		if _, err := f.WriteAt(garbage, off); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()

	s, err = Open(ctx, dir)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Open(damaged) = %v, want ErrCorrupt", err)
		}
		return
	}
	defer s.Close()
	_, errQ := s.Session(ctx, "c")
	errW := s.Write(ctx, batchOf(runSpan("c", time.Hour, time.Second), 200))
	if errQ == nil && errW == nil {
		t.Fatal("Session() and Write() on a damaged file both succeeded")
	}
	for _, err := range []error{errQ, errW} {
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Errorf("error on damaged file = %v, want ErrCorrupt", err)
		}
	}
}
