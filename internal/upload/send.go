package upload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/redact"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// sendOne reads one request's worth of cur's journal from its delivery
// offset, delivers it and advances the offset past it. It reports eof when
// the offset reached what can be read now. A permanent refusal of the
// destination stops the Shipper (s.permanent); one of the request drops
// its records, and the offset advances past them. An error wrapping
// os.ErrNotExist means the journal file is not there.
//
// While the request is in flight, a goroutine reads and decodes the next
// request's chunk (readAhead), so that the two halves of the work run at
// once; sendOne joins it before it returns, whatever the request's
// outcome, so the goroutine never outlives the call (Stop, Flush and a
// cancelled context wait at most for one read of MaxBytes). The chunk read
// ahead is kept in cur and used only by the next call whose delivery
// offset is where it was read from, that is once this request was
// acknowledged and its offset recorded; otherwise it is dropped and read
// again. At most one such chunk waits.
func (s *Shipper) sendOne(ctx context.Context, cur *cursor) (eof bool, err error) {
	if cur.reader == nil {
		r, err := journal.Open(s.cfg.Spool.JournalDir(), cur.name)
		if err != nil {
			return false, err
		}
		cur.reader = r
	}
	off := cur.c.Offset()
	chunk, ok := cur.takeAhead(off)
	if !ok {
		chunk, err = s.read(cur.reader, off, s.unread(cur.name, off))
		if err != nil {
			return false, err
		}
	}
	if n := chunk.Skipped; n > 0 {
		s.stats.add(func(st *Stats) { st.Dropped += int64(n) })
	}
	if len(chunk.Batches) > 0 {
		var ahead <-chan aheadChunk
		if !chunk.EOF && ctx.Err() == nil {
			ahead = s.readAhead(cur, chunk.Next)
		}
		s.refused, s.refusedWhy = 0, ""
		s.partsOf, s.partsAt = cur, off
		err := s.deliver(ctx, merge(chunk.Batches), cur.tries)
		s.partsOf = nil
		if err == nil && s.refused > 0 {
			err = cur.c.Refused(s.refused, s.refusedWhy)
		}
		if ahead != nil {
			a := <-ahead // joined: cur.reader is the goroutine's until now
			if err == nil && a.err == nil && len(a.chunk.Batches) > 0 {
				cur.ahead = &a
			}
		}
		if err != nil {
			return false, sendError{err}
		}
	}
	if chunk.Next != off {
		if err := cur.c.Advance(chunk.Next); err != nil {
			return false, fmt.Errorf("record delivery offset: %w", err)
		}
		s.saveState(cur, chunk.Next)
	}
	if !cur.runEnded && endsRun(chunk.Batches, cur.run) {
		cur.runEnded = true
	}
	if chunk.EOF && cur.reader.Final() && !cur.runEnded {
		if err := s.sendAbandonedEnd(ctx, cur); err != nil {
			return false, err
		}
	}
	return chunk.EOF, nil
}

// sendAbandonedEnd sends the end of cur's run when its final journal holds
// none (abandonedEnd). Sent again, it keeps its ids: a process killed
// before the journal is retired sends the same span.
func (s *Shipper) sendAbandonedEnd(ctx context.Context, cur *cursor) error {
	end, ok, err := s.abandonedEnd(ctx, cur.name)
	if err != nil {
		return err
	}
	if ok {
		s.refused, s.refusedWhy = 0, ""
		if err := s.deliver(ctx, telemetry.Batch{Spans: []telemetry.Span{end}}, cur.tries); err != nil {
			return sendError{err}
		}
		if s.refused > 0 {
			if err := cur.c.Refused(s.refused, s.refusedWhy); err != nil {
				return err
			}
		}
	}
	cur.runEnded = true
	return nil
}

// aheadChunk is a chunk of a journal read ahead of its delivery offset.
type aheadChunk struct {
	off   int64 // where it was read from
	chunk journal.Chunk
	err   error
}

// readAhead reads and decodes, in a goroutine of its own, the chunk of
// cur's journal that starts at off; the channel returned delivers it
// once. Until then the goroutine owns cur.reader and s.bytesPerRecord:
// the caller touches neither before receiving.
func (s *Shipper) readAhead(cur *cursor, off int64) <-chan aheadChunk {
	out := make(chan aheadChunk, 1)
	go func() { // joined by sendOne's receive
		c, err := s.read(cur.reader, off, s.unread(cur.name, off))
		out <- aheadChunk{off: off, chunk: c, err: err}
	}()
	return out
}

// sendError marks a failure to deliver, as opposed to one to read a
// journal: the destination, not the journal, is the problem.
type sendError struct{ err error }

func (e sendError) Error() string { return e.err.Error() }
func (e sendError) Unwrap() error { return e.err }

// read reads from off as many whole journal lines as fit in one request:
// at most MaxBytes of journal and MaxRecords records, except that a single
// line is always taken whole. The bytes read for MaxRecords records are
// estimated from the previous read, so that lines are rarely decoded twice.
// unread, when known (>= 0), is what the journal holds past off: the read
// buffer is sized to it rather than to MaxBytes, so that sending the few
// records of a short run does not allocate (and clear, and collect)
// megabytes.
func (s *Shipper) read(r *journal.Reader, off, unread int64) (journal.Chunk, error) {
	max := s.cfg.MaxBytes
	if s.bytesPerRecord > 0 {
		max = min(max, maxInt(int(s.bytesPerRecord*float64(s.cfg.MaxRecords)), 1))
	}
	if unread >= 0 && unread < int64(max) {
		max = maxInt(int(unread), minRead)
	}
	for {
		c, err := r.Read(off, max)
		if err != nil || len(c.Batches) == 0 {
			return c, err
		}
		n := 0
		for i := range c.Batches {
			n += c.Batches[i].Len()
		}
		used := int(c.Next - off)
		if n > 0 {
			s.bytesPerRecord = float64(used) / float64(n)
		}
		if n <= s.cfg.MaxRecords || len(c.Batches) == 1 {
			return c, nil
		}
		// Too many records: read again, fewer bytes, in proportion.
		next := int(float64(used) * float64(s.cfg.MaxRecords) / float64(n) * 0.95)
		max = maxInt(min(next, used-1, max-1), 1)
	}
}

// minRead is the smallest read buffer: lines appended after unread was
// measured may still fit.
const minRead = 4 << 10

// unread returns how many bytes the journal name holds past off, or -1
// when that cannot be told.
func (s *Shipper) unread(name string, off int64) int64 {
	fi, err := os.Stat(filepath.Join(s.cfg.Spool.JournalDir(), name+journal.Ext))
	if err != nil {
		return -1
	}
	return max(fi.Size()-off, 0)
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// deliver sends b until the destination acknowledged all of it, retrying
// with exponential backoff and jitter (RetryAfter honoured) within ctx,
// and splitting it in halves while the destination finds it too large (a
// single record too large is dropped and counted). A request the
// destination refused as invalid (PermanentError.Request) is not sent
// again: its records are counted as rejected and deliver returns nil, so
// that the caller goes on past them. tries, when not 0, bounds the
// attempts of each request.
func (s *Shipper) deliver(ctx context.Context, b telemetry.Batch, tries uint) error {
	if s.permanent != nil {
		return s.permanent
	}
	if b.Len() > s.cfg.MaxRecords {
		return s.deliverSplit(ctx, b, s.cfg.MaxRecords, tries)
	}
	bo := &backoff.ExponentialBackOff{
		InitialInterval:     s.cfg.InitialInterval,
		RandomizationFactor: backoff.DefaultRandomizationFactor,
		Multiplier:          2,
		MaxInterval:         s.cfg.MaxInterval,
	}
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		return struct{}{}, s.attempt(ctx, b)
	}, backoff.WithBackOff(bo), backoff.WithMaxElapsedTime(s.cfg.MaxRetryTime), backoff.WithMaxTries(tries),
		backoff.WithNotify(s.sayRetry))
	var perm *PermanentError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &perm) && perm.Request:
		s.stats.add(func(st *Stats) { st.Rejected += int64(b.Len()) })
		s.sayRefused(perm, b.Len())
		s.noteRefused(b.Len(), refusalReason(perm))
		return nil
	case errors.As(err, &perm):
		s.permanentStop(perm)
		return perm
	case errors.Is(err, ErrTooLarge) && b.Len() <= 1:
		s.stats.add(func(st *Stats) { st.Dropped += int64(b.Len()) })
		s.sayRefused(&PermanentError{Destination: s.cfg.Sender.Name(), Status: 413, Reason: "too large, even alone", Request: true}, b.Len())
		s.noteRefused(b.Len(), "413: too large, even alone")
		return nil
	case errors.Is(err, ErrTooLarge):
		return s.deliverSplit(ctx, b, b.Len()/2, tries)
	}
	return err
}

// sayRefused prints, the first time in the Shipper (one per process and
// destination), the line that says the destination refused n records as
// invalid.
func (s *Shipper) sayRefused(perm *PermanentError, n int) {
	s.stats.mu.Lock()
	first := !s.stats.refusalShown
	s.stats.refusalShown = true
	s.stats.mu.Unlock()
	if !first {
		return
	}
	as := "invalid"
	if perm.Status == 413 {
		as = "too large"
	}
	line := fmt.Sprintf("graphsignal: %s: %d records refused as %s (%s); they are dropped, delivery goes on",
		s.cfg.Sender.Name(), n, as, refusalReason(perm))
	fmt.Fprintln(s.cfg.Stderr, redact.String(line, s.cfg.Secrets...))
}

// refusalReason is a refusal's status and reason: "400: bad request".
func refusalReason(perm *PermanentError) string {
	if perm.Status != 0 {
		return fmt.Sprintf("%d: %s", perm.Status, perm.Reason)
	}
	return perm.Reason
}

// noteRefused adds n records refused by the destination, for sendOne to
// record in the journal's cursor (Cursor.Refused), with why when it is the
// first reason.
func (s *Shipper) noteRefused(n int, why string) {
	s.refused += int64(n)
	if s.refusedWhy == "" {
		s.refusedWhy = redact.String(why, s.cfg.Secrets...)
	}
}

// deliverSplit delivers b's first n records, then the others.
func (s *Shipper) deliverSplit(ctx context.Context, b telemetry.Batch, n int, tries uint) error {
	first, rest := split(b, n)
	if err := s.deliver(ctx, first, tries); err != nil {
		return err
	}
	return s.deliver(ctx, rest, tries)
}

// attempt sends b once, within RequestTimeout, and tells backoff.Retry
// what to do about a failure.
func (s *Shipper) attempt(ctx context.Context, b telemetry.Batch) error {
	actx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	start := time.Now()
	res, err := s.cfg.Sender.Send(actx, b)
	latency := time.Since(start)
	if err == nil && res.NoRequest {
		return nil
	}
	if err == nil {
		s.stats.add(func(st *Stats) {
			st.Requests++
			st.Records += int64(max(b.Len()-res.Rejected-res.Skipped, 0))
			st.Rejected += int64(res.Rejected)
			st.Bytes += int64(res.Bytes)
		})
		status := "ok"
		if res.Refused != nil {
			status = statusOf(res.Refused) // of the part refused; the rest was accepted
		}
		s.logRequest(status, b.Len(), res.Bytes, latency, res.Message)
		if res.Refused != nil {
			s.sayRefused(res.Refused, res.Rejected)
		}
		if res.Rejected > 0 {
			why := res.Message
			if res.Refused != nil {
				why = refusalReason(res.Refused)
			}
			s.noteRefused(res.Rejected, why)
		}
		return nil
	}
	s.stats.add(func(st *Stats) { st.Failed++ })
	if s.partsOf != nil {
		// At once, not when the retries end: a process killed while it
		// retries must not send the accepted parts again.
		s.saveParts(s.partsOf, s.partsAt)
	}
	msg := err.Error()
	if actx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// Ended by the request timeout or the flush timeout, not by the
		// destination: "context canceled" would not say what happened.
		msg = fmt.Sprintf("no answer within %v", latency.Round(time.Millisecond))
	}
	s.stats.setErr(redact.String(msg, s.cfg.Secrets...), false)
	s.logRequest(statusOf(err), b.Len(), res.Bytes, latency, msg)
	var perm *PermanentError
	var retry *RetryableError
	switch {
	case errors.As(err, &perm), errors.Is(err, ErrTooLarge):
		return backoff.Permanent(err)
	case errors.As(err, &retry) && retry.RetryAfter > 0:
		return retryAfter{err: err, wait: &backoff.RetryAfterError{Duration: retry.RetryAfter}}
	}
	return err
}

// sayRetry prints, with SayRetries, a failed attempt that backoff.Retry
// tries again after wait.
func (s *Shipper) sayRetry(err error, wait time.Duration) {
	if !s.cfg.SayRetries {
		return
	}
	line := fmt.Sprintf("graphsignal: upload: %v; trying again in %v", err, wait.Round(100*time.Millisecond))
	fmt.Fprintln(s.cfg.Stderr, redact.String(line, s.cfg.Secrets...))
}

// retryAfter carries the destination's Retry-After to backoff.Retry.
type retryAfter struct {
	err  error
	wait *backoff.RetryAfterError
}

func (e retryAfter) Error() string   { return e.err.Error() }
func (e retryAfter) Unwrap() []error { return []error{e.err, e.wait} }

// statusOf is the request's outcome for the debug log: the HTTP status
// when there is one.
func statusOf(err error) string {
	var perm *PermanentError
	var retry *RetryableError
	switch {
	case errors.As(err, &perm) && perm.Status != 0:
		return fmt.Sprint(perm.Status)
	case errors.As(err, &retry) && retry.Status != 0:
		return fmt.Sprint(retry.Status)
	case errors.Is(err, ErrTooLarge):
		return "413"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "error"
}

func (s *Shipper) logRequest(status string, records, bytes int, latency time.Duration, detail string) {
	if !s.cfg.Debug {
		return
	}
	line := fmt.Sprintf("graphsignal: upload: %s: %s · %d records · %d bytes · %v",
		s.cfg.Sender.Name(), status, records, bytes, latency.Round(time.Millisecond))
	if detail != "" {
		line += " · " + detail
	}
	fmt.Fprintln(s.cfg.Stderr, redact.String(line, s.cfg.Secrets...))
}

// merge concatenates batches into one request.
func merge(batches []telemetry.Batch) telemetry.Batch {
	if len(batches) == 1 {
		return batches[0]
	}
	var out telemetry.Batch
	for i := range batches {
		b := &batches[i]
		out.Spans = append(out.Spans, b.Spans...)
		out.Metrics = append(out.Metrics, b.Metrics...)
		out.Scores = append(out.Scores, b.Scores...)
		out.Logs = append(out.Logs, b.Logs...)
		out.SDKUploads = append(out.SDKUploads, b.SDKUploads...)
	}
	return out
}

// split returns b's first n records (in field order: spans, metrics,
// scores, logs, SDK uploads) and the others.
func split(b telemetry.Batch, n int) (first, rest telemetry.Batch) {
	cut := func(l int) int {
		k := min(n, l)
		n -= k
		return k
	}
	k := cut(len(b.Spans))
	first.Spans, rest.Spans = b.Spans[:k:k], b.Spans[k:]
	k = cut(len(b.Metrics))
	first.Metrics, rest.Metrics = b.Metrics[:k:k], b.Metrics[k:]
	k = cut(len(b.Scores))
	first.Scores, rest.Scores = b.Scores[:k:k], b.Scores[k:]
	k = cut(len(b.Logs))
	first.Logs, rest.Logs = b.Logs[:k:k], b.Logs[k:]
	k = cut(len(b.SDKUploads))
	first.SDKUploads, rest.SDKUploads = b.SDKUploads[:k:k], b.SDKUploads[k:]
	return first, rest
}
