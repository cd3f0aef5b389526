package upload

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/graphsignal/graphsignal/internal/redact"
	"github.com/graphsignal/graphsignal/internal/spool"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// TestRequestRefusalDropsAndGoesOn checks that a request the destination
// refuses as invalid (HTTP 400, gRPC InvalidArgument) does not stop
// delivery: its records are sent once, counted as rejected and passed over
// (the delivery offset moves past them), the records after them are still
// delivered, and one line says so, however many requests are refused.
func TestRequestRefusalDropsAndGoesOn(t *testing.T) {
	tests := []struct {
		name   string
		refuse *PermanentError
		why    string // in the line, between the parentheses
	}{
		{"HTTP 400", &PermanentError{Destination: testDest, Status: 400, Reason: "request refused: bad field sekret", Request: true},
			"400: request refused: bad field " + redact.Redacted},
		{"gRPC InvalidArgument", &PermanentError{Destination: testDest, Reason: "invalid argument: bad ids", Request: true},
			"invalid argument: bad ids"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				d := spool.Open(t.TempDir())
				journals := []string{"0-old", "1-mid", "2-new"}
				var all []string
				for _, name := range journals {
					writeJournal(t, d, name, 5, 1, false)
					all = append(all, want(name, 5)...)
				}
				// The oldest journal's second record and the middle one's
				// fourth make their requests refused.
				var mu sync.Mutex
				var refused [][]string
				snd := &fakeSender{reply: func(_ int, b telemetry.Batch) (Result, error) {
					got := names(b)
					if slices.Contains(got, "0-old-1") || slices.Contains(got, "1-mid-3") {
						mu.Lock()
						refused = append(refused, got)
						mu.Unlock()
						return Result{}, tt.refuse
					}
					return Result{}, nil
				}}
				var stderr syncBuffer
				s := newShipper(t, Config{Sender: snd, Spool: d, Stderr: &stderr, MaxRecords: 2, Secrets: []string{"sekret"}})
				if err := s.Drain(t.Context(), nil); err != nil {
					t.Fatalf("Drain() = %v, want nil: a refused request does not stop delivery", err)
				}

				if len(refused) != 2 {
					t.Fatalf("%d requests refused, want 2 (each refused request sent once): %v", len(refused), refused)
				}
				var dropped []string
				for _, r := range refused {
					dropped = append(dropped, r...)
				}
				acked := snd.ackedNames()
				// Every record was sent exactly once: acknowledged or
				// refused, none resent.
				seen := map[string]int{}
				for _, n := range append(slices.Clone(acked), dropped...) {
					seen[n]++
				}
				for _, n := range all {
					if seen[n] != 1 {
						t.Errorf("record %s sent %d times, want 1", n, seen[n])
					}
				}
				st := s.Stats()
				if n := snd.callCount(); int64(n) != int64(len(refused))+st.Requests {
					t.Errorf("Send called %d times, want %d refused + %d acknowledged", n, len(refused), st.Requests)
				}
				var wantAcked []string
				for _, n := range all {
					if !slices.Contains(dropped, n) {
						wantAcked = append(wantAcked, n)
					}
				}
				if diff := cmp.Diff(wantAcked, acked); diff != "" {
					t.Errorf("acknowledged records (-want +got):\n%s", diff)
				}
				if !slices.Contains(acked, "2-new-4") {
					t.Errorf("the newest journal's last record was not delivered: %v", acked)
				}

				if st.Rejected != int64(len(dropped)) || st.Records != int64(len(wantAcked)) || st.Permanent {
					t.Errorf("Stats() = %+v, want Rejected %d, Records %d, not Permanent", st, len(dropped), len(wantAcked))
				}
				if p := pending(t, d); len(p) != 0 {
					t.Errorf("pending = %v, want none: the offset moves past refused records", p)
				}

				line := fmt.Sprintf("graphsignal: %s: %d records refused as invalid (%s); they are dropped, delivery goes on\n",
					testDest, len(refused[0]), tt.why)
				if got := stderr.String(); got != line {
					t.Errorf("stderr = %q, want one line %q", got, line)
				}

				// The next process (graphsignal upload) has nothing to send.
				again := &fakeSender{}
				s2 := newShipper(t, Config{Sender: again, Spool: d, MaxRecords: 2})
				if err := s2.Drain(t.Context(), nil); err != nil {
					t.Fatal(err)
				}
				if n := again.callCount(); n != 0 {
					t.Errorf("a later Drain sent %d requests, want 0", n)
				}
			})
		})
	}
}

// TestRequestRefusalWhileStreaming checks that a refused request of the
// live journal does not stop the streaming: what is appended after it is
// delivered, and Flush reports no error.
func TestRequestRefusalWhileStreaming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := spool.Open(t.TempDir())
		w := writeJournal(t, d, "live", 1, 1, true)
		snd := &fakeSender{reply: func(_ int, b telemetry.Batch) (Result, error) {
			if slices.Contains(names(b), "live-0") {
				return Result{}, &PermanentError{Destination: testDest, Status: 400, Reason: "request refused", Request: true}
			}
			return Result{}, nil
		}}
		var stderr syncBuffer
		s := newShipper(t, Config{Sender: snd, Spool: d, Live: "live", Stderr: &stderr})
		s.Start(t.Context())
		defer s.Stop()
		synctest.Wait()
		if err := w.Append(metrics("after", 3)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		s.LiveClosed()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := s.Flush(ctx); err != nil {
			t.Fatalf("Flush() = %v, want nil", err)
		}
		if got, want := snd.ackedNames(), want("after", 3); !cmp.Equal(got, want) {
			t.Errorf("acknowledged %v, want %v", got, want)
		}
		if st := s.Stats(); st.Rejected != 1 || st.Permanent {
			t.Errorf("Stats() = %+v, want 1 rejected, not permanent", st)
		}
		if n := strings.Count(stderr.String(), "\n"); n != 1 {
			t.Errorf("stderr has %d lines, want 1: %q", n, stderr.String())
		}
	})
}
