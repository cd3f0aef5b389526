package spool

import (
	"strconv"
	"testing"
)

// BenchmarkAdvance: one acknowledgement recorded (one pwrite).
func BenchmarkAdvance(b *testing.B) {
	sp := Open(b.TempDir())
	if err := sp.Expect(testDest, "0001-run"); err != nil {
		b.Fatal(err)
	}
	c, err := sp.Claim(testDest, "0001-run")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Release()
	var off int64
	for b.Loop() {
		off += 100
		if err := c.Advance(off); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExpectClaimFinish: a run's whole cursor life on an empty
// journal: Expect (on the run's start path), Claim, Finish with the
// removal check.
func BenchmarkExpectClaimFinish(b *testing.B) {
	sp := Open(b.TempDir())
	for b.Loop() {
		if err := sp.Expect(testDest, "0001-run"); err != nil {
			b.Fatal(err)
		}
		c, err := sp.Claim(testDest, "0001-run")
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Finish(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExpect: what a run adds to its start path per destination.
func BenchmarkExpect(b *testing.B) {
	sp := Open(b.TempDir())
	i := 0
	for b.Loop() {
		i++
		if err := sp.Expect(testDest, "run-"+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
}
