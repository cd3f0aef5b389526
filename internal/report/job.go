package report

import (
	"slices"
	"strconv"
	"strings"

	"github.com/graphsignal/graphsignal/internal/store"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// A distributed job's session (docs/distributed.md) lists its runs by node
// and rank, after a table of them, so that a failed rank or a straggler
// shows at a glance.

// inJob reports whether any run carries a node rank or a rank.
func inJob(runs []store.Run) bool {
	for i := range runs {
		if runs[i].Tags[telemetry.TagJobNodeRank] != "" || runs[i].Tags[telemetry.TagJobRank] != "" {
			return true
		}
	}
	return false
}

// byRank returns the runs ordered by node rank, then rank (runs that lack
// one after those that have it), keeping the store's order otherwise.
func byRank(runs []store.Run) []*store.Run {
	out := make([]*store.Run, len(runs))
	for i := range runs {
		out[i] = &runs[i]
	}
	key := func(r *store.Run, tag string) int {
		if n, err := strconv.Atoi(r.Tags[tag]); err == nil && n >= 0 {
			return n
		}
		return int(^uint(0) >> 1)
	}
	slices.SortStableFunc(out, func(a, b *store.Run) int {
		if c := key(a, telemetry.TagJobNodeRank) - key(b, telemetry.TagJobNodeRank); c != 0 {
			return sign(c)
		}
		return sign(key(a, telemetry.TagJobRank) - key(b, telemetry.TagJobRank))
	})
	return out
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// rankTable lists the job's runs, one line each: node, rank, local rank,
// status, duration, host; the slowest finished run is marked.
func rankTable(runs []*store.Run) *table {
	t := table{indent: "  "}
	t.add("NODE", "RANK", "LOCAL", "STATUS", "DURATION", "HOST")
	slowest := -1
	for i, r := range runs {
		if !r.InProgress() && (slowest < 0 || r.Duration > runs[slowest].Duration) {
			slowest = i
		}
	}
	for i, r := range runs {
		node := r.Tags[telemetry.TagJobNodeRank]
		if name := r.Tags[telemetry.TagJobNode]; name != "" {
			node = strings.TrimPrefix(node+" "+name, " ")
		}
		dur := "-"
		if !r.InProgress() {
			dur = Duration(r.Duration)
			if i == slowest && len(runs) > 1 {
				dur += " (slowest)"
			}
		}
		host, _ := r.Attributes[telemetry.AttrHostName].(string)
		t.add(clean(orDash(node)), clean(orDash(r.Tags[telemetry.TagJobRank])), clean(orDash(r.Tags[telemetry.TagJobLocalRank])),
			clean(Outcome(r)), dur, clean(orDash(host)))
	}
	return &t
}

// jobSummary says how many nodes and ranks a session has: "2 nodes, 8
// ranks"; "" outside a job.
func jobSummary(nodes, ranks int) string {
	var parts []string
	if nodes > 0 {
		parts = append(parts, Plural(nodes, "node"))
	}
	if ranks > 0 {
		parts = append(parts, Plural(ranks, "rank"))
	}
	return strings.Join(parts, ", ")
}
