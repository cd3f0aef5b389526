package upload

import (
	"context"
	"fmt"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Primer is implemented by a Sender that keeps state across Sends built
// from what the destination acknowledged: the Graphsignal API's counter
// and histogram deltas, an OTLP exporter's run resources and counter start
// times. When the Shipper claims a journal that another process already
// sent part of (its delivery offset is past 0: the previous run's exit
// flush ran out of time, or its background delivery was cut short), it
// reads the journal from its start up to that offset and calls Prime with
// each chunk, in order, once per claim and before sending anything of it.
// Prime sends nothing: it updates the Sender's state as if Send had
// delivered b. It is called from the goroutine that calls Send, never at
// the same time. A journal claimed at offset 0 is not read for it.
type Primer interface {
	Prime(b telemetry.Batch)
}

// prime feeds the Sender, when it is a Primer, the records of c's journal
// before its delivery offset. It is best effort: a journal that cannot be
// read is primed as far as it could be, and the read that sends it reports
// the problem. It returns an error only when ctx ended first.
func (s *Shipper) prime(ctx context.Context, c *cursor) error {
	p, ok := s.cfg.Sender.(Primer)
	if !ok {
		return nil
	}
	end := c.c.Offset()
	if end <= 0 {
		return nil
	}
	r, err := journal.Open(s.cfg.Spool.JournalDir(), c.name)
	if err != nil {
		return nil
	}
	defer r.Close()
	for off := int64(0); off < end; {
		if ctx.Err() != nil {
			return fmt.Errorf("prime %s: %w", s.cfg.Sender.Name(), context.Cause(ctx))
		}
		// Bounded by end, which is a line boundary (delivery offsets
		// always are): no line past it is read.
		chunk, err := r.Read(off, int(min(end-off, int64(s.cfg.MaxBytes))))
		if err != nil || chunk.Next <= off || chunk.Next > end {
			// Unreadable, or an offset inside a line: stop there.
			return nil
		}
		if len(chunk.Batches) > 0 {
			p.Prime(merge(chunk.Batches))
		}
		off = chunk.Next
	}
	return nil
}
