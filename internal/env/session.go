package env

import (
	"crypto/rand"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// SessionID returns the run's session id: the user's session_id tag when it
// is set and not empty, else the CI run's (CI.SessionID) so that every job
// and step of one pipeline run forms one session, else the distributed
// job's (Job.SessionID) so that every node and rank of one training job
// forms one session, else newID().
func SessionID(tags telemetry.Tags, ci CI, job Job, newID func() string) string {
	if id := tags[telemetry.TagSessionID]; id != "" {
		return id
	}
	if id := ci.SessionID(); id != "" {
		return id
	}
	if id := job.SessionID(); id != "" {
		return id
	}
	return newID()
}

// sortable is Crockford's base32 alphabet in lower case: ASCII order matches
// digit order, so ids of a fixed width sort as their values.
const sortable = "0123456789abcdefghjkmnpqrstvwxyz"

// NewSessionID returns a new 18-character session id: now in milliseconds
// since the Unix epoch (48 bits, 10 characters) followed by 40 random bits
// (8 characters), in lower-case Crockford base32. Ids sort by creation time
// across runs and machines to the millisecond; within one millisecond their
// order is random. Times before the epoch count as the epoch.
func NewSessionID(now time.Time) string {
	ms := max(now.UnixMilli(), 0) & (1<<48 - 1)
	var r [5]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails on supported platforms
	rnd := uint64(r[0])<<32 | uint64(r[1])<<24 | uint64(r[2])<<16 | uint64(r[3])<<8 | uint64(r[4])
	var b [18]byte
	for i := 9; i >= 0; i-- {
		b[i] = sortable[ms&31]
		ms >>= 5
	}
	for i := 17; i >= 10; i-- {
		b[i] = sortable[rnd&31]
		rnd >>= 5
	}
	return string(b[:])
}
