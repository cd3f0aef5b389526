package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// downsampleSteps add what a downsampled metric row needs (docs/store.md,
// "Downsampling"): the width of the interval it stands for (0: a raw
// point), the number of points it replaced, and their least and greatest
// values (NULL for a raw point: value is both).
var downsampleSteps = []string{
	`ALTER TABLE metrics ADD COLUMN bucket_ns INTEGER NOT NULL DEFAULT 0`,
	`ALTER TABLE metrics ADD COLUMN samples INTEGER NOT NULL DEFAULT 1`,
	`ALTER TABLE metrics ADD COLUMN value_min REAL`,
	`ALTER TABLE metrics ADD COLUMN value_max REAL`,
	// Downsample finds the oldest rows of a resolution with one seek.
	`CREATE INDEX metrics_bucket ON metrics (bucket_ns, ts_ns)`,
}

// Tier is one step of downsampling: the points older than After are
// replaced by one row per Width interval.
type Tier struct {
	After time.Duration
	Width time.Duration
}

// DefaultTiers keep the points of the last 6 hours as recorded, 1-minute
// intervals up to 7 days, 10-minute intervals after that. At the default
// 1 s sampling that is 360 rows per series and hour for the last 6 hours,
// 60 per hour up to a week, 6 per hour beyond (docs/store.md).
var DefaultTiers = []Tier{
	{After: 6 * time.Hour, Width: time.Minute},
	{After: 7 * 24 * time.Hour, Width: 10 * time.Minute},
}

// downsampleSpan bounds the time range one transaction downsamples, so that
// the write lock is held briefly (an hour of 1 s samples of 13 series is
// about 47,000 rows).
const downsampleSpan = time.Hour

// Downsample replaces the gauge and counter points older than each tier's
// After (by now) with one row per series and Width interval: for a gauge
// the points' average, for a cumulative counter its last value, with the
// least and greatest value and the number of points, stamped with the time
// of the interval's last point. Tiers apply in order; a row already as
// coarse as a tier is left alone, so calling Downsample again does nothing
// new. NaN points of the replaced range are dropped (queries never counted
// them). Histograms and graphsignal's own intake metrics (which `show`
// totals) stay as recorded. Each hour of points is replaced in its own
// write transaction. It returns the number of rows removed (points
// replaced less rows added).
func (s *Store) Downsample(ctx context.Context, now time.Time, tiers []Tier) (int64, error) {
	var removed int64
	sources := []int64{0} // the resolutions a tier replaces: points, and the earlier tiers' rows
	for _, t := range tiers {
		w := int64(t.Width)
		if w <= 0 {
			return removed, fmt.Errorf("downsample: interval %v", t.Width)
		}
		cutoff := telemetry.UnixNano(now.Add(-t.After)) / w * w
		for {
			n, done, err := s.downsampleRange(ctx, w, cutoff, sources)
			removed += n
			if err != nil {
				return removed, fmt.Errorf("downsample: %w", err)
			}
			if done {
				break
			}
		}
		sources = append(sources, w)
	}
	return removed, nil
}

// downsampleRange replaces the first range (up to downsampleSpan, aligned
// to w) of rows finer than w before cutoff; done reports there was none.
// sources are the resolutions (bucket_ns) rows finer than w can have.
func (s *Store) downsampleRange(ctx context.Context, w, cutoff int64, sources []int64) (removed int64, done bool, err error) {
	err = s.use(func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		defer func() { _ = tx.Rollback() }() // a no-op after Commit
		var first sql.NullInt64
		for _, b := range sources {
			if b >= w {
				continue
			}
			var f sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT min(ts_ns) FROM metrics
				WHERE bucket_ns = ? AND ts_ns < ? AND `+downsampled, b, cutoff).Scan(&f); err != nil {
				return fmt.Errorf("find points: %w", err)
			}
			if f.Valid && (!first.Valid || f.Int64 < first.Int64) {
				first = f
			}
		}
		if !first.Valid {
			done = true
			return nil
		}
		lo := first.Int64 / w * w
		hi := min(lo+max(int64(downsampleSpan)/w, 1)*w, cutoff)
		// Gauges: the average weighted by the points each row stands
		// for. Counters (cumulative): the value of the last point (SQLite
		// takes the bare column from the row that max() picked).
		var added int64
		for _, q := range []string{
			`INSERT INTO metrics (trace_id, name, kind, unit, tags, ts_ns, value, bucket_ns, samples, value_min, value_max)
			SELECT trace_id, name, kind, unit, tags, max(ts_ns), sum(value * samples) / sum(samples), ?3, sum(samples),
				min(coalesce(value_min, value)), max(coalesce(value_max, value))
			FROM metrics WHERE ts_ns >= ?1 AND ts_ns < ?2 AND bucket_ns < ?3 AND value IS NOT NULL AND kind = 1 AND ` + downsampled + `
			GROUP BY trace_id, name, kind, unit, tags, ts_ns / ?3`,
			`INSERT INTO metrics (trace_id, name, kind, unit, tags, ts_ns, value, bucket_ns, samples, value_min, value_max)
			SELECT trace_id, name, kind, unit, tags, ts, last, ?3, n, lo, hi FROM (
				SELECT trace_id, name, kind, unit, tags, max(ts_ns) AS ts, value AS last, sum(samples) AS n,
					min(coalesce(value_min, value)) AS lo, max(coalesce(value_max, value)) AS hi
				FROM metrics WHERE ts_ns >= ?1 AND ts_ns < ?2 AND bucket_ns < ?3 AND value IS NOT NULL AND kind = 2 AND ` + downsampled + `
				GROUP BY trace_id, name, kind, unit, tags, ts_ns / ?3)`,
		} {
			res, err := tx.ExecContext(ctx, q, lo, hi, w)
			if err != nil {
				return fmt.Errorf("write intervals: %w", err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("write intervals: %w", err)
			}
			added += n
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM metrics WHERE ts_ns >= ? AND ts_ns < ? AND bucket_ns < ? AND `+downsampled,
			lo, hi, w)
		if err != nil {
			return fmt.Errorf("delete points: %w", err)
		}
		deleted, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("delete points: %w", err)
		}
		removed = deleted - added
		return tx.Commit()
	})
	return removed, done, err
}

// downsampled selects the rows Downsample may replace: gauges and counters
// (and their NaN points), not graphsignal's intake metrics.
const downsampled = `kind IN (1, 2) AND name NOT LIKE '` + intakePrefix + `%'`
