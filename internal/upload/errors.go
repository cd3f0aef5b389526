// Package upload delivers what runs recorded to remote destinations (the
// Graphsignal API, OpenTelemetry backends): the Sender interface that each
// destination implements, the error types that tell a permanent refusal
// from a retryable failure, and the delivery loop that reads the run
// journals with its own offsets, retries with backoff and keeps what could
// not be sent for later. docs/upload.md is the contract.
package upload

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Sender sends batches to one destination. Send is called from one
// goroutine at a time. It returns nil once the destination acknowledged the
// whole batch; otherwise an error that the delivery loop classifies with
// errors.As: *PermanentError (never retried), *RetryableError (retried with
// backoff, honouring RetryAfter), ErrTooLarge (the batch is split in two and
// each half sent again). Any other error (a transport failure: refused
// connection, timeout, DNS, TLS) is retried. Errors never contain secrets.
type Sender interface {
	// Name is the destination as shown to users: its kind and endpoint,
	// without credentials ("Graphsignal API https://api.graphsignal.com").
	Name() string
	Send(ctx context.Context, b telemetry.Batch) (Result, error)
}

// Result is what a destination said about an accepted batch.
type Result struct {
	// Bytes is the size of the request body on the wire (after compression).
	Bytes int
	// Rejected counts records the destination accepted the request for but
	// refused individually (OTLP partial success); they are not resent.
	Rejected int
	// Message is the destination's explanation of Rejected, if any.
	Message string
	// Refused, when not nil, is the refusal as invalid (Request set) of a
	// part of the batch that a Sender sends in several requests (an OTLP
	// signal); that part's records are counted in Rejected.
	Refused *PermanentError
	// Skipped counts records of the batch that the Sender does not send
	// (OTLP: in-progress run spans, SDK uploads): neither delivered nor
	// rejected there.
	Skipped int
	// NoRequest says the batch held nothing for the destination, so no
	// request was made (OTLP has no in-progress spans): its records are
	// neither delivered nor rejected there.
	NoRequest bool
}

// ErrTooLarge is returned (wrapped) by Send when the destination refused
// the request as too large (HTTP 413): the batch is split and resent.
var ErrTooLarge = errors.New("request too large")

// PermanentError is a refusal that sending again would not change (HTTP
// 400, 401, 403, 404, an OTLP/gRPC InvalidArgument or Unauthenticated, a
// bad certificate). A refusal of the destination (Request false: 401,
// 403, 404, Unauthenticated, PermissionDenied, a bad certificate) stops
// delivery to it for the process, and the records stay on disk for
// `graphsignal upload` once the cause is fixed. A refusal of the request
// (Request true) drops that request's records and delivery goes on.
type PermanentError struct {
	Destination string // the Sender's Name()
	Status      int    // HTTP status, or 0
	Reason      string // what it means, in words: "invalid API key"
	// Request reports that the destination refused this request's
	// content (HTTP 400, gRPC InvalidArgument), not the sender: its
	// records are counted as rejected and delivery goes on, as the OTLP
	// specification asks for data it cannot accept.
	Request bool
}

func (e *PermanentError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("upload rejected by %s: %s (%d)", e.Destination, e.Reason, e.Status)
	}
	return fmt.Sprintf("upload rejected by %s: %s", e.Destination, e.Reason)
}

// RetryableError is a failure that may pass: HTTP 408, 429, 5xx, gRPC
// Unavailable and friends. RetryAfter, when positive, is the wait the
// destination asked for (Retry-After).
type RetryableError struct {
	Destination string
	Status      int
	Reason      string
	RetryAfter  time.Duration
}

func (e *RetryableError) Error() string {
	s := fmt.Sprintf("upload to %s failed: %s", e.Destination, e.Reason)
	if e.Status != 0 {
		s += fmt.Sprintf(" (%d)", e.Status)
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf("; it asks to wait %v", e.RetryAfter)
	}
	return s
}

// MaxRetryAfter bounds the wait a destination can ask for.
const MaxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After header value, in seconds or as an
// HTTP date: 0 when absent, unparsable or in the past, and at most
// MaxRetryAfter. Senders put it in RetryableError.RetryAfter.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, int64(MaxRetryAfter/time.Second))) * time.Second
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	return min(max(t.Sub(now), 0), MaxRetryAfter)
}
