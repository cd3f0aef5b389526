package upload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// The journals a Shipper sends: the run's live journal, the backlog, and
// the claimed cursors of both.

// flushLive sends the live journal until it is final and wholly
// acknowledged. Until the journal is closed (LiveClosed) it sends only
// when KickBytes or more are waiting, so that the few records a run
// writes at exit go out with the rest in one request rather than two;
// once closed, it sends the rest at once. Without LiveClosed, it looks
// again at each Kick and every flushPoll.
func (s *Shipper) flushLive(ctx context.Context) error {
	if s.cfg.Live == "" {
		return nil
	}
	poll := time.NewTicker(flushPoll)
	defer poll.Stop()
	closed := s.liveClosed // nil once the close was seen
	send := s.liveUnsent() >= s.cfg.KickBytes
	sinceClose := 0 // sends since the close was seen
	for {
		if send {
			if closed == nil {
				sinceClose++
			}
			done, err := s.sendLive(ctx)
			switch {
			case s.permanent != nil:
				return s.permanent
			case done:
				return nil
			case ctx.Err() != nil:
				return fmt.Errorf("flush %s: %w", s.cfg.Sender.Name(), context.Cause(ctx))
			case err != nil && !errors.Is(err, errNotYet):
				return err
			case err != nil && closed == nil:
				// Closed, yet not there (never created) or claimed by
				// another process: nothing more will come of waiting.
				return fmt.Errorf("flush %s: %w", s.cfg.Sender.Name(), err)
			case sinceClose == 1:
				// Its reader was opened before the close: read it again.
				continue
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("flush %s: %w", s.cfg.Sender.Name(), context.Cause(ctx))
		case <-closed:
			closed, send = nil, true
		case <-s.kickc:
			send = closed == nil || s.liveUnsent() >= s.cfg.KickBytes
		case <-poll.C:
			send = true
		}
	}
}

// flushPoll is how often Flush looks whether the live journal's writer has
// closed, when neither LiveClosed nor a Kick says so first.
const flushPoll = 20 * time.Millisecond

// errNotYet reports that the live journal does not exist or cannot be
// claimed yet.
var errNotYet = errors.New("live journal not there, or claimed by another process")

// sendLive sends the live journal up to its current end. It reports done
// once the journal is final and wholly acknowledged (its delivery is then
// finished in the spool).
func (s *Shipper) sendLive(ctx context.Context) (done bool, err error) {
	if s.liveGone {
		return true, nil
	}
	if s.live == nil {
		c, err := s.claim(ctx, s.cfg.Live)
		switch {
		case errors.Is(err, spool.ErrNotPending) || errors.Is(err, spool.ErrBusy):
			return false, errNotYet
		case err != nil:
			return false, err
		}
		s.live = c
	}
	for {
		eof, err := s.sendOne(ctx, s.live)
		s.liveSent = s.live.c.Offset()
		if errors.Is(err, os.ErrNotExist) {
			return false, errNotYet
		}
		if err != nil {
			return false, err
		}
		if eof {
			if s.live.reader.Final() {
				s.liveGone = true
				return true, s.finishCursor(&s.live)
			}
			s.live.closeReader() // reopened next time, to see whether it became final
			return false, nil
		}
	}
}

// liveGrew reports whether the live journal has records to send now
// while streaming: KickBytes or more appended since what was sent, or any
// record while nothing has gone on the wire yet (the run's in-progress
// span; for OTLP, which sends no span before its end, the first metrics),
// so that the connection is open and warm long before the run ends.
func (s *Shipper) liveGrew() bool {
	n := s.liveUnsent()
	return n >= s.cfg.KickBytes || (n > 0 && s.Stats().Bytes == 0)
}

// liveUnsent is how many bytes of the live journal were appended since
// what was sent (0 once it is delivered or when it is not there).
func (s *Shipper) liveUnsent() int64 {
	if s.cfg.Live == "" || s.liveGone {
		return 0
	}
	fi, err := os.Stat(filepath.Join(s.cfg.Spool.JournalDir(), s.cfg.Live+journal.Ext))
	if err != nil {
		return 0
	}
	return fi.Size() - s.liveSent
}

// backlogStep sends one request of the backlog (claiming the next pending
// journal when needed) and reports whether there may be more to do.
func (s *Shipper) backlogStep(ctx context.Context) (more bool, err error) {
	if s.cur == nil {
		if !s.listed {
			s.listed = true
			// The spool bounds (age, size) drop, and count, what waited too long.
			if n, err := s.cfg.Spool.Trim(s.cfg.Dest); err == nil && n > 0 {
				s.stats.add(func(st *Stats) { st.Dropped += n })
			}
			names, err := s.cfg.Spool.Pending(s.cfg.Dest)
			if err != nil {
				return false, fmt.Errorf("list pending journals: %w", err)
			}
			for _, n := range names {
				if n != s.cfg.Live {
					s.backlog = append(s.backlog, n)
				}
			}
		}
		if len(s.backlog) == 0 {
			return false, nil
		}
		name := s.backlog[0]
		s.backlog = s.backlog[1:]
		if s.writtenElsewhere(name) {
			// Another run writes it and streams it itself: claiming it
			// here would hold that run's own sends back.
			return true, nil
		}
		c, err := s.claim(ctx, name)
		if err != nil {
			// Busy: another process sends it; not pending: done meanwhile.
			if errors.Is(err, spool.ErrBusy) || errors.Is(err, spool.ErrNotPending) {
				return true, nil
			}
			if ctx.Err() != nil {
				// Cancelled while priming: claimed again next time.
				s.backlog = append([]string{name}, s.backlog...)
				return false, err
			}
			return true, err
		}
		if s.started {
			c.tries = 1
		}
		s.cur = c
	}
	eof, err := s.sendOne(ctx, s.cur)
	if errors.Is(err, os.ErrNotExist) {
		// The file is gone (removed by hand, or by another process's
		// spool bound): what was not sent of it is lost, and said so.
		c := s.cur
		c.closeReader()
		s.cur = nil
		if err := c.c.Drop(0, "the journal was removed before it was delivered"); err != nil {
			_ = c.c.Release()
			return true, err
		}
		return true, nil
	}
	var se sendError
	switch {
	case err == nil:
	case s.permanent != nil || ctx.Err() != nil:
		s.closeCursor(&s.cur, true)
		return false, err
	case errors.As(err, &se):
		return true, err // retried for MaxRetryTime: Drain gives up
	default:
		// The journal cannot be read (or its offset recorded): it stays
		// pending, passed over until the next process.
		s.closeCursor(&s.cur, true)
		return true, err
	}
	if eof {
		if s.cur.reader.Final() {
			name := s.cur.name
			err := s.finishCursor(&s.cur)
			if err == nil {
				s.finished = name
			}
			return true, err
		}
		s.closeCursor(&s.cur, true) // another run's live journal: later
	}
	return true, nil
}

// writtenElsewhere reports whether name's journal still has a writer: the
// live journal of another run, whose own Shipper sends it.
func (s *Shipper) writtenElsewhere(name string) bool {
	r, err := journal.Open(s.cfg.Spool.JournalDir(), name)
	if err != nil {
		return false // gone, or unreadable: claiming it says which
	}
	defer r.Close()
	return !r.Final()
}

// cursor is a claimed journal: its spool cursor and, while being read,
// its reader.
type cursor struct {
	name   string
	c      *spool.Cursor
	reader *journal.Reader
	// ahead is the next chunk, read by reader while the previous request
	// was in flight (sendOne); nil when none.
	ahead *aheadChunk
	// tries bounds the attempts of each of its requests; 0: retried for
	// MaxRetryTime. A backlog journal sent while the run streams has 1:
	// the Shipper's loop spaces the tries (pauseBacklog), so that a
	// failing request does not hold the live journal back.
	tries uint
	// run is the span id of the journal's run; runEnded, that its end was
	// seen or sent (else sendOne sends abandonedEnd at the final EOF).
	run      telemetry.SpanID
	runEnded bool
}

func (c *cursor) closeReader() {
	c.ahead = nil
	if c.reader != nil {
		_ = c.reader.Close()
		c.reader = nil
	}
}

// takeAhead returns the chunk read ahead when it starts at off, the
// delivery offset; any other is dropped. Either way none is left.
func (c *cursor) takeAhead(off int64) (journal.Chunk, bool) {
	a := c.ahead
	c.ahead = nil
	if a == nil || a.off != off {
		return journal.Chunk{}, false
	}
	return a.chunk, true
}

// claim claims name's journal and primes the Sender with what of it was
// delivered before (prime); when ctx ends first, it releases the claim.
func (s *Shipper) claim(ctx context.Context, name string) (*cursor, error) {
	c, err := s.cfg.Spool.Claim(s.cfg.Dest, name)
	if err != nil {
		return nil, err
	}
	cur := &cursor{name: name, c: c}
	_, cur.run, _ = spool.JournalRun(name)
	if err := s.prime(ctx, cur); err != nil {
		_ = c.Release()
		return nil, err
	}
	s.restoreParts(cur)
	return cur, nil
}

// finishCursor retires *cp's journal as delivered (releasing it if that
// fails: it stays pending).
func (s *Shipper) finishCursor(cp **cursor) error {
	c := *cp
	c.closeReader()
	err := c.c.Finish()
	s.closeCursor(cp, err != nil)
	return err
}

// closeCursor closes *cp's reader and, when release is set, releases its
// claim (a finished cursor needs no release).
func (s *Shipper) closeCursor(cp **cursor, release bool) {
	c := *cp
	if c == nil {
		return
	}
	c.closeReader()
	if release {
		_ = c.c.Release()
	}
	*cp = nil
}
