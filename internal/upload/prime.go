package upload

import (
	"context"
	"fmt"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/spool"
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

// StateKeeper is implemented by a Sender whose state (Primer) a resumed
// journal cannot always give back: a long run's journal has had its
// consumed middle reclaimed (spool.ReclaimKeep), and a counter last updated
// there would otherwise be sent whole. Once a journal is acknowledged past
// spool.ReclaimKeep, the Shipper saves State beside the cursor after each
// request; a Shipper that claims the journal at that offset Restores it
// instead of reading the journal (docs/upload.md). Both are called from
// the goroutine that calls Send.
type StateKeeper interface {
	// State returns what the Sender learnt from what was acknowledged.
	State() ([]byte, error)
	// Restore adds a State to what the Sender knows.
	Restore(state []byte) error
}

// PartKeeper is implemented by a Sender that sends a batch in parts (an
// OTLP exporter: one request per signal) and, when some parts were
// accepted and the batch as a whole failed, sends only the others when
// the same batch is sent again. AcceptedParts returns what it remembers of
// the accepted parts (nil when none); RestoreParts adds what another
// process saved, so that a batch resent by the next run or by `graphsignal
// upload` does not send those parts again (docs/upload.md). The Shipper
// saves the parts beside the cursor, at the failed batch's offset, and
// restores them when it claims the journal at that offset. Both are called
// from the goroutine that calls Send.
type PartKeeper interface {
	AcceptedParts() []byte
	RestoreParts(parts []byte) error
}

// saveParts saves, when the Sender is a PartKeeper with accepted parts,
// those of the batch of cur's journal that starts at offset and failed.
func (s *Shipper) saveParts(cur *cursor, offset int64) {
	k, ok := s.cfg.Sender.(PartKeeper)
	if !ok {
		return
	}
	if parts := k.AcceptedParts(); parts != nil {
		_ = s.cfg.Spool.SaveState(s.cfg.Dest, cur.name, spool.AcceptedParts, offset, parts)
	}
}

// restoreParts gives a PartKeeper Sender the parts saved at c's delivery
// offset, if any.
func (s *Shipper) restoreParts(c *cursor) {
	k, ok := s.cfg.Sender.(PartKeeper)
	if !ok {
		return
	}
	if parts, ok := s.cfg.Spool.LoadState(s.cfg.Dest, c.name, spool.AcceptedParts, c.c.Offset()); ok {
		_ = k.RestoreParts(parts)
	}
}

// saveState saves the Sender's state for cur's journal, acknowledged up to
// offset, when it is a StateKeeper and offset is past what reclaim keeps.
// A state that cannot be saved leaves priming to the journal.
func (s *Shipper) saveState(cur *cursor, offset int64) {
	k, ok := s.cfg.Sender.(StateKeeper)
	if !ok || offset <= spool.ReclaimKeep {
		return
	}
	if st, err := k.State(); err == nil {
		_ = s.cfg.Spool.SaveState(s.cfg.Dest, cur.name, spool.SenderState, offset, st)
	}
}

// prime gives the Sender, when it is a Primer, what it learnt from c's
// journal before its delivery offset: the state saved at that offset
// (StateKeeper), else the records of the journal before it. It is best
// effort: a journal that cannot be read is primed as far as it could be,
// and the read that sends it reports the problem. It returns an error only
// when ctx ended first.
func (s *Shipper) prime(ctx context.Context, c *cursor) error {
	p, ok := s.cfg.Sender.(Primer)
	if !ok {
		return nil
	}
	end := c.c.Offset()
	if end <= 0 {
		return nil
	}
	if k, ok := s.cfg.Sender.(StateKeeper); ok {
		if st, ok := s.cfg.Spool.LoadState(s.cfg.Dest, c.name, spool.SenderState, end); ok && k.Restore(st) == nil {
			return nil
		}
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
