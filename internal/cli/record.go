package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/graphsignal/graphsignal/internal/env"
	"github.com/graphsignal/graphsignal/internal/forward"
	"github.com/graphsignal/graphsignal/internal/pipeline"
	"github.com/graphsignal/graphsignal/internal/procmon"
	"github.com/graphsignal/graphsignal/internal/redact"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Stderr tail bounds (docs/launcher.md).
const (
	stderrTailBytes = 16 << 10
	stderrTailLines = 50
)

// destination is where the records of run id go: the enclosing run's
// socket for a nested run (falling back to the local store if it cannot be
// reached), else the local store, through the run's journal, which dl (nil
// for none) delivers to the remote destinations.
func destination(cfg *Config, environ []string, id runIdentity, journalName string, dl *delivery) pipeline.Exporter {
	openJournal := dl.opener(openJournalExporter(cfg.DataDir, journalName))
	if !isNested(environ) {
		return pipeline.OpenAsync("local store "+cfg.DataDir, openJournal)
	}
	outer, _ := env.Lookup(environ, env.VarSocket)
	return pipeline.OpenAsync("enclosing run", func(ctx context.Context) (pipeline.Exporter, error) {
		if f, err := forward.Dial(ctx, outer, forward.WithRun(id.traceID, id.spanID)); err == nil {
			return f, nil
		}
		return openJournal(ctx)
	})
}

// softMemoryLimit is the Go runtime's soft memory limit for a run
// (debug.SetMemoryLimit), unless GOMEMLIMIT sets another: it makes the
// garbage collector return memory before the heap doubles. The bound itself
// comes from the bounded queues (docs/architecture.md, "Memory bound").
const softMemoryLimit = 208 << 20

// limitMemory sets softMemoryLimit unless environ has GOMEMLIMIT (which the
// runtime applied already).
func limitMemory(environ []string) {
	if _, ok := env.Lookup(environ, "GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(softMemoryLimit)
	}
}

// selfCounters are graphsignal's own counters that the pipeline records
// with the run (docs/protocol.md, "Drops"): its drop counters and the
// intakes' counters, every pipeline.DefaultSelfMetricsInterval while they
// move and once more at the end, so that a killed run keeps them too.
type selfCounters struct {
	in atomic.Pointer[intakes] // set once the intakes are bound
}

// metrics is the pipeline's Config.SelfMetrics for the run of trace and tags.
func (c *selfCounters) metrics(trace telemetry.TraceID, tags telemetry.Tags) func(pipeline.Stats, time.Time) []telemetry.Metric {
	return func(s pipeline.Stats, now time.Time) []telemetry.Metric {
		out := s.Metrics(trace, tags, now)
		in := c.in.Load()
		if in == nil {
			return out
		}
		var intake []telemetry.Metric
		if in.sock != nil {
			intake = append(intake, in.sock.Metrics(now)...)
		}
		if in.http != nil {
			intake = append(intake, in.http.Metrics(now)...)
		}
		for _, m := range intake {
			if m.Value != 0 {
				out = append(out, m)
			}
		}
		return out
	}
}

// isNested reports whether this run runs inside another graphsignal run,
// which records it.
func isNested(environ []string) bool {
	outer, ok := env.Lookup(environ, env.VarSocket)
	return ok && outer != ""
}

// warnings prints graphsignal's own problems on stderr, one line each; the
// run and its exit status are not affected. The pipeline reports each
// exporter's first error through exporterError.
type warnings struct {
	w       io.Writer
	secrets []string

	mu      sync.Mutex
	printed bool
}

// redacted returns s without the secrets the warnings hide.
func (ws *warnings) redacted(s string) string {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return redact.String(s, ws.secrets...)
}

// setSecrets replaces the values redacted from the warnings.
func (ws *warnings) setSecrets(secrets []string) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.secrets = secrets
}

func (ws *warnings) exporterError(name string, err error) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	ws.printed = true
	fmt.Fprintf(ws.w, "graphsignal: warning: %s: %s (the program is not affected)\n", name, redact.String(err.Error(), ws.secrets...))
}

// lost reports records that could not be recorded, unless an exporter
// error already explained why.
func (ws *warnings) lost(dropped, failed uint64, flushTimeout time.Duration) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.printed || dropped+failed == 0 {
		return
	}
	ws.printed = true
	fmt.Fprintf(ws.w, "graphsignal: warning: %d records of this run were not recorded (%d dropped under load, %d not delivered within the flush timeout of %v)\n",
		dropped+failed, dropped, failed, flushTimeout)
}

// shieldFromOOM lowers graphsignal's own OOM score once the child has been
// started (the child keeps the score it inherited), so that under memory
// pressure the kernel kills the child, as it would without graphsignal,
// rather than the much smaller wrapper that records why it died. Lowering
// needs CAP_SYS_RESOURCE (root in most containers); without it nothing
// changes.
func shieldFromOOM() {
	const path, target = "/proc/self/oom_score_adj", -500
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	if cur, err := strconv.Atoi(strings.TrimSpace(string(b))); err != nil || cur <= target {
		return
	}
	_ = os.WriteFile(path, []byte(strconv.Itoa(target)), 0)
}

// oomWatch reads the cgroup's OOM-kill counter before the child starts, to
// tell an OOM kill from a plain SIGKILL afterwards, and the cgroup's memory
// limit, which the final run span records (telemetry.AttrMemoryLimit).
type oomWatch struct {
	counter procmon.OOMCounter
	before  uint64
	ok      bool
	// memoryLimit is 0 for none, or when it cannot be read.
	memoryLimit uint64
}

func watchOOM() oomWatch {
	c, err := procmon.Cgroups{}.OOMCounter(os.Getpid())
	if err != nil {
		return oomWatch{}
	}
	n, err := c.Read()
	limit, _ := c.MemoryLimit() // unreadable: recorded as none
	return oomWatch{counter: c, before: n, ok: err == nil, memoryLimit: limit}
}

// rose reports whether the OOM killer acted in the cgroup since watchOOM.
func (w oomWatch) rose() bool {
	if !w.ok {
		return false
	}
	n, err := w.counter.Read()
	return err == nil && n > w.before
}
