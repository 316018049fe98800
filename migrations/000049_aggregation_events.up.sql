-- What the aggregator did that a reader of a graph should know about: the data windows it
-- closed late (a gap: it was stopped or behind) and the backfills that rewrote a range. The
-- plugin shows them as annotations; one row per step or backfill, so the table stays small.
CREATE TABLE aggregation_events (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('gap', 'backfill')),
    source      TEXT CHECK (source IN ('incidents', 'passwords', 'ports')), -- NULL: every table
    precision   TEXT CHECK (precision IN ('quarterly', 'hourly', 'daily')),  -- NULL: every precision
    from_time   TIMESTAMPTZ NOT NULL,
    to_time     TIMESTAMPTZ NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    rows        BIGINT NOT NULL DEFAULT 0,
    CHECK (from_time < to_time)
);
CREATE INDEX aggregation_events_time_idx ON aggregation_events (to_time, from_time);
