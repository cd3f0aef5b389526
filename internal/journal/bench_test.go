package journal

import "testing"

// BenchmarkAppend: one batch of a typical sampling second (13 points) plus
// a span with attributes, as a run writes them.
func BenchmarkAppend(b *testing.B) {
	w, err := Create(b.TempDir(), "bench", 1<<40)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	batch := fullBatch()
	for range 12 {
		batch.Metrics = append(batch.Metrics, batch.Metrics[0])
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Append(batch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead: decoding 100 batches like BenchmarkAppend's, 4 MiB at a time.
func BenchmarkRead(b *testing.B) {
	dir := b.TempDir()
	w, err := Create(dir, "bench", 1<<40)
	if err != nil {
		b.Fatal(err)
	}
	batch := fullBatch()
	for range 100 {
		if err := w.Append(batch); err != nil {
			b.Fatal(err)
		}
	}
	_ = w.Close()
	r, err := Open(dir, "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.ReportAllocs()
	for b.Loop() {
		var off int64
		for {
			c, err := r.Read(off, 0)
			if err != nil {
				b.Fatal(err)
			}
			off = c.Next
			if c.EOF {
				break
			}
		}
	}
}
