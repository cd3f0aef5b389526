package gpu

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// script writes an executable shell script into a temporary directory.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sampler")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSamplerProcess: a real sampler process's report reaches Handle line
// by line (malformed ones counted), it gets the interval as its flag and
// the environment given, and Stop ends it through its stdin; one that
// ignores its stdin is killed once the wait is over.
func TestSamplerProcess(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantStop time.Duration // Stop returns well within this
		wantBad  int
	}{
		{"ends at EOF", `echo "{\"note\":\"$1 $2 $CUDA_VISIBLE_DEVICES\"}"; echo 'not json'; echo '{"xid":{"code":79}}'; cat >/dev/null`, 2 * time.Second, 1},
		{"ignores EOF", `echo "{\"note\":\"$1 $2 $CUDA_VISIBLE_DEVICES\"}"; echo 'not json'; echo '{"xid":{"code":79}}'; exec sleep 30`, 5 * time.Second, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []Message
			seen := make(chan struct{})
			s, err := StartSampler(SamplerConfig{Path: script(t, tt.body), Interval: 250 * time.Millisecond,
				Env: []string{"CUDA_VISIBLE_DEVICES=1"}, Handle: func(m Message) {
					mu.Lock()
					defer mu.Unlock()
					got = append(got, m)
					if len(got) == 2 {
						close(seen)
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			select {
			case <-seen:
			case <-time.After(10 * time.Second):
				t.Fatal("the report never came")
			}
			began := time.Now()
			bad := s.Stop(100 * time.Millisecond)
			if d := time.Since(began); d > tt.wantStop {
				t.Errorf("Stop took %v", d)
			}
			if bad != tt.wantBad {
				t.Errorf("%d bad lines, want %d", bad, tt.wantBad)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 2 || got[0].Note != "--interval 250ms 1" || got[1].XID == nil || got[1].XID.Code != 79 {
				t.Errorf("messages = %+v", got)
			}
		})
	}
}
