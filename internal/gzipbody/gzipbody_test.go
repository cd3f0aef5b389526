package gzipbody

import (
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"testing"
)

func TestCompressRoundTrips(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abcdefgh"[rng.IntN(8)]
		}
		return b
	}
	tests := []struct {
		name       string
		body       []byte
		compressed bool // the member is shorter than the body
	}{
		{"empty", nil, false},
		{"short, stored", text(1000), false},
		{"just below the bound, stored", text(StoredBelow - 1), false},
		{"at the bound, compressed", text(StoredBelow), true},
		{"several stored blocks", text(3*maxStored + 7), false},
		{"exactly one full stored block", text(maxStored), false},
		{"long, compressed", text(1 << 20), true},
	}
	var w Writer
	for round := range 2 { // the second round reuses the writer
		for _, tt := range tests {
			var out bytes.Buffer
			out.WriteString("prefix")
			if tt.name == "several stored blocks" || tt.name == "exactly one full stored block" {
				appendStored(&out, tt.body) // longer than StoredBelow: only through the function
			} else {
				w.Compress(&out, tt.body)
			}
			if !bytes.HasPrefix(out.Bytes(), []byte("prefix")) {
				t.Fatalf("round %d, %s: what dst held was overwritten", round, tt.name)
			}
			member := out.Bytes()[len("prefix"):]
			zr, err := gzip.NewReader(bytes.NewReader(member))
			if err != nil {
				t.Fatalf("round %d, %s: %v", round, tt.name, err)
			}
			got, err := io.ReadAll(zr)
			if err != nil {
				t.Fatalf("round %d, %s: %v", round, tt.name, err)
			}
			if !bytes.Equal(got, tt.body) {
				t.Fatalf("round %d, %s: body changed on the way", round, tt.name)
			}
			if shorter := len(member) < len(tt.body); shorter != tt.compressed {
				t.Errorf("round %d, %s: %d bytes for a %d-byte body, want compressed=%v",
					round, tt.name, len(member), len(tt.body), tt.compressed)
			}
		}
	}
}

// BenchmarkFirstCompress is what a fresh process pays for its first body
// of each kind: the writer's allocation and first use.
func BenchmarkFirstCompress(b *testing.B) {
	for _, n := range []int{2 << 10, 64 << 10} {
		body := bytes.Repeat([]byte("graphsignal span "), n/17+1)[:n]
		b.Run(map[bool]string{true: "stored", false: "fast"}[n < StoredBelow], func(b *testing.B) {
			var out bytes.Buffer
			for b.Loop() {
				var w Writer
				out.Reset()
				w.Compress(&out, body)
			}
		})
	}
}
