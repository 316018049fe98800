-- Narrow incident rollups: incidents summed per (time, trap, action, country, asn), without ip
-- and probe. Incident counts grouped and filtered only by those columns read these instead of
-- the wide rollups (5–6× fewer rows over a year). The aggregator rewrites each bucket here in
-- the same transaction as the wide bucket, grouped from the wide rows it just wrote, so both
-- share the wide table's watermark.
DO $$
DECLARE
    p TEXT;
BEGIN
    FOREACH p IN ARRAY ARRAY['quarterly', 'hourly', 'daily']
    LOOP
        EXECUTE format($f$
            CREATE TABLE incidents_%1$s_totals (
                time      TIMESTAMPTZ NOT NULL,
                raw_count BIGINT NOT NULL,
                trap      trap_t NOT NULL,
                action    action_t NOT NULL,
                country   VARCHAR(2),
                asn       INTEGER,
                CONSTRAINT incidents_%1$s_totals_key UNIQUE NULLS NOT DISTINCT
                    (time, trap, action, country, asn)
            );
            CREATE INDEX incidents_%1$s_totals_asn_time_idx ON incidents_%1$s_totals (asn, time);
        $f$, p);
    END LOOP;
END
$$;

-- Hypertables where 000009 took the TimescaleDB path (the extension is in the database).
DO $$
DECLARE
    t TEXT;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
        RETURN;
    END IF;
    FOREACH t IN ARRAY ARRAY['incidents_quarterly_totals', 'incidents_hourly_totals', 'incidents_daily_totals']
    LOOP
        EXECUTE format('SELECT create_hypertable(%L, ''time'', if_not_exists => true)', t);
    END LOOP;
END
$$;

-- Fill them from what the wide rollups already hold, so an upgraded database answers at once.
INSERT INTO incidents_quarterly_totals (time, raw_count, trap, action, country, asn)
SELECT time, sum(raw_count), trap, action, country, asn FROM incidents_quarterly GROUP BY time, trap, action, country, asn;
INSERT INTO incidents_hourly_totals (time, raw_count, trap, action, country, asn)
SELECT time, sum(raw_count), trap, action, country, asn FROM incidents_hourly GROUP BY time, trap, action, country, asn;
INSERT INTO incidents_daily_totals (time, raw_count, trap, action, country, asn)
SELECT time, sum(raw_count), trap, action, country, asn FROM incidents_daily GROUP BY time, trap, action, country, asn;

-- The default privileges of 000008 cover tables created by the role that ran it; grant
-- explicitly in case another role runs this one.
GRANT SELECT ON incidents_quarterly_totals, incidents_hourly_totals, incidents_daily_totals TO sview_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON incidents_quarterly_totals, incidents_hourly_totals, incidents_daily_totals TO sview_writer;
