package signalspb

import (
	"testing"

	"google.golang.org/protobuf/proto"

	gen "github.com/graphsignal/graphsignal/internal/signalspb/signalspbgen"
)

// BenchmarkUnmarshalUploadRequest decodes a request of 100 spans with tags,
// attributes, counters and events and 10 histogram metrics, here and with
// the generated code.
func BenchmarkUnmarshalUploadRequest(b *testing.B) {
	body := canonical(sdkRequest(100, 10))
	b.Run("signalspb", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var req UploadRequest
			if err := req.Unmarshal(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("generated", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			var req gen.UploadRequest
			if err := proto.Unmarshal(body, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMarshalUploadRequest encodes the same request.
func BenchmarkMarshalUploadRequest(b *testing.B) {
	var req UploadRequest
	if err := req.Unmarshal(canonical(sdkRequest(100, 10))); err != nil {
		b.Fatal(err)
	}
	g := sdkRequest(100, 10)
	b.Run("signalspb", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = req.Marshal()
		}
	})
	b.Run("generated", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := proto.Marshal(g); err != nil {
				b.Fatal(err)
			}
		}
	})
}
