package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/google/go-cmp/cmp"
)

func TestOpenAsync(t *testing.T) {
	t.Run("opens when the worker starts, in the worker", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			gate := make(chan struct{})
			opens := 0
			target := newBlocker(true)
			close(target.release)
			lz := OpenAsync("store", func(ctx context.Context) (Exporter, error) {
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
			lz := OpenAsync("store", func(ctx context.Context) (Exporter, error) {
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
	t.Run("opened before any record, closed at shutdown", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			target := newBlocker(true)
			close(target.release)
			opened := false
			lz := OpenAsync("x", func(ctx context.Context) (Exporter, error) { opened = true; return target, nil })
			p := New(Config{}, lz)
			synctest.Wait()
			if !opened {
				t.Error("not opened once the worker started")
			}
			if err := p.Shutdown(t.Context()); err != nil || !target.closed.Load() {
				t.Errorf("Shutdown = %v, closed = %v", err, target.closed.Load())
			}
		})
	})
	t.Run("outside a pipeline, opens on the first export", func(t *testing.T) {
		opens := 0
		target := newBlocker(false)
		close(target.release)
		lz := OpenAsync("x", func(ctx context.Context) (Exporter, error) { opens++; return target, nil })
		if opens != 0 {
			t.Fatal("opened before use")
		}
		_ = lz.Export(t.Context(), metrics("a", 1))
		_ = lz.Export(t.Context(), metrics("b", 1))
		if opens != 1 {
			t.Errorf("opens = %d, want 1", opens)
		}
	})
}
