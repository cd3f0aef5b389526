//go:build cgo

package nvmlgpu

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/graphsignal/graphsignal/internal/gpu"
)

// xidWait is how long one wait for an event lasts, so that WatchXID sees
// its context end within it.
const xidWait = 500 * time.Millisecond

// ErrNoXIDEvents is returned by WatchXID when no sampled device reports
// XID events.
var ErrNoXIDEvents = errors.New("no device reports XID events")

// noInstance is NVML's GPU or compute instance id for "none".
const noInstance = 0xFFFFFFFF

// WatchXID sends each XID event of the sampled devices (of the GPUs of
// sampled MIG devices) to out, until ctx ends; it blocks until then, then
// frees its event set. It returns nil when ctx ended, ErrNoXIDEvents when
// no device reports XID events, or the error of creating the event set.
// Run it in its own goroutine; it may run while Sample does.
func (s *Sampler) WatchXID(ctx context.Context, out chan<- gpu.XID) error {
	set, ret := s.lib.EventSetCreate()
	if ret != nvml.SUCCESS {
		return fmt.Errorf("nvml event set: %w", ret)
	}
	defer set.Free()
	gpus := s.registerXID(set)
	if len(gpus) == 0 {
		return ErrNoXIDEvents
	}
	for ctx.Err() == nil {
		data, ret := set.Wait(uint32(xidWait / time.Millisecond))
		switch {
		case ret == nvml.ERROR_TIMEOUT:
			continue
		case ret != nvml.SUCCESS:
			s.note("xid wait "+ret.Error(), "waiting for XID events: %v", ret)
			select { // do not spin on a wait that fails at once
			case <-ctx.Done():
			case <-time.After(xidWait):
			}
			continue
		case data.EventType&nvml.EventTypeXidCriticalError == 0:
			continue
		}
		x := gpu.XID{Time: time.Now(), UUID: s.eventUUID(gpus, data), Code: data.EventData}
		select {
		case out <- x:
		case <-ctx.Done():
		}
	}
	return nil
}

// registerXID registers XID events on each sampled GPU that reports them
// and returns them, with their UUIDs.
func (s *Sampler) registerXID(set nvml.EventSet) map[nvml.Device]string {
	gpus := make(map[nvml.Device]string)
	for _, d := range s.devices {
		h, uuid := d.h, d.info.UUID
		if d.mig {
			h, uuid = d.parentH, d.info.Parent
		}
		if _, done := gpus[h]; done {
			continue
		}
		types, ret := h.GetSupportedEventTypes()
		if ret != nvml.SUCCESS || types&nvml.EventTypeXidCriticalError == 0 {
			s.note(uuid+" xid", "%s: XID events not reported (%v)", uuid, ret)
			continue
		}
		if ret := h.RegisterEvents(nvml.EventTypeXidCriticalError, set); ret != nvml.SUCCESS {
			s.note(uuid+" xid", "%s: XID events not reported: %v", uuid, ret)
			continue
		}
		gpus[h] = uuid
	}
	return gpus
}

// eventUUID returns the UUID of the device an event came from: the MIG
// device when the event names a sampled one, else its GPU; "" if unknown.
func (s *Sampler) eventUUID(gpus map[nvml.Device]string, data nvml.EventData) string {
	parent, ok := gpus[data.Device]
	if !ok {
		return ""
	}
	if data.GpuInstanceId != noInstance {
		for _, d := range s.devices {
			if d.mig && d.info.Parent == parent && d.gi == int(data.GpuInstanceId) &&
				(data.ComputeInstanceId == noInstance || d.ci == int(data.ComputeInstanceId)) {
				return d.info.UUID
			}
		}
	}
	return parent
}
