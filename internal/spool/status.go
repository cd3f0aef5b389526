package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// State is where a journal stands for one destination.
type State string

// The states of DeliveryStatus.
const (
	Pending   State = "pending"
	Delivered State = "delivered"
	Refused   State = "refused" // delivered to its end, some records refused
	Dropped   State = "dropped"
)

// DeliveryStatus is where one journal stands for one destination.
type DeliveryStatus struct {
	Destination string
	State       State
	// Offset is the bytes of the journal acknowledged by the destination.
	Offset int64
	// Size is the journal's size now (pending only).
	Size int64
	// Why says why the journal was dropped (dropped only), or why the
	// destination refused records of it (Refused).
	Why string
	// Refused is how many records of the journal the destination refused
	// as invalid or too large (Cursor.Refused); a delivered journal with
	// any is in state Refused.
	Refused int64
	// DroppedRecords is what the destination has had dropped in all (its
	// counter, see Dropped).
	DroppedRecords int64
}

// Status says where journal stands for each destination that ever
// expected it (and whose marker retention has not removed), sorted by
// destination name.
func (d *Dir) Status(journal string) ([]DeliveryStatus, error) {
	if err := checkName(journal); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	dests, err := d.destinations()
	if err != nil {
		return nil, err
	}
	var out []DeliveryStatus
	for dir, dest := range dests {
		st, ok, err := d.status(dir, journal)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		st.Destination = dest
		if st.DroppedRecords, err = readCounter(filepath.Join(dir, droppedFile)); err != nil {
			return nil, fmt.Errorf("status: %w", err)
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Destination < out[j].Destination })
	return out, nil
}

func (d *Dir) status(dir, journal string) (DeliveryStatus, bool, error) {
	for _, s := range []struct {
		ext   string
		state State
	}{{extCursor, Pending}, {extDelivered, Delivered}, {extDropped, Dropped}} {
		b, err := os.ReadFile(filepath.Join(dir, journal+s.ext))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return DeliveryStatus{}, false, fmt.Errorf("status: %w", err)
		}
		st := DeliveryStatus{State: s.state}
		st.Offset, _ = decodeRecord(b)
		switch s.state {
		case Pending, Delivered:
			st.Refused, st.Why = decodeRefusal(b)
			if s.state == Delivered && st.Refused > 0 {
				st.State = Refused
			}
			if fi, err := os.Stat(d.journalPath(journal)); err == nil && s.state == Pending {
				st.Size = fi.Size()
			}
		case Dropped:
			if len(b) > recordSize {
				st.Why = strings.TrimSpace(string(b[recordSize:]))
			}
		}
		return st, true, nil
	}
	return DeliveryStatus{}, false, nil
}

// RunStatus is Status for the journals of the given runs, found by the
// run span id that ends a journal's name (JournalName) rather than by the
// name itself, which `show` cannot rebuild. Runs with no destination (and
// nested runs, recorded in the enclosing run's journal) are absent from
// the map. Each destination's directory is read once.
func (d *Dir) RunStatus(runs ...telemetry.SpanID) (map[telemetry.SpanID][]DeliveryStatus, error) {
	want := make(map[string]telemetry.SpanID, len(runs))
	for _, r := range runs {
		want[r.String()] = r
	}
	dests, err := d.destinations()
	if err != nil {
		return nil, err
	}
	out := make(map[telemetry.SpanID][]DeliveryStatus)
	for dir, dest := range dests {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("status: %w", err)
		}
		found := make(map[string]bool) // journal names seen in dir
		for _, e := range entries {
			journal := e.Name()
			for _, ext := range []string{extCursor, extDelivered, extDropped} {
				journal = strings.TrimSuffix(journal, ext)
			}
			_, id, ok := JournalRun(journal)
			run, wanted := want[id.String()]
			if !ok || !wanted || found[journal] || strings.HasPrefix(journal, ".") {
				continue
			}
			found[journal] = true
			st, ok, err := d.status(dir, journal)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			st.Destination = dest
			if st.DroppedRecords, err = readCounter(filepath.Join(dir, droppedFile)); err != nil {
				return nil, fmt.Errorf("status: %w", err)
			}
			out[run] = append(out[run], st)
		}
	}
	for _, sts := range out {
		sort.Slice(sts, func(i, j int) bool { return sts[i].Destination < sts[j].Destination })
	}
	return out, nil
}

// Acknowledged returns dest's acknowledged offset in journal without
// claiming the cursor (so it never disturbs the process delivering it; the
// value may be a moment old). ErrNotPending when the journal is not pending
// for dest.
func (d *Dir) Acknowledged(dest, journal string) (int64, error) {
	if err := checkName(journal); err != nil {
		return 0, fmt.Errorf("acknowledged: %w", err)
	}
	return d.peek(dest, journal)
}

// peek reads dest's acknowledged offset in journal without claiming it.
func (d *Dir) peek(dest, name string) (int64, error) {
	b, err := os.ReadFile(filepath.Join(d.destDir(dest), name+extCursor))
	if errors.Is(err, os.ErrNotExist) {
		return 0, ErrNotPending
	}
	if err != nil {
		return 0, fmt.Errorf("read cursor %s: %w", name, err)
	}
	off, _ := decodeRecord(b)
	return off, nil
}

// Dropped returns the number of records dropped for dest by the spool
// bounds (Trim) and Cursor.Drop, over the life of the data dir.
func (d *Dir) Dropped(dest string) (int64, error) {
	n, err := readCounter(filepath.Join(d.destDir(dest), droppedFile))
	if err != nil {
		return 0, fmt.Errorf("dropped: %w", err)
	}
	return n, nil
}
