package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// ReadFunc returns the records of an external log that follow offset, and
// the offset just past them. It is called inside Import's write transaction.
type ReadFunc func(offset int64) (records []telemetry.Batch, next int64, err error)

// importKeep is how long Prune keeps the offset of a log that no importer
// has touched: far longer than any importer holds a log open.
const importKeep = 7 * 24 * time.Hour

// Import moves the next records of the external log source (a run's
// journal) into the store, exactly once: in one write transaction it reads
// the offset already imported from source (0 the first time), calls read
// with it, writes the records read and the new offset, and commits them
// together. Concurrent importers of the same source (other processes) are
// serialised by the write lock and each record is stored once; a failure or
// a crash before the commit leaves both the records and the offset as they
// were. Import returns the offset imported up to.
//
// The caller deletes a log once it is final and wholly imported; its offset
// is kept (Prune drops it after importKeep without updates), so an importer
// that still had the log open finds it imported, not new.
func (s *Store) Import(ctx context.Context, source string, read ReadFunc) (int64, error) {
	var next int64
	err := s.use(func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer func() { _ = tx.Rollback() }() // a no-op after Commit
		var offset int64
		err = tx.QueryRowContext(ctx, `SELECT byte_offset FROM imports WHERE source = ?`, source).Scan(&offset)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read import offset: %w", err)
		}
		batches, n, err := read(offset)
		if err != nil {
			return err
		}
		next = n
		if n == offset {
			return nil
		}
		idx := newSessionIndex()
		for i := range batches {
			if err := writeBatch(ctx, tx, &batches[i], idx); err != nil {
				return err
			}
		}
		if err := idx.flush(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO imports (source, byte_offset, updated_ns) VALUES (?, ?, ?)
			ON CONFLICT (source) DO UPDATE SET byte_offset = excluded.byte_offset, updated_ns = excluded.updated_ns`,
			source, n, telemetry.UnixNano(s.now())); err != nil {
			return fmt.Errorf("save import offset: %w", err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	})
	if err != nil {
		return next, fmt.Errorf("import %s: %w", source, err)
	}
	return next, nil
}
