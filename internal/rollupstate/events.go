package rollupstate

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
)

// EventKind is what the aggregator did to a range of data that a reader of a graph should know.
type EventKind string

const (
	// EventGap: windows closed later than due (DueLag), because the aggregator was stopped or
	// behind; until then graphs lacked them.
	EventGap EventKind = "gap"
	// EventBackfill: a range rebuilt from the raw rows (`sview aggregate backfill`).
	EventBackfill EventKind = "backfill"
)

// Event is one row of aggregation_events. Table and Precision are empty when it concerns
// every table or precision (a backfill).
type Event struct {
	Kind       EventKind
	Table      derived.Family
	Precision  period.Precision
	From, To   time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	Rows       int64
}

// RecordEvent stores e.
func RecordEvent(ctx context.Context, q Querier, e Event) error {
	_, err := q.Exec(ctx, `
		INSERT INTO aggregation_events (kind, source, precision, from_time, to_time, started_at, finished_at, rows)
		VALUES ($1, nullif($2, ''), nullif($3, ''), $4, $5, $6, $7, $8)`,
		e.Kind, e.Table, e.Precision, e.From, e.To, e.StartedAt, e.FinishedAt, e.Rows)
	if err != nil {
		return fmt.Errorf("record aggregation %s of %s..%s: %w", e.Kind, e.From.Format(time.RFC3339), e.To.Format(time.RFC3339), err)
	}
	return nil
}

// Events lists at most limit events whose range overlaps [from, to), oldest first.
func Events(ctx context.Context, q Querier, from, to time.Time, limit int) ([]Event, error) {
	rows, err := q.Query(ctx, `
		SELECT kind, coalesce(source, ''), coalesce(precision, ''), from_time, to_time, started_at, finished_at, rows
		FROM aggregation_events
		WHERE to_time > $1 AND from_time < $2
		ORDER BY from_time, id
		LIMIT $3`, from, to, limit)
	if err != nil {
		return nil, fmt.Errorf("read aggregation events: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Event, error) {
		var e Event
		err := row.Scan(&e.Kind, &e.Table, &e.Precision, &e.From, &e.To, &e.StartedAt, &e.FinishedAt, &e.Rows)
		e.From, e.To, e.StartedAt, e.FinishedAt = e.From.UTC(), e.To.UTC(), e.StartedAt.UTC(), e.FinishedAt.UTC()
		return e, err
	})
}

// Overdue is the part of the windows [from, to) of precision p that a step started at start
// closed after they were due: windows that ended more than DueLag(p) less one bucket (the
// grace and LateMargin) before start, the same measure as Watermark.Overdue, so a gap here is
// a time the lag alert fired or would have. Empty (ok false) for a step that kept up.
func Overdue(p period.Precision, from, to, start time.Time) (gapFrom, gapTo time.Time, ok bool) {
	cutoff := period.Floor(start.Add(p.Step()-DueLag(p)), p.Step())
	gapTo = to
	if cutoff.Before(gapTo) {
		gapTo = cutoff
	}
	return from, gapTo, gapTo.After(from)
}
