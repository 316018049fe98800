package aggregator

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/rollupstate"
	"github.com/sview-project/sview/internal/twin"
)

// DefaultTwinBudget is how long one scheduled run of the twin job may keep starting buckets.
const DefaultTwinBudget = 2 * time.Minute

// TwinOptions bound one run of BuildTwins.
type TwinOptions struct {
	// From and To keep only the buckets that overlap [From, To); zero: every closed bucket.
	From, To time.Time
	// Budget stops the run after the first bucket that ends this long after its start; zero:
	// no bound.
	Budget time.Duration
	// Progress is called after every bucket built.
	Progress func(TwinProgress)
}

// TwinProgress is reported after each bucket built.
type TwinProgress struct {
	Table       string // the table built, or the family whose twins were built
	Precision   period.Precision
	Bucket      time.Time
	Built, Left int // buckets built so far in this run, and still to build
}

// TwinResult sums up one run of BuildTwins.
type TwinResult struct {
	Built   int // buckets built
	Left    int // closed buckets still without twins, found at the start and not reached
	Running int // buckets added to the running totals of ports
}

// TwinLag says how far the ranked twins of one (table, precision) are behind its rollup.
type TwinLag struct {
	rollupstate.Key
	// Closed counts the buckets from the first one the wide rollup holds to its watermark.
	Closed int64 `json:"closed"`
	// Pending counts the closed buckets that twin_buckets does not list.
	Pending int64 `json:"pending"`
	// NewestPending is the latest of them (nil when none).
	NewestPending *time.Time `json:"newest_pending,omitempty"`
	// RunningThrough is the newest bucket the running totals sum (ports only; nil when none).
	RunningThrough *time.Time `json:"running_through,omitempty"`
}

// twinQueue is the buckets of one (table, precision) still to build, newest first.
type twinQueue struct {
	rollupstate.Key
	idx     int32
	buckets []time.Time
}

// BuildTwins builds the ranked twins (internal/twin) of closed buckets that twin_buckets does
// not list: newest buckets first, one (table, precision) after the other in turn, so recent
// windows of every source get fast first. Each bucket is one transaction of its own, apart
// from the rollup steps' transactions.
func (m *Manager) BuildTwins(ctx context.Context, opt TwinOptions) (TwinResult, error) {
	var res TwinResult
	var queues []*twinQueue
	for _, table := range derived.Families {
		for _, precision := range derived.TwinPrecisions() {
			k := rollupstate.Key{Table: table, Precision: precision}
			if !derived.TwinsAt(table, precision) {
				continue
			}
			idx, err := rollupstate.Index(k)
			if err != nil {
				return res, err
			}
			lo, hi, err := closedSpan(ctx, m.pool, k)
			if err != nil {
				return res, err
			}
			width := precision.Step()
			if !opt.From.IsZero() {
				lo = maxTime(lo, period.Floor(opt.From, width))
			}
			if !opt.To.IsZero() {
				hi = minTime(hi, period.Ceil(opt.To, width))
			}
			buckets, err := rollupstate.UnlistedTwins(ctx, m.pool, k, lo, hi)
			if err != nil {
				return res, err
			}
			queues = append(queues, &twinQueue{Key: k, idx: idx, buckets: buckets})
			res.Left += len(buckets)
		}
	}
	start := time.Now()
	for res.Left > 0 {
		for _, q := range queues {
			if len(q.buckets) == 0 {
				continue
			}
			if err := ctx.Err(); err != nil {
				return res, err
			}
			at := q.buckets[0]
			q.buckets = q.buckets[1:]
			res.Left--
			built, err := m.buildTwinBucket(ctx, q.Key, q.idx, at)
			if err != nil {
				return res, fmt.Errorf("build twins of %s at %s: %w", q.Key, at.Format(time.RFC3339), err)
			}
			if built {
				res.Built++
				m.metrics.twinsBuilt.WithLabelValues(string(q.Table), string(q.Precision)).Inc()
				if opt.Progress != nil {
					opt.Progress(TwinProgress{Table: string(q.Table), Precision: q.Precision, Bucket: at, Built: res.Built, Left: res.Left})
				}
			}
			// Checked after the bucket, so even a short budget makes progress.
			if opt.overBudget(start) {
				return res, m.extendRunning(ctx, opt, start, &res)
			}
		}
	}
	return res, m.extendRunning(ctx, opt, start, &res)
}

func (opt TwinOptions) overBudget(start time.Time) bool {
	return opt.Budget > 0 && time.Since(start) >= opt.Budget
}

// extendRunning extends the running totals (twin.Running) of every precision bucket by bucket,
// oldest first, over the buckets twin_buckets lists without a gap. Each precision builds at
// least one bucket per run, within the budget or not, so the newest closed bucket of a
// scheduled run always gets its row. The chain ignores From and To: it sums every bucket from
// its origin.
func (m *Manager) extendRunning(ctx context.Context, opt TwinOptions, start time.Time, res *TwinResult) error {
	for _, precision := range derived.TwinPrecisions() {
		k := rollupstate.Key{Table: twin.Running.Family(), Precision: precision}
		idx, err := rollupstate.Index(k)
		if err != nil {
			return err
		}
		lo, hi, err := closedSpan(ctx, m.pool, k)
		if err != nil {
			return err
		}
		for built := 0; lo.Before(hi); built++ {
			if built > 0 && opt.overBudget(start) {
				break
			}
			var at time.Time
			var ok bool
			err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
				// Shared like a twin build (see buildTwinBucket): no rewrite of the buckets
				// summed commits while the row is built, and a later one deletes it.
				if err := rollupstate.XactLock(ctx, tx, rollupstate.ClassInput, idx, true); err != nil {
					return fmt.Errorf("take input lock: %w", err)
				}
				at, ok, err = twin.Running.Extend(ctx, tx, precision, lo, hi)
				return err
			})
			if err != nil {
				return fmt.Errorf("extend %s: %w", twin.Running.Table(precision), err)
			}
			if !ok {
				break
			}
			res.Running++
			if opt.Progress != nil {
				opt.Progress(TwinProgress{Table: twin.Running.Table(precision), Precision: precision, Bucket: at, Built: res.Built + res.Running})
			}
		}
	}
	return nil
}

// buildTwins is the scheduled twin job: one budgeted run of BuildTwins.
func (m *Manager) buildTwins(ctx context.Context) (int64, error) {
	res, err := m.BuildTwins(ctx, TwinOptions{Budget: m.cfg.twinBudget()})
	if res.Built > 0 || res.Left > 0 || res.Running > 0 {
		m.log.Info("twins built", "buckets", res.Built, "left", res.Left, "running_totals", res.Running)
	}
	return int64(res.Built + res.Running), err
}

// buildTwinBucket rebuilds every twin of (table, precision) for the bucket at, and lists it in
// twin_buckets, in one transaction. It reports false when retention has cut the bucket.
//
// The transaction holds the input lock of (table, precision) shared, and every rollup
// transaction that rewrites those wide rows (closing or recomputing, see inTx) holds it
// exclusively and deletes the bucket's twin_buckets row. So a rewrite either committed before
// this reads the wide bucket, or starts after this committed and deletes the row listed here:
// a listed bucket never has twins of rows that are no longer there. Row locks on twin_buckets
// could not do this: the rewrite's DELETE does not see, and so does not wait for, the row
// inserted here until it is committed. A rollup waits for at most one bucket's build.
func (m *Manager) buildTwinBucket(ctx context.Context, k rollupstate.Key, idx int32, at time.Time) (built bool, err error) {
	end := at.Add(k.Precision.Step())
	err = pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if err := rollupstate.XactLock(ctx, tx, rollupstate.ClassInput, idx, true); err != nil {
			return fmt.Errorf("take input lock: %w", err)
		}
		// Retention raises the horizon and deletes the buckets' rows under the exclusive lock
		// (see dropTwinBuckets), so a bucket below it is gone for good.
		horizon, err := rollupstate.Horizon(ctx, tx, k)
		if err != nil || (horizon != nil && at.Before(*horizon)) {
			return err
		}
		// Listed first: a concurrent build of the same bucket (a backfill beside the daemon)
		// waits here for this one instead of colliding on the twins' keys.
		if err := rollupstate.ListTwins(ctx, tx, k, at); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SET LOCAL jit = off"); err != nil { // see inTx
			return fmt.Errorf("disable JIT: %w", err)
		}
		for _, b := range twin.Builders(k.Table) {
			del, ins := b.SQL(k.Precision)
			for _, sql := range []string{del, ins} {
				if _, err := tx.Exec(ctx, sql, at, end); err != nil {
					return fmt.Errorf("%s: %w", b.Table.Name(k.Precision), err)
				}
			}
		}
		built = true
		return nil
	})
	return built && err == nil, err
}

// closedSpan returns the closed buckets of a (table, precision) that twins cover, [lo, hi): from
// the first bucket its wide rollup holds up to its watermark; lo == hi when there is none, both
// zero when the watermark is missing.
func closedSpan(ctx context.Context, q rollupstate.Querier, k rollupstate.Key) (lo, hi time.Time, err error) {
	wm, exists, err := rollupstate.ReadWatermark(ctx, q, k)
	if err != nil || !exists {
		return lo, hi, err
	}
	rollup := derived.RollupOf(k.Table).Name(k.Precision)
	var first *time.Time
	if err := q.QueryRow(ctx, "SELECT min(time) FROM "+rollup).Scan(&first); err != nil {
		return lo, hi, fmt.Errorf("find first bucket of %s: %w", rollup, err)
	}
	if first == nil || !first.Before(wm) {
		return wm, wm, nil
	}
	return period.Floor(*first, k.Precision.Step()), wm, nil
}

// TwinStatus reports, for every (table, precision) with twins and a watermark, how many
// closed buckets have no twins yet.
func TwinStatus(ctx context.Context, q rollupstate.Querier) ([]TwinLag, error) {
	var out []TwinLag
	for _, table := range derived.Families {
		for _, precision := range derived.TwinPrecisions() {
			k := rollupstate.Key{Table: table, Precision: precision}
			if !derived.TwinsAt(table, precision) {
				continue
			}
			lo, hi, err := closedSpan(ctx, q, k)
			if err != nil {
				return nil, err
			}
			if hi.IsZero() {
				continue // not rolled up yet
			}
			missing, err := rollupstate.UnlistedTwins(ctx, q, k, lo, hi)
			if err != nil {
				return nil, err
			}
			lag := TwinLag{Key: k, Closed: int64(hi.Sub(lo) / precision.Step()), Pending: int64(len(missing))}
			if len(missing) > 0 {
				lag.NewestPending = &missing[0]
			}
			if table == twin.Running.Family() {
				through, ok, err := twin.Running.Through(ctx, q, precision)
				if err != nil {
					return nil, err
				}
				if ok {
					lag.RunningThrough = &through
				}
			}
			out = append(out, lag)
		}
	}
	return out, nil
}
