package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"
)

func TestLazy(t *testing.T) {
	t.Run("opens on first export, in the worker", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			gate := make(chan struct{})
			opens := 0
			target := newBlocker(true)
			close(target.release)
			lz := Lazy("store", func(ctx context.Context) (Exporter, error) {
				opens++
				<-gate // the store is slow to open
				return target, nil
			})
			p := New(Config{MaxBatch: 1}, lz)
			if !p.Enqueue(metrics("a", 1)) || !p.Enqueue(metrics("b", 1)) {
				t.Fatal("Enqueue refused while opening")
			}
			synctest.Wait() // everyone but the opener is idle: nothing waited for it
			if opens != 1 {
				t.Fatalf("open called %d times", opens)
			}
			close(gate)
			if err := p.Shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			if opens != 1 || len(target.calls) != 2 || !target.closed.Load() {
				t.Errorf("opens=%d exports=%d closed=%v", opens, len(target.calls), target.closed.Load())
			}
		})
	})
	t.Run("open error on every export, reported once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var el errorLog
			opens := 0
			lz := Lazy("store", func(ctx context.Context) (Exporter, error) {
				opens++
				return nil, errors.New("read-only file system")
			})
			p := New(Config{OnError: el.on}, lz)
			for i := range 3 {
				p.Enqueue(metrics("m", i+1))
				if err := p.Flush(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			if err := p.Shutdown(t.Context()); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"store: open store: read-only file system"}, el.get()); diff != "" {
				t.Errorf("OnError (-want +got):\n%s", diff)
			}
			if got := p.Stats().Failed.Metrics; opens != 1 || got != 6 {
				t.Errorf("opens=%d failed=%d, want 1 and 6", opens, got)
			}
			if err := lz.Export(t.Context(), metrics("z", 1)); err == nil || !strings.Contains(err.Error(), "closed") {
				t.Errorf("Export after Close = %v", err)
			}
		})
	})
	t.Run("never opened, closed without opening", func(t *testing.T) {
		opened := false
		lz := Lazy("x", func(ctx context.Context) (Exporter, error) { opened = true; return nil, nil })
		p := New(Config{}, lz)
		if err := p.Shutdown(t.Context()); err != nil || opened {
			t.Errorf("Shutdown = %v, opened = %v", err, opened)
		}
	})
}
