package gpu

import "fmt"

// xidMeanings are the well-known XID codes, after NVIDIA's "XID Errors"
// catalogue (docs.nvidia.com/deploy/xid-errors), in a few words each.
var xidMeanings = map[uint64]string{
	13:  "graphics engine exception (often an out-of-range access in a kernel)",
	31:  "GPU memory page fault (often an illegal address in a kernel)",
	43:  "GPU stopped processing (the application hit an error and was stopped)",
	45:  "preemptive cleanup after a previous error (the channel was torn down)",
	48:  "double-bit ECC error (uncorrectable memory error)",
	63:  "ECC page retirement or row remapping recorded",
	64:  "ECC page retirement or row remapping failed",
	74:  "NVLink error",
	79:  "GPU has fallen off the bus",
	92:  "high single-bit ECC error rate",
	94:  "contained ECC error (the affected application was stopped)",
	95:  "uncontained ECC error (every application on the GPU is affected; reset it)",
	119: "GSP RPC timeout (the GPU's system processor stopped answering)",
}

// XIDMeaning returns what an XID code means, or "" for one not in the
// catalogue above.
func XIDMeaning(code uint64) string { return xidMeanings[code] }

// Describe returns a one-line description of x on the device named name:
// "XID 79 on GPU 0 (NVIDIA H100 80GB HBM3): GPU has fallen off the bus".
func (x XID) Describe(device string) string {
	s := fmt.Sprintf("XID %d", x.Code)
	if device != "" {
		s += " on " + device
	}
	if m := XIDMeaning(x.Code); m != "" {
		s += ": " + m
	}
	return s
}

// Fatal reports whether the code means the device, not only one
// application's work on it, is lost: the run's error whatever the
// program's exit status (79: off the bus; 95: uncontained ECC error;
// 119: GSP timeout; 48: double-bit ECC error).
func (x XID) Fatal() bool {
	switch x.Code {
	case 48, 79, 95, 119:
		return true
	}
	return false
}
