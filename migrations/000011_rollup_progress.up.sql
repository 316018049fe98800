-- Resumable backfills: how far each (source, precision) of one requested range has been rewritten.
CREATE TABLE backfill_progress (
    range_from TIMESTAMPTZ NOT NULL,
    range_to   TIMESTAMPTZ NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('incidents', 'passwords', 'ports')),
    precision  TEXT NOT NULL CHECK (precision IN ('quarterly', 'hourly', 'daily')),
    done_until TIMESTAMPTZ NOT NULL,
    rows       BIGINT NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (range_from, range_to, source, precision)
);

-- Retention horizon per table ('raw' for the raw table): rows before it were deleted on purpose,
-- so a recomputation never rebuilds a coarser bucket from a source that is no longer complete.
CREATE TABLE rollup_retention (
    source    TEXT NOT NULL CHECK (source IN ('incidents', 'passwords', 'ports')),
    precision TEXT NOT NULL CHECK (precision IN ('raw', 'quarterly', 'hourly', 'daily')),
    horizon   TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (source, precision)
);
