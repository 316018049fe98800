package aggregator

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/twin"
)

// Retention maps a table ("incidents" for raw rows, "incidents_quarterly" for a rollup) to how
// long its rows are kept. Tables not in the map are kept forever.
type Retention map[string]time.Duration

// retentionBatch is how many rows one delete transaction removes on plain PostgreSQL.
const retentionBatch = 10000

// ParseRetention reads "incidents=90d,incidents_quarterly=30d". Durations take d (days) and w
// (weeks) besides Go's h, m and s.
func ParseRetention(s string) (Retention, error) {
	r := Retention{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, ok := strings.Cut(item, "=")
		if !ok {
			return nil, fmt.Errorf("retention %q: want TABLE=DURATION, e.g. incidents=90d", item)
		}
		d, err := parseDays(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("retention of %s: %w", name, err)
		}
		r[strings.TrimSpace(name)] = d
	}
	return r, r.validate()
}

func parseDays(v string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(v, suffix); ok {
			f, err := strconv.ParseFloat(n, 64)
			if err != nil {
				return 0, fmt.Errorf("duration %q: want e.g. 90d, 2w or 36h", v)
			}
			return time.Duration(f * float64(unit)), nil
		}
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want e.g. 90d, 2w or 36h", v)
	}
	return d, nil
}

// retentionTables maps every table retention may be set for, the raw tables and the rollups,
// to its family and precision; what derives from a rollup is cut with it.
func retentionTables() map[string]rollupstate.Key {
	out := map[string]rollupstate.Key{}
	for _, f := range derived.Families {
		for _, t := range []derived.Table{derived.RawOf(f), derived.RollupOf(f)} {
			for _, p := range t.Precisions {
				out[t.Name(p)] = rollupstate.Key{Table: f, Precision: p}
			}
		}
	}
	return out
}

func (r Retention) validate() error {
	tables := retentionTables()
	for name, d := range r {
		if _, ok := tables[name]; !ok {
			return fmt.Errorf("retention table %q: want one of %s", name, strings.Join(slices.Sorted(maps.Keys(tables)), ", "))
		}
		if d <= 0 {
			return fmt.Errorf("retention of %s: %s must be positive", name, d)
		}
	}
	return nil
}

// ApplyRetention deletes what is older than each table's retention, but never rows the next
// precision has not rolled up yet (nor rows under a pending invalidation there). It returns
// the number of rows deleted (rows of whole TimescaleDB chunks dropped are not counted).
func (m *Manager) ApplyRetention(ctx context.Context) (int64, error) {
	names := make([]string, 0, len(m.cfg.Retention))
	for n := range m.cfg.Retention {
		names = append(names, n)
	}
	sort.Strings(names)
	var total int64
	for _, name := range names {
		n, err := m.retain(ctx, name, m.cfg.now().Add(-m.cfg.Retention[name]))
		total += n
		if err != nil {
			return total, fmt.Errorf("retention of %s: %w", name, err)
		}
	}
	return total, nil
}

func (m *Manager) retain(ctx context.Context, name string, cutoff time.Time) (int64, error) {
	k := retentionTables()[name]
	limit := cutoff
	if next, ok := derived.Coarser(k.Precision); ok {
		nk := rollupstate.Key{Table: k.Table, Precision: next}
		wm, exists, err := rollupstate.ReadWatermark(ctx, m.pool, nk)
		if err != nil {
			return 0, err
		}
		if !exists {
			return 0, nil // nothing rolled up yet, so nothing may go
		}
		pending, err := rollupstate.OldestInvalidation(ctx, m.pool, nk)
		if err != nil {
			return 0, err
		}
		limit = minTime(limit, wm)
		if pending != nil {
			limit = minTime(limit, period.Floor(*pending, next.Step()))
		}
	}
	// A totals table is cut with its rollup: the engine reads either under one watermark.
	targets := []string{name}
	if t, ok := derived.Find(derived.Totals, k.Table); ok && t.At(k.Precision) {
		targets = append(targets, t.Name(k.Precision))
	}
	// Ranked twins too, once their buckets are unlisted, so no reader trusts a bucket being cut.
	if twin.Has(k.Table, k.Precision) {
		if err := m.unlistTwins(ctx, k, limit); err != nil {
			return 0, err
		}
		for _, b := range twin.Builders(k.Table) {
			targets = append(targets, b.Table.Name(k.Precision))
		}
	}
	var deleted int64
	for _, target := range targets {
		n, err := m.cut(ctx, target, k, limit)
		deleted += n
		if err != nil {
			return deleted, err
		}
	}
	m.log.Info("retention applied", "table", name, "before", limit, "rows", deleted)
	return deleted, nil
}

// cut deletes the rows of one table before limit, raising the horizon of k.
func (m *Manager) cut(ctx context.Context, name string, k rollupstate.Key, limit time.Time) (int64, error) {
	// Whole chunks of a hypertable, or whole day partitions of a plain PostgreSQL raw table
	// (migration 000070), below the limit go at once; the one that straddles it is cut row by
	// row below, so both databases keep exactly the same rows.
	var dropWhole string
	var hyper, partitioned bool
	if err := m.pool.QueryRow(ctx, `
		SELECT to_regclass('timescaledb_information.hypertables') IS NOT NULL
		   AND EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'),
		       coalesce((SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass($1)), false)`,
		name).Scan(&hyper, &partitioned); err != nil {
		return 0, fmt.Errorf("detect the layout of %s: %w", name, err)
	}
	if hyper {
		if err := m.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = $1)",
			name).Scan(&hyper); err != nil {
			return 0, fmt.Errorf("detect hypertable: %w", err)
		}
	}
	switch {
	case hyper:
		dropWhole = "SELECT drop_chunks($1::regclass, older_than => $2::timestamptz)"
	case partitioned:
		dropWhole = "SELECT raw_partitions_drop($1::regclass, $2::timestamptz)"
	}
	var deleted int64
	if dropWhole != "" {
		err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
			if err := rollupstate.RaiseHorizon(ctx, tx, k, limit); err != nil {
				return err
			}
			// Dropping a chunk or a partition waits for every reader of the table, and queues
			// every later query behind it meanwhile: a reader's long transaction must not stall
			// the dashboards.
			if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '5s'"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, dropWhole, name, limit)
			return err
		})
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr) && pgErr.Code == "55P03": // lock_not_available
			// The deletes below cut the same rows, beside the readers.
			m.log.Warn("retention: the table is in use, deleting its rows instead of dropping them", "table", name, "before", limit)
		case err != nil:
			return 0, fmt.Errorf("drop the parts of %s before %s: %w", name, limit.Format(time.RFC3339), err)
		}
	}
	for {
		var n int64
		err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
			// The horizon is raised first, in the same transaction, so a recomputation never
			// rebuilds buckets from rows this removes (the delete trigger records them as late).
			if err := rollupstate.RaiseHorizon(ctx, tx, k, limit); err != nil {
				return err
			}
			// ctid is unique only within one chunk or partition, so the time test is repeated: a
			// row of another one with the same ctid goes only if it is below the limit too.
			tag, err := tx.Exec(ctx, fmt.Sprintf(
				"DELETE FROM %s WHERE time < $1 AND ctid = ANY (ARRAY(SELECT ctid FROM %s WHERE time < $1 LIMIT %d))",
				name, name, retentionBatch), limit)
			n = tag.RowsAffected()
			return err
		})
		deleted += n
		if err != nil {
			return deleted, fmt.Errorf("delete from %s before %s: %w", name, limit.Format(time.RFC3339), err)
		}
		if n < retentionBatch {
			break
		}
	}
	return deleted, nil
}

// unlistTwins removes the twin_buckets rows of (table, precision) before limit. It raises the
// horizon under the exclusive input lock, like a rollup: a twin build running now finishes
// first (and is unlisted here), and any later one sees the horizon and leaves those buckets
// alone, so nothing lists a bucket that retention is removing.
func (m *Manager) unlistTwins(ctx context.Context, k rollupstate.Key, limit time.Time) error {
	idx, err := rollupstate.Index(k)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if err := rollupstate.XactLock(ctx, tx, rollupstate.ClassInput, idx, false); err != nil {
			return fmt.Errorf("take input lock: %w", err)
		}
		if err := rollupstate.RaiseHorizon(ctx, tx, k, limit); err != nil {
			return err
		}
		return rollupstate.UnlistTwins(ctx, tx, k, time.Time{}, limit)
	})
	if err != nil {
		return fmt.Errorf("unlist twins of %s before %s: %w", k, limit.Format(time.RFC3339), err)
	}
	return nil
}
