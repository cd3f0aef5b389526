package gpu

import (
	"strconv"
	"strings"
)

// VisibleDevicesEnv is the variable that restricts the devices CUDA
// programs see.
const VisibleDevicesEnv = "CUDA_VISIBLE_DEVICES"

// Visible returns the devices that CUDA_VISIBLE_DEVICES (value; set
// false when the variable is unset) leaves visible, in CUDA's order.
//
// Unset, every device is visible. Otherwise value is a comma-separated
// list; each entry (spaces around it ignored) is one of:
//   - an NVML index ("0"; leading digits, as strtoul reads them), naming a
//     physical GPU;
//   - a GPU UUID or a unique prefix of one ("GPU-8932f937");
//   - a MIG device UUID or a unique prefix of one ("MIG-…").
//
// A physical GPU named by index or UUID brings its MIG devices after it
// (those not already visible); naming one of them again afterwards is a
// repeat.
// As CUDA does, the list stops at the first entry that names no device
// (unknown, ambiguous or malformed: "-1" among them); the devices before
// it stay visible. A device named twice makes the whole list invalid and
// nothing visible, as CUDA and PyTorch's parser of the variable
// (torch.cuda._parse_visible_devices) treat a repeated entry. An empty
// value leaves nothing visible.
//
// The legacy MIG form "MIG-GPU-<uuid>/<gi>/<ci>" carries instance ids that
// Device does not: the caller that knows them (nvmlgpu) rewrites such
// entries to MIG UUIDs first; one left as is names no device.
//
// Indices are NVML's (PCI bus order), which CUDA's equal when
// CUDA_DEVICE_ORDER=PCI_BUS_ID or the GPUs are all of one model.
func Visible(value string, set bool, devices []Device) []Device {
	if !set {
		return devices
	}
	var visible []Device
	seen := make(map[string]bool)
	for _, entry := range strings.Split(value, ",") {
		named := lookupEntry(strings.TrimSpace(entry), devices)
		if named < 0 {
			break
		}
		d := devices[named]
		if seen[d.UUID] {
			return nil
		}
		seen[d.UUID] = true
		visible = append(visible, d)
		if d.Parent != "" {
			continue
		}
		for _, mig := range devices {
			if mig.Parent == d.UUID && !seen[mig.UUID] {
				seen[mig.UUID] = true
				visible = append(visible, mig)
			}
		}
	}
	return visible
}

// lookupEntry returns the index in devices of the device entry names, or
// -1 when it names none or more than one.
func lookupEntry(entry string, devices []Device) int {
	if strings.HasPrefix(entry, "GPU-") || strings.HasPrefix(entry, "MIG-") {
		found := -1
		for i, d := range devices {
			if !strings.HasPrefix(d.UUID, entry) {
				continue
			}
			if found >= 0 {
				return -1 // ambiguous prefix
			}
			found = i
		}
		return found
	}
	digits := len(entry) - len(strings.TrimLeft(entry, "0123456789"))
	index, err := strconv.Atoi(entry[:digits])
	if err != nil {
		return -1
	}
	for i, d := range devices {
		if d.Parent == "" && d.Index == index {
			return i
		}
	}
	return -1
}
