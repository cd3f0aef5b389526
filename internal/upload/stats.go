package upload

import (
	"errors"
	"os"
	"path/filepath"
	"sync"

	"github.com/graphsignal/graphsignal/internal/journal"
	"github.com/graphsignal/graphsignal/internal/spool"
)

// Stats are a Shipper's counters since New, for the end-of-run summary,
// `graphsignal upload` and --debug.
type Stats struct {
	// Destination is the Sender's Name().
	Destination string
	// Records counts records the destination acknowledged and kept.
	Records int64
	// Requests and Bytes count acknowledged requests and their size on
	// the wire.
	Requests int64
	Bytes    int64
	// Failed counts attempts that failed (each retry counts).
	Failed int64
	// Rejected counts records the destination refused: individually in an
	// accepted request (partial success), or with the whole request it
	// refused as invalid (HTTP 400, gRPC InvalidArgument). They are not
	// resent.
	Rejected int64
	// Dropped counts records given up: a record too large to send alone,
	// or a damaged journal line.
	Dropped int64
	// LastError is the last failure, secrets redacted; "" if none.
	LastError string
	// Permanent reports that the destination refused permanently: nothing
	// more is sent to it by this process.
	Permanent bool
}

type stats struct {
	mu sync.Mutex
	Stats
	// refusalShown reports that the line about a request refused as
	// invalid was printed (once per Shipper).
	refusalShown bool
}

func (s *stats) add(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.Stats)
}

// setErr records the last error (already redacted).
func (s *stats) setErr(msg string, permanent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.LastError = msg
	s.Permanent = s.Permanent || permanent
}

// Stats returns a copy of the counters; it is safe to call at any time.
func (s *Shipper) Stats() Stats {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	return s.stats.Stats
}

// Pending is what a destination has left to deliver in a spool.
type Pending struct {
	// Journals is the number of journals not wholly delivered.
	Journals int
	// Bytes is the size of their undelivered part.
	Bytes int64
}

// PendingOf measures what is pending for dest in d. It reads each
// journal's acknowledged offset without claiming it, so it never waits
// for, or disturbs, the process delivering it (the value may be a moment
// old).
func PendingOf(d *spool.Dir, dest string) (Pending, error) {
	names, err := d.Pending(dest)
	if err != nil {
		return Pending{}, err
	}
	var p Pending
	for _, name := range names {
		fi, err := os.Stat(filepath.Join(d.JournalDir(), name+journal.Ext))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		p.Journals++
		if err != nil {
			continue
		}
		size := fi.Size()
		if off, err := d.Acknowledged(dest, name); err == nil {
			size -= off
		}
		p.Bytes += max(size, 0)
	}
	return p, nil
}
