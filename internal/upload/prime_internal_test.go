package upload

import (
	"slices"
	"testing"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// primeSender is a fakeSender that is a Primer; log holds "prime:" and
// (from its reply) "send:" with the record names, in the order of the
// calls, all made from the Shipper's one goroutine.
type primeSender struct {
	fakeSender
	log []string
}

func (p *primeSender) Prime(b telemetry.Batch) {
	for _, n := range names(b) {
		p.log = append(p.log, "prime:"+n)
	}
}

// TestPrimeBeforeOffset checks that a journal claimed at a delivery offset
// primes the Sender with exactly the records before it, once, before
// anything of it is sent, and that one claimed at 0 is not read for it.
func TestPrimeBeforeOffset(t *testing.T) {
	const lines, perLine = 5, 2
	tests := []struct {
		name string
		skip int // lines already delivered
	}{
		{name: "offset 0", skip: 0},
		{name: "two lines delivered", skip: 2},
		{name: "all delivered", skip: lines},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := spool.Open(t.TempDir())
			writeJournal(t, d, "a", lines*perLine, perLine, false)
			r, err := journal.Open(d.JournalDir(), "a")
			if err != nil {
				t.Fatal(err)
			}
			off := int64(0)
			for range tt.skip {
				c, err := r.Read(off, 1)
				if err != nil {
					t.Fatal(err)
				}
				off = c.Next
			}
			_ = r.Close()
			c, err := d.Claim(testDest, "a")
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Advance(off); err != nil {
				t.Fatal(err)
			}
			if err := c.Release(); err != nil {
				t.Fatal(err)
			}

			snd := &primeSender{}
			snd.reply = func(_ int, b telemetry.Batch) (Result, error) {
				for _, n := range names(b) {
					snd.log = append(snd.log, "send:"+n)
				}
				return Result{}, nil
			}
			s := newShipper(t, Config{Sender: snd, Spool: d})
			if err := s.Drain(t.Context(), nil); err != nil {
				t.Fatalf("Drain: %v", err)
			}
			all := want("a", lines*perLine)
			var wantLog []string
			for i, n := range all {
				if i < tt.skip*perLine {
					wantLog = append(wantLog, "prime:"+n)
				}
			}
			for _, n := range all[tt.skip*perLine:] {
				wantLog = append(wantLog, "send:"+n)
			}
			if !slices.Equal(snd.log, wantLog) {
				t.Errorf("calls %v, want %v", snd.log, wantLog)
			}
			if p := pending(t, d); len(p) != 0 {
				t.Errorf("pending after Drain: %v", p)
			}
		})
	}
}
