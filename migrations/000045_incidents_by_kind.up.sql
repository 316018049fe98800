-- A ranked twin of the incidents rollups summed per (trap, action, country): a few hundred
-- rows per bucket, where the totals of 000040 keep the ASN too and hold thousands. Incident
-- counts grouped and filtered by those columns only (every unfiltered incident preset but the
-- attackers list) read it for the buckets twin_buckets lists. Built and trusted like the
-- twins of 000041.
DO $$
DECLARE
    p TEXT;
BEGIN
    FOREACH p IN ARRAY ARRAY['hourly', 'daily']
    LOOP
        EXECUTE format($f$
            CREATE TABLE incidents_%1$s_by_kind (
                time      TIMESTAMPTZ NOT NULL,
                trap      trap_t NOT NULL,
                action    action_t NOT NULL,
                country   VARCHAR(2),
                raw_count BIGINT NOT NULL,
                rank      INTEGER NOT NULL,
                CONSTRAINT incidents_%1$s_by_kind_key UNIQUE NULLS NOT DISTINCT (time, trap, action, country)
            );
            CREATE INDEX incidents_%1$s_by_kind_top_idx ON incidents_%1$s_by_kind (time, rank) WHERE rank <= 101;
        $f$, p);
    END LOOP;
END
$$;

GRANT SELECT ON incidents_hourly_by_kind, incidents_daily_by_kind TO sview_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON incidents_hourly_by_kind, incidents_daily_by_kind TO sview_writer;
