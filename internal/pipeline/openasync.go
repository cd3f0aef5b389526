package pipeline

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// OpenAsync returns an Exporter whose destination is opened by open in the
// pipeline's worker goroutine as soon as the worker starts (before any
// batch arrives), so nothing upstream (the child process, the launcher)
// waits for the destination to open, and by the time the first batch comes
// it usually has. Used outside a pipeline, it opens on its first Export.
// When open fails every Export returns that error, wrapped with name (the
// pipeline reports it once). Close closes the opened exporter when it
// implements io.Closer. The returned Exporter has Name() == name.
func OpenAsync(name string, open func(ctx context.Context) (Exporter, error)) Exporter {
	return &asyncOpen{name: name, open: open}
}

type asyncOpen struct {
	name string
	open func(ctx context.Context) (Exporter, error)

	mu     sync.Mutex
	tried  bool
	exp    Exporter
	err    error
	closed bool
}

func (l *asyncOpen) Name() string { return l.name }

// openNow opens the target; the worker calls it when it starts.
func (l *asyncOpen) openNow(ctx context.Context) { _, _ = l.target(ctx) }

func (l *asyncOpen) target(ctx context.Context) (Exporter, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, fmt.Errorf("%s: %w", l.name, errClosed)
	}
	if !l.tried {
		l.tried = true
		e, err := l.open(ctx)
		switch {
		case err != nil:
			l.err = fmt.Errorf("open %s: %w", l.name, err)
		case e == nil:
			l.err = fmt.Errorf("open %s: no exporter", l.name)
		default:
			l.exp = e
		}
	}
	return l.exp, l.err
}

// Export opens the target if needed and exports b to it.
func (l *asyncOpen) Export(ctx context.Context, b telemetry.Batch) error {
	e, err := l.target(ctx)
	if err != nil {
		return err
	}
	return e.Export(ctx, b)
}

// ExportCounters opens the target if needed and hands b to its
// ExportCounters, or to its Export when it has none.
func (l *asyncOpen) ExportCounters(ctx context.Context, b telemetry.Batch) error {
	e, err := l.target(ctx)
	if err != nil {
		return err
	}
	if ce, ok := e.(CountersExporter); ok {
		return ce.ExportCounters(ctx, b)
	}
	return e.Export(ctx, b)
}

// Close closes the target if it was opened and is an io.Closer.
func (l *asyncOpen) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if c, ok := l.exp.(io.Closer); ok {
		return c.Close()
	}
	return nil
}
