package spool

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/graphsignal/graphsignal/internal/journal"
)

// Errors of Claim and of the Cursor methods.
var (
	// ErrBusy: another process (or another Claim in this one) holds the
	// cursor.
	ErrBusy = errors.New("cursor held by another process")
	// ErrNotPending: the journal is not pending for the destination
	// (delivered, dropped, or never expected).
	ErrNotPending = errors.New("journal not pending for this destination")
	// ErrNotDone: Finish was called before the journal was final and
	// acknowledged to its end.
	ErrNotDone = errors.New("journal not delivered to its end")
	// ErrRetired: the cursor was finished, dropped or released.
	ErrRetired = errors.New("cursor retired")
)

// A cursor file holds two slots of slotSize bytes at 0 and slotSize, each
// "SEQ OFFSET CRC\n" (fixed-width hex, CRC-32 of "SEQ OFFSET"). Advance
// writes the slot that the current record is not in with the next sequence
// number, in one pwrite(2): a write cut short (or never made) leaves the
// other slot valid, so the offset read back is the old one or the new one.
const (
	slotSize   = 64
	slotText   = 16 + 1 + 16 + 1 + 8 + 1
	recordSize = 2 * slotSize
)

func encodeSlot(b []byte, seq uint64, offset int64) {
	head := fmt.Sprintf("%016x %016x", seq, uint64(offset))
	s := fmt.Sprintf("%s %08x\n", head, crc32.ChecksumIEEE([]byte(head)))
	for i := range b[:slotSize] {
		b[i] = 0
	}
	copy(b, s)
}

// decodeSlot returns a slot's sequence number and offset; ok is false for
// an empty or damaged slot.
func decodeSlot(b []byte) (seq uint64, offset int64, ok bool) {
	if len(b) < slotText || b[slotText-1] != '\n' {
		return 0, 0, false
	}
	head := b[:33]
	sum, err := strconv.ParseUint(string(b[34:42]), 16, 32)
	if err != nil || uint32(sum) != crc32.ChecksumIEEE(head) {
		return 0, 0, false
	}
	fields := strings.Fields(string(head))
	if len(fields) != 2 {
		return 0, 0, false
	}
	seq, err1 := strconv.ParseUint(fields[0], 16, 64)
	off, err2 := strconv.ParseUint(fields[1], 16, 63)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return seq, int64(off), true
}

// decodeRecord returns the offset of the valid slot with the highest
// sequence number, and that number (slot seq%2 holds seq); a record with no valid slot reads as
// offset 0 (the journal is sent again from its start, which keeps ids, so
// nothing is lost).
func decodeRecord(b []byte) (offset int64, seq uint64) {
	found := false
	for i := 0; i < 2 && len(b) >= i*slotSize+slotText; i++ {
		if s, off, ok := decodeSlot(b[i*slotSize:]); ok && (!found || s > seq) {
			seq, offset, found = s, off, true
		}
	}
	return offset, seq
}

// Cursor is one destination's read position in one journal, claimed by
// this process (an exclusive flock(2) on its file, released by the kernel
// when the process dies, even by SIGKILL). It is not safe for concurrent
// use. After Finish, Drop or Release every method returns ErrRetired.
type Cursor struct {
	d       *Dir
	dest    string
	journal string
	f       *os.File
	offset  int64
	seq     uint64
	// refused and refusedWhy are the cursor file's refusal line (Refused).
	refused    int64
	refusedWhy string
}

// Claim takes dest's cursor on journal for this process without waiting:
// ErrBusy when another process (or another Claim here) holds it,
// ErrNotPending when it does not exist (delivered, dropped, or never
// expected). A process delivering other runs' journals should pass over
// live ones (journal.Reader.Final is false) rather than hold them, so that
// the run that writes a journal can claim it for streaming.
func (d *Dir) Claim(dest, journal string) (*Cursor, error) {
	if err := checkName(journal); err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	path := filepath.Join(d.destDir(dest), journal+extCursor)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotPending
	}
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", journal, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, ErrBusy
		}
		return nil, fmt.Errorf("claim %s: lock: %w", journal, err)
	}
	// The holder before us may have retired the file (renamed it) between
	// our open and our lock.
	held, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("claim %s: %w", journal, err)
	}
	if now, err := os.Stat(path); err != nil || !os.SameFile(held, now) {
		_ = f.Close()
		return nil, ErrNotPending
	}
	b := make([]byte, recordSize+maxRefusal)
	n, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		_ = f.Close()
		return nil, fmt.Errorf("claim %s: read cursor: %w", journal, err)
	}
	c := &Cursor{d: d, dest: dest, journal: journal, f: f}
	c.offset, c.seq = decodeRecord(b[:n])
	c.refused, c.refusedWhy = decodeRefusal(b[:n])
	return c, nil
}

// A cursor file may hold, after its two slots, what the destination refused
// of the journal so far: "refused N REASON\n", N the records it refused as
// invalid or too large and REASON the first refusal's. It is rewritten in
// one pwrite(2) (N only grows and REASON stays, so the line never
// shortens), is read back by a process that resumes the journal, and stays
// in the "delivered" marker for Status.
const (
	refusalPrefix = "refused "
	maxRefusal    = 512 // bytes of the line, REASON cut to fit
)

func decodeRefusal(b []byte) (n int64, why string) {
	if len(b) <= recordSize {
		return 0, ""
	}
	line, _, ok := strings.Cut(string(b[recordSize:]), "\n")
	rest, isRefusal := strings.CutPrefix(line, refusalPrefix)
	if !ok || !isRefusal {
		return 0, ""
	}
	num, why, _ := strings.Cut(rest, " ")
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return 0, ""
	}
	return n, why
}

// Refused durably adds n records to those the destination refused of the
// journal (as invalid, or a single record too large), with why, the
// refusal's reason, kept when it is the first. Call it before Advance past
// them: a process killed in between counts them again when it resends.
func (c *Cursor) Refused(n int64, why string) error {
	if c.f == nil {
		return ErrRetired
	}
	if n <= 0 {
		return nil
	}
	if c.refusedWhy == "" {
		c.refusedWhy = strings.Join(strings.Fields(why), " ")
	}
	line := fmt.Sprintf("%s%d %s", refusalPrefix, c.refused+n, c.refusedWhy)
	if len(line) > maxRefusal-1 {
		line = strings.ToValidUTF8(line[:maxRefusal-1], "")
	}
	if _, err := c.f.WriteAt([]byte(line+"\n"), recordSize); err != nil {
		return fmt.Errorf("refused %s: %w", c.journal, err)
	}
	c.refused += n
	return nil
}

// Journal returns the name of the cursor's journal.
func (c *Cursor) Journal() string { return c.journal }

// Offset returns the bytes of the journal acknowledged so far.
func (c *Cursor) Offset() int64 { return c.offset }

// Advance durably records that the destination acknowledged the journal up
// to offset (a journal.Chunk's Next): one pwrite(2) of a fixed-width
// record, so a SIGKILL at any moment leaves either the old or the new
// offset. An offset below the current one is refused.
func (c *Cursor) Advance(offset int64) error {
	if c.f == nil {
		return ErrRetired
	}
	if offset < c.offset {
		return fmt.Errorf("advance %s to %d: behind the acknowledged offset %d", c.journal, offset, c.offset)
	}
	if offset == c.offset {
		return nil
	}
	var b [slotSize]byte
	seq := c.seq + 1
	encodeSlot(b[:], seq, offset)
	if _, err := c.f.WriteAt(b[:], int64(seq%2)*slotSize); err != nil {
		return fmt.Errorf("advance %s: %w", c.journal, err)
	}
	c.offset, c.seq = offset, seq
	return nil
}

// Finish retires the cursor of a journal that is final and acknowledged to
// its end (ErrNotDone otherwise, and the cursor stays claimed): a
// "delivered" marker is kept for Status until retention removes it, and the
// journal is removed when the store has imported it and no other
// destination still needs it. A journal already gone (an orphan cursor)
// finishes at once.
func (c *Cursor) Finish() error {
	if c.f == nil {
		return ErrRetired
	}
	r, err := journal.Open(c.d.JournalDir(), c.journal)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("finish %s: %w", c.journal, err)
	default:
		final := r.Final()
		fi, err := os.Stat(c.d.journalPath(c.journal))
		_ = r.Close()
		if err != nil {
			return fmt.Errorf("finish %s: %w", c.journal, err)
		}
		if !final {
			return fmt.Errorf("finish %s: %w (its run still writes it)", c.journal, ErrNotDone)
		}
		if fi.Size() != c.offset {
			return fmt.Errorf("finish %s: %w (%d of %d bytes)", c.journal, ErrNotDone, c.offset, fi.Size())
		}
	}
	err = c.d.retire(c, extDelivered, nil)
	c.close()
	if err != nil {
		return fmt.Errorf("finish %s: %w", c.journal, err)
	}
	return nil
}

// Drop retires the cursor without delivering the rest of the journal (a
// spool bound was hit), adds records to the destination's dropped counter
// and keeps a "dropped" marker saying why; the journal is removed as by
// Finish.
func (c *Cursor) Drop(records int64, why string) error {
	if c.f == nil {
		return ErrRetired
	}
	err := c.d.retire(c, extDropped, []byte(strings.ReplaceAll(why, "\n", " ")+"\n"))
	if err == nil {
		err = c.d.addDropped(c.dest, records)
	}
	c.close()
	if err != nil {
		return fmt.Errorf("drop %s: %w", c.journal, err)
	}
	return nil
}

// Release lets go of the cursor without finishing it; another Claim may
// then take it.
func (c *Cursor) Release() error {
	if c.f == nil {
		return ErrRetired
	}
	f := c.f
	c.f = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("release %s: %w", c.journal, err)
	}
	return nil
}

func (c *Cursor) close() {
	_ = c.f.Close()
	c.f = nil
}

// addDropped adds n to dest's dropped counter, under the journal
// directory's lock (the counter is shared by processes).
func (d *Dir) addDropped(dest string, n int64) error {
	if n == 0 {
		return nil
	}
	unlock, err := d.lock()
	if err != nil {
		return err
	}
	defer unlock()
	path := filepath.Join(d.destDir(dest), droppedFile)
	total, err := readCounter(path)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(total+n, 10)+"\n"), 0o600); err != nil {
		return fmt.Errorf("count dropped records: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("count dropped records: %w", err)
	}
	return nil
}

func readCounter(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return n, nil
}
