package grpcunary

import (
	"bytes"

	"github.com/graphsignal/graphsignal/internal/gzipbody"
)

// gzipBytes compresses b as the uploaders do.
func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	var w gzipbody.Writer
	w.Compress(&buf, b)
	return buf.Bytes()
}
