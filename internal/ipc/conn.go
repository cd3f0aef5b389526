package ipc

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// maxBatchCostBytes flushes a connection's batch once its records'
// estimated memory adds up to this much, so one fast client does not hold
// large batches.
const maxBatchCostBytes = 16 << 10

// connReader is the state of one connection's goroutine.
type connReader struct {
	s          *Server
	acc        []byte // a line longer than the read buffer, being assembled
	reserved   int64  // bytes of acc reserved from Server.longBytes
	discarding bool   // skipping the rest of a line to its newline
	discardWhy Reason
	batch      telemetry.Batch
	costBytes  int64
	counts     localCounts
	spanHint   int            // capacity for the next batch's spans: the last one's count
	upload     uploadAssembly // a forwarded SDK upload being reassembled
}

// serve reads lines until EOF, an error or Shutdown. Every complete line is
// decoded; a batch is handed on whenever the connection has nothing more
// buffered, so a quiet client's records are never held back.
func (s *Server) serve(c *net.UnixConn) {
	r := bufio.NewReaderSize(c, s.cfg.ReadBufferBytes)
	cr := &connReader{s: s}
	defer cr.release()
	defer cr.endUploads()
	for {
		if s.cfg.IdleTimeout > 0 && r.Buffered() == 0 {
			_ = c.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
		}
		chunk, err := r.ReadSlice('\n')
		switch {
		case err == nil:
			cr.line(chunk)
			if r.Buffered() == 0 || cr.batch.Len() >= maxBatchRecords || cr.costBytes >= maxBatchCostBytes {
				cr.flush()
			}
		case errors.Is(err, bufio.ErrBufferFull):
			cr.partial(chunk)
		default:
			cr.last(chunk)
			cr.endUploads()
			cr.flush()
			return
		}
	}
}

// partial takes a piece of a line longer than the read buffer.
func (cr *connReader) partial(chunk []byte) {
	if cr.discarding {
		return
	}
	if len(cr.acc)+len(chunk) > MaxLineBytes+1 { // +1: a trailing '\r'
		cr.discard(ReasonTooLong)
		return
	}
	n := int64(len(chunk))
	if cr.s.longBytes.Add(n) > cr.s.cfg.LongLineBudget {
		cr.s.longBytes.Add(-n)
		cr.discard(ReasonOverload)
		return
	}
	cr.reserved += n
	cr.acc = append(cr.acc, chunk...)
}

func (cr *connReader) discard(why Reason) {
	cr.discarding, cr.discardWhy = true, why
	cr.release()
}

// release gives back the long-line memory.
func (cr *connReader) release() {
	cr.s.longBytes.Add(-cr.reserved)
	cr.reserved = 0
	cr.acc = nil
}

// line takes the end of a line, newline included.
func (cr *connReader) line(chunk []byte) {
	if cr.discarding {
		cr.discarding = false
		cr.counts.bad[cr.discardWhy]++
		return
	}
	full := chunk
	if len(cr.acc) > 0 {
		cr.acc = append(cr.acc, chunk...)
		full = cr.acc
	}
	full = bytes.TrimSuffix(full[:len(full)-1], []byte{'\r'})
	cr.decode(full, false)
	if cr.acc != nil {
		cr.release()
	}
}

// last takes what was read before EOF or an error: an unterminated line is
// accepted when it decodes (a client that omits the final newline), else it
// is counted as a partial line.
func (cr *connReader) last(chunk []byte) {
	if cr.discarding {
		cr.counts.bad[cr.discardWhy]++
		return
	}
	full := chunk
	if len(cr.acc) > 0 {
		full = append(cr.acc, chunk...)
	}
	cr.decode(full, true)
}

func (cr *connReader) decode(line []byte, unterminated bool) {
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	if len(line) > MaxLineBytes {
		cr.counts.bad[ReasonTooLong]++
		return
	}
	if len(line) > cr.s.cfg.ReadBufferBytes {
		// Parsing expands a line many times over (up to ~32× for an array
		// of small numbers): decode long lines one at a time.
		cr.s.longDecode <- struct{}{}
		defer func() { <-cr.s.longDecode }()
	}
	m, err := DecodeLine(line, cr.s.rc.Load(), cr.s.cfg.Now())
	if err != nil {
		reason := ReasonInvalidJSON
		var de *DecodeError
		if errors.As(err, &de) {
			reason = de.Reason
		}
		if unterminated && reason == ReasonInvalidJSON {
			reason = ReasonPartialLine
		}
		cr.counts.bad[reason]++
		return
	}
	if m.Type == TypeTag {
		if err := cr.s.setContextTag(m.TagKey, m.TagValue, m.TagRemove); err != nil {
			cr.counts.bad[ReasonBadValue]++
			return
		}
		cr.counts.messages[m.Type]++
		return
	}
	cr.counts.messages[m.Type]++
	if m.Type == TypeSDKUpload {
		cr.sdkChunk(&m.Chunk)
		return
	}
	cr.costBytes += recordCost(line, &m)
	switch m.Type {
	case TypeSpan:
		if cr.batch.Spans == nil {
			cr.batch.Spans = make([]telemetry.Span, 0, cr.spanHint)
		}
		cr.batch.Spans = append(cr.batch.Spans, m.Span)
	case TypeScore:
		cr.batch.Scores = append(cr.batch.Scores, m.Score)
	case TypeLog:
		cr.batch.Logs = append(cr.batch.Logs, m.Log)
	case TypeMetric:
		cr.batch.Metrics = append(cr.batch.Metrics, m.Metric)
	}
}

// recordCost estimates the memory a decoded record holds: its line (the
// strings and payloads copied out of it), the record's structs and one map
// entry per tag, since every record carries the run's and context tags.
func recordCost(line []byte, m *Message) int64 {
	const base, perTag = 512, 64
	var tags int
	switch m.Type {
	case TypeSpan:
		tags = len(m.Span.Tags) * (1 + len(m.Span.Scores))
	case TypeScore:
		tags = len(m.Score.Tags)
	case TypeLog:
		tags = len(m.Log.Tags)
	case TypeMetric:
		tags = len(m.Metric.Tags)
	}
	return int64(len(line)) + base + perTag*int64(tags)
}

// flush publishes the counts and hands the batch on.
func (cr *connReader) flush() {
	cr.s.stats.add(&cr.counts)
	cr.spanHint = min(max(len(cr.batch.Spans), 1), maxBatchRecords)
	if cr.batch.Len() > 0 {
		cr.s.enqueue(cr.batch, cr.costBytes)
	}
	cr.batch = telemetry.Batch{}
	cr.costBytes = 0
}
