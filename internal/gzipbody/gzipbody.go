// Package gzipbody compresses the bodies of upload requests with gzip.
//
// A body shorter than StoredBelow is written in gzip's stored blocks: a
// request that small takes the same round trips on the wire compressed or
// not (it fits in a new connection's first congestion window), and stored
// blocks need none of a compressor's state (compress/flate allocates and
// clears about 1 MiB for any level, a millisecond of CPU in a fresh
// process: what a short run would pay at its exit). Longer bodies are
// compressed at gzip.BestSpeed (docs/upload.md says why that level).
package gzipbody

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
)

// StoredBelow is the body length from which bodies are compressed.
const StoredBelow = 16 << 10

// Writer compresses one body at a time; it is not safe for concurrent
// use. The zero value is ready to use; it allocates its compressor on the
// first body that needs one.
type Writer struct {
	fast *gzip.Writer
}

// Compress appends body, as one gzip member (RFC 1952), to dst.
func (w *Writer) Compress(dst *bytes.Buffer, body []byte) {
	if len(body) < StoredBelow {
		appendStored(dst, body)
		return
	}
	if w.fast == nil {
		w.fast, _ = gzip.NewWriterLevel(dst, gzip.BestSpeed) // the level is valid
	} else {
		w.fast.Reset(dst)
	}
	// Writes to a bytes.Buffer do not fail (it panics when out of memory).
	_, _ = w.fast.Write(body)
	_ = w.fast.Close()
}

// maxStored is the most bytes one stored deflate block holds.
const maxStored = 1<<16 - 1

// appendStored appends body to dst as a gzip member of stored deflate
// blocks (RFC 1951 section 3.2.4): a 10-byte header, blocks of at most
// maxStored bytes each after its 5-byte header, and the CRC-32 and length.
func appendStored(dst *bytes.Buffer, body []byte) {
	// ID1 ID2, CM=8 (deflate), FLG=0, MTIME=0, XFL=0, OS=255 (unknown).
	dst.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255})
	crc, size := crc32.ChecksumIEEE(body), uint32(len(body))
	for {
		n := min(len(body), maxStored)
		var final byte // BFINAL in bit 0; BTYPE=00 (stored) in bits 1-2
		if n == len(body) {
			final = 1
		}
		dst.Write([]byte{final, byte(n), byte(n >> 8), ^byte(n), ^byte(n >> 8)})
		dst.Write(body[:n])
		body = body[n:]
		if final == 1 {
			break
		}
	}
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], crc)
	binary.LittleEndian.PutUint32(trailer[4:], size)
	dst.Write(trailer[:])
}
