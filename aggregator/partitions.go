package aggregator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
)

// partitionsAhead is how many days past today get their raw partitions before their rows come,
// so a stopped aggregator has two days before new rows wait in the default partitions.
const partitionsAhead = 2

// MaintainPartitions keeps the partitions of the raw tables that plain PostgreSQL partitions by
// day (migration 000070): today's and the next days' are made ahead, and every day with rows
// waiting in a default partition (old data ingested, or a stopped aggregator) gets its
// partition, with those rows moved in. Each day is one short transaction; one blocked by a long
// reader is left to the next run. It returns the rows moved. Hypertables and plain tables are
// skipped.
func (m *Manager) MaintainPartitions(ctx context.Context) (int64, error) {
	today := m.cfg.now().Truncate(24 * time.Hour)
	var moved int64
	for _, f := range derived.Families {
		table := derived.RawOf(f).Name(period.Raw)
		partitioned, def, err := rawLayout(ctx, m.pool, table)
		if err != nil {
			return moved, err
		}
		if !partitioned {
			continue
		}
		days := make([]time.Time, 0, partitionsAhead+1)
		for i := range partitionsAhead + 1 {
			days = append(days, today.AddDate(0, 0, i))
		}
		if def != "" {
			rows, err := m.pool.Query(ctx, "SELECT DISTINCT date_trunc('day', time, 'UTC') FROM "+def)
			if err != nil {
				return moved, fmt.Errorf("days waiting in %s: %w", def, err)
			}
			waiting, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
			if err != nil {
				return moved, fmt.Errorf("days waiting in %s: %w", def, err)
			}
			for _, d := range waiting {
				if !slices.ContainsFunc(days, d.Equal) {
					days = append(days, d)
				}
			}
		}
		slices.SortFunc(days, time.Time.Compare)
		for _, day := range days {
			n, err := m.ensurePartition(ctx, table, day)
			moved += n
			if err != nil {
				return moved, err
			}
		}
	}
	return moved, nil
}

// ensurePartition makes the partition of one day of table, moving its waiting rows in.
func (m *Manager) ensurePartition(ctx context.Context, table string, day time.Time) (int64, error) {
	var moved *int64
	err := pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		// Making a partition locks the raw table: a long reader of it must not stall the
		// readers and writers queued behind this lock for long.
		if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '5s'"); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT raw_partition_ensure($1::regclass, $2)", table, day).Scan(&moved)
	})
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "55P03": // lock_not_available
		m.log.Warn("raw partition not made: its table is in use; the next run retries", "table", table, "day", day.Format(time.DateOnly))
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("partition of %s for %s: %w", table, day.Format(time.DateOnly), err)
	}
	if moved != nil {
		m.log.Info("raw partition made", "table", table, "day", day.Format(time.DateOnly), "rows moved", *moved)
		return *moved, nil
	}
	return 0, nil
}

// PartitionStat describes the day partitions of one raw table of plain PostgreSQL.
type PartitionStat struct {
	Table string `json:"table"`
	// Days counts the day partitions, From..To the span they cover.
	Days int        `json:"days"`
	From *time.Time `json:"from,omitempty"`
	To   *time.Time `json:"to,omitempty"`
	// Legacy is the end of the partition that holds the rows from before the upgrade to
	// partitions (nil when there is none).
	Legacy *time.Time `json:"legacy_before,omitempty"`
	// Waiting counts the rows in the default partition, which the partitions job moves.
	Waiting int64 `json:"waiting"`
}

// rawLayout tells whether a raw table is partitioned (plain PostgreSQL since migration 000070)
// and names its default partition, quoted for SQL ("" when it has none).
func rawLayout(ctx context.Context, pool *pgxpool.Pool, table string) (partitioned bool, def string, err error) {
	var schema, name *string
	if err := pool.QueryRow(ctx, `
		SELECT c.relkind = 'p', d.nspname::text, d.relname::text
		FROM pg_class c LEFT JOIN LATERAL (
			SELECT n.nspname, k.relname FROM raw_partitions(c.oid) p
			JOIN pg_class k ON k.oid = p.partition JOIN pg_namespace n ON n.oid = k.relnamespace
			WHERE p.is_default) d ON true
		WHERE c.oid = to_regclass($1)`, table).Scan(&partitioned, &schema, &name); err != nil {
		return false, "", fmt.Errorf("partitions of %s: %w", table, err)
	}
	if name != nil {
		def = pgx.Identifier{*schema, *name}.Sanitize()
	}
	return partitioned, def, nil
}

// PartitionStatus lists the partitioned raw tables; none on TimescaleDB.
func PartitionStatus(ctx context.Context, pool *pgxpool.Pool) ([]PartitionStat, error) {
	var out []PartitionStat
	for _, f := range derived.Families {
		s := PartitionStat{Table: derived.RawOf(f).Name(period.Raw)}
		partitioned, def, err := rawLayout(ctx, pool, s.Table)
		if err != nil {
			return nil, err
		}
		if !partitioned {
			continue
		}
		if err := pool.QueryRow(ctx, `
			SELECT count(*) FILTER (WHERE lower_bound IS NOT NULL)::int, min(lower_bound),
			       max(upper_bound) FILTER (WHERE lower_bound IS NOT NULL),
			       max(upper_bound) FILTER (WHERE lower_bound IS NULL AND NOT is_default)
			FROM raw_partitions($1::regclass)`, s.Table).Scan(&s.Days, &s.From, &s.To, &s.Legacy); err != nil {
			return nil, fmt.Errorf("partitions of %s: %w", s.Table, err)
		}
		if def != "" {
			if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+def).Scan(&s.Waiting); err != nil {
				return nil, fmt.Errorf("rows waiting in %s: %w", def, err)
			}
		}
		out = append(out, s)
	}
	return out, nil
}
