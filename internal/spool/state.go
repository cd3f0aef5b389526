package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
)

// ReclaimKeep is how much of a journal before its delivery offset reclaim
// keeps (besides its first line) for a destination that resumes it to
// prime its sender from: a sender whose state those bytes may not hold
// saves it with SaveState once the offset passes it (docs/upload.md).
const ReclaimKeep = defaultReclaimKeep

// StateKind is what a state saved for a journal and a destination at a
// delivery offset holds; each kind has its own file beside the cursor.
type StateKind string

// The kinds of state.
const (
	// SenderState is what the destination's sender had learnt once the
	// journal was acknowledged up to the offset (upload.StateKeeper).
	SenderState StateKind = ".state"
	// AcceptedParts are the parts of the request that starts at the offset
	// that the destination accepted although the request as a whole
	// failed (upload.PartKeeper: an OTLP signal), not to be sent again.
	AcceptedParts StateKind = ".parts"
)

// stateKinds are every StateKind, for retirement.
var stateKinds = []StateKind{SenderState, AcceptedParts}

// SaveState records state of kind for dest's delivery of journal at
// offset, replacing an earlier one of that kind, whole or not at all (a
// temporary file renamed into place). It goes when the journal's cursor is
// retired.
func (d *Dir) SaveState(dest, journal string, kind StateKind, offset int64, state []byte) error {
	if err := checkName(journal); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	extState := string(kind)
	dir := d.destDir(dest)
	b := make([]byte, 12, 12+len(state))
	binary.LittleEndian.PutUint64(b, uint64(offset))
	b = append(b, state...)
	binary.LittleEndian.PutUint32(b[8:], crc32.ChecksumIEEE(append(b[:8:8], state...)))
	tmp, err := os.CreateTemp(dir, "."+journal+extState+".*.tmp")
	if err != nil {
		return fmt.Errorf("save state of %s: %w", journal, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err = errors.Join(err, tmp.Close()); err != nil {
		return fmt.Errorf("save state of %s: %w", journal, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, journal+extState)); err != nil {
		return fmt.Errorf("save state of %s: %w", journal, err)
	}
	return nil
}

// LoadState returns the state of kind SaveState recorded for journal at
// offset; ok is false when there is none, one of another offset (the
// process that saved it died between acknowledging and saving, or the
// offset moved on since), or a damaged one.
func (d *Dir) LoadState(dest, journal string, kind StateKind, offset int64) (state []byte, ok bool) {
	if checkName(journal) != nil {
		return nil, false
	}
	b, err := os.ReadFile(filepath.Join(d.destDir(dest), journal+string(kind)))
	if err != nil || len(b) < 12 {
		return nil, false
	}
	if int64(binary.LittleEndian.Uint64(b)) != offset {
		return nil, false
	}
	sum := binary.LittleEndian.Uint32(b[8:])
	if crc32.ChecksumIEEE(append(b[:8:8], b[12:]...)) != sum {
		return nil, false
	}
	return b[12:], true
}
