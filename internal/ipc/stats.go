package ipc

import (
	"sync/atomic"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Stats is a snapshot of the intake's counters since Bind. Every map has
// an entry for every message type or reason, zero included.
type Stats struct {
	Messages        map[string]uint64 // accepted messages by type ("span", "score", ...)
	BadLines        map[string]uint64 // rejected lines by reason ("invalid_json", ...)
	Dropped         uint64            // records decoded but dropped because the queue was full
	SDKUploads      uint64            // forwarded SDK uploads reassembled and decoded
	SDKUploadDrops  map[string]uint64 // forwarded SDK uploads dropped, by reason ("incomplete", ...)
	RefusedPeers    uint64            // connections refused: peer of another uid (or unknown)
	RefusedOverload uint64            // connections refused: MaxConns reached
	Connections     uint64            // connections accepted
	Active          int64             // connections open now
}

// BadTotal returns the number of bad lines over all reasons.
func (s Stats) BadTotal() uint64 {
	var n uint64
	for _, v := range s.BadLines {
		n += v
	}
	return n
}

type counters struct {
	messages        [numTypes]atomic.Uint64
	bad             [numReasons]atomic.Uint64
	uploads         atomic.Uint64
	uploadDrops     [numUploadDrops]atomic.Uint64
	dropped         atomic.Uint64
	refusedPeers    atomic.Uint64
	refusedOverload atomic.Uint64
	connections     atomic.Uint64
	active          atomic.Int64
}

// localCounts are a connection's counts, added to the shared counters once
// per delivered batch so that the hot path touches no shared cache line.
type localCounts struct {
	messages    [numTypes]uint64
	bad         [numReasons]uint64
	uploads     uint64
	uploadDrops [numUploadDrops]uint64
}

func (c *counters) add(l *localCounts) {
	for i, v := range l.messages {
		if v != 0 {
			c.messages[i].Add(v)
		}
	}
	for i, v := range l.bad {
		if v != 0 {
			c.bad[i].Add(v)
		}
	}
	if l.uploads != 0 {
		c.uploads.Add(l.uploads)
	}
	for i, v := range l.uploadDrops {
		if v != 0 {
			c.uploadDrops[i].Add(v)
		}
	}
	*l = localCounts{}
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Messages:        make(map[string]uint64, numTypes),
		BadLines:        make(map[string]uint64, numReasons),
		Dropped:         c.dropped.Load(),
		SDKUploads:      c.uploads.Load(),
		SDKUploadDrops:  make(map[string]uint64, numUploadDrops),
		RefusedPeers:    c.refusedPeers.Load(),
		RefusedOverload: c.refusedOverload.Load(),
		Connections:     c.connections.Load(),
		Active:          c.active.Load(),
	}
	for i := range c.messages {
		s.Messages[MessageType(i).String()] = c.messages[i].Load()
	}
	for i := range c.bad {
		s.BadLines[Reason(i).String()] = c.bad[i].Load()
	}
	for i := range c.uploadDrops {
		s.SDKUploadDrops[UploadDrop(i).String()] = c.uploadDrops[i].Load()
	}
	return s
}

// Metric names of the intake's own counters, all cumulative counters.
const (
	MetricMessages        = "graphsignal.intake.messages"         // tag "type"
	MetricBadLines        = "graphsignal.intake.bad_lines"        // tag "reason"
	MetricDropped         = "graphsignal.intake.dropped"          // records dropped under overload
	MetricRefusedPeers    = "graphsignal.intake.refused_peers"    // connections from another uid
	MetricRefusedOverload = "graphsignal.intake.refused_overload" // connections over MaxConns
	MetricConnections     = "graphsignal.intake.connections"      // connections accepted
	MetricSDKUploads      = "graphsignal.intake.sdk_uploads"      // forwarded SDK uploads decoded
	MetricSDKUploadDrops  = "graphsignal.intake.sdk_upload_drops" // tag "reason": forwarded SDK uploads dropped
)

// metrics turns a snapshot into counter metrics of the run's trace, tagged
// with tags (the run's) plus "type" or "reason". Zero counts of types and
// reasons are left out; the scalar counters are always present.
func (s Stats) metrics(trace telemetry.TraceID, tags telemetry.Tags, now time.Time) []telemetry.Metric {
	out := make([]telemetry.Metric, 0, 8)
	add := func(name string, v uint64, k, kv string) {
		t := tags.Clone()
		if k != "" {
			t = tags.Merge(telemetry.Tags{k: kv})
		}
		out = append(out, telemetry.Metric{
			TraceID: trace, Name: name, Kind: telemetry.Counter, Unit: telemetry.UnitCount,
			Tags: t, Time: now, Value: float64(v),
		})
	}
	for i := range numTypes {
		if v := s.Messages[i.String()]; v != 0 {
			add(MetricMessages, v, "type", i.String())
		}
	}
	for i := range numReasons {
		if v := s.BadLines[i.String()]; v != 0 {
			add(MetricBadLines, v, "reason", i.String())
		}
	}
	for i := range numUploadDrops {
		if v := s.SDKUploadDrops[i.String()]; v != 0 {
			add(MetricSDKUploadDrops, v, "reason", i.String())
		}
	}
	if s.SDKUploads != 0 {
		add(MetricSDKUploads, s.SDKUploads, "", "")
	}
	add(MetricDropped, s.Dropped, "", "")
	add(MetricRefusedPeers, s.RefusedPeers, "", "")
	add(MetricRefusedOverload, s.RefusedOverload, "", "")
	add(MetricConnections, s.Connections, "", "")
	return out
}
