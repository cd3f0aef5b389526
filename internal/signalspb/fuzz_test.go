package signalspb

import (
	"testing"
)

// FuzzUnmarshalUploadRequest checks Unmarshal against protobuf-go's
// generated code: neither panics, they accept and reject the same inputs,
// accepted inputs decode to the same message, and Marshal of it is
// protobuf-go's deterministic encoding. The seed corpus is in
// testdata/fuzz/FuzzUnmarshalUploadRequest (keep seeds small: the fuzzer
// minimises every new input, and a 20 KB one stalls it for a minute).
func FuzzUnmarshalUploadRequest(f *testing.F) {
	f.Add(canonical(sdkRequest(2, 2)))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = compareWithGenerated(t, b)
	})
}
