-- Watermark per (source table, precision): every bucket that ends at or before it is final.
-- It advances in the same transaction that writes the buckets below it.
CREATE TABLE rollup_watermarks (
    source     TEXT NOT NULL CHECK (source IN ('incidents', 'passwords', 'ports')),
    precision  TEXT NOT NULL CHECK (precision IN ('quarterly', 'hourly', 'daily')),
    watermark  TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (source, precision)
);

-- Time ranges whose raw rows changed below the watermark; the aggregator recomputes the
-- buckets they touch and deletes the row in the same transaction.
CREATE TABLE rollup_invalidations (
    id          BIGSERIAL PRIMARY KEY,
    source      TEXT NOT NULL,
    precision   TEXT NOT NULL,
    from_time   TIMESTAMPTZ NOT NULL,
    to_time     TIMESTAMPTZ NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (from_time <= to_time)
);
CREATE INDEX rollup_invalidations_source_idx ON rollup_invalidations (source, precision, from_time);

-- Last outcome of every scheduled job, for `sview status` and the status frames.
CREATE TABLE job_runs (
    job         TEXT PRIMARY KEY,
    started_at  TIMESTAMPTZ,
    finished_at TIMESTAMPTZ,
    ok          BOOLEAN,
    error       TEXT,
    rows        BIGINT,
    window_from TIMESTAMPTZ,
    window_to   TIMESTAMPTZ,
    duration_ms BIGINT
);
