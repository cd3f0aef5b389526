//go:build !cgo

// Command graphsignal-gpu is graphsignal's GPU sampler. This build has no
// cgo, so no NVML: it says so in one Note and exits.
package main

import (
	"os"

	"github.com/graphsignal/graphsignal/internal/gpu"
)

func main() {
	// The reader of the report learns why there is no GPU data; a failed
	// write changes nothing.
	_ = gpu.NewWriter(os.Stdout).Write(gpu.Message{Note: "built without cgo: no GPU support"})
}
