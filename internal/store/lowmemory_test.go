package store

import (
	"context"
	"testing"
)

// TestLowMemory: a store opened WithLowMemory (a run's background indexer)
// uses one connection with a 256 KiB page cache; the default keeps
// SQLite's cache; WithMemoryMap maps the file, the others read it.
func TestLowMemory(t *testing.T) {
	tests := []struct {
		name      string
		opts      []Option
		wantCache int
		wantConns int
		wantMmap  int64
	}{
		{"default", nil, -2000, 4, 0},
		{"low memory", []Option{WithLowMemory()}, -256, 1, 0},
		{"memory map", []Option{WithMemoryMap()}, -2000, 4, mmapSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t, t.TempDir(), tt.opts...)
			var cache int
			if err := s.db.QueryRowContext(context.Background(), `PRAGMA cache_size`).Scan(&cache); err != nil {
				t.Fatal(err)
			}
			if cache != tt.wantCache {
				t.Errorf("cache_size = %d, want %d", cache, tt.wantCache)
			}
			var mmap int64
			if err := s.db.QueryRowContext(context.Background(), `PRAGMA mmap_size`).Scan(&mmap); err != nil {
				t.Fatal(err)
			}
			if mmap != tt.wantMmap {
				t.Errorf("mmap_size = %d, want %d", mmap, tt.wantMmap)
			}
			if got := s.db.Stats().MaxOpenConnections; got != tt.wantConns {
				t.Errorf("connections = %d, want %d", got, tt.wantConns)
			}
		})
	}
}
