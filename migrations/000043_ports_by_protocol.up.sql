-- A ranked twin of the ports rollups summed per protocol only: two rows per bucket, so the
-- total scans over time (all_ports_by_scans_graph) no longer read one row per scanned port,
-- which a year of near-uniform random ports makes tens of thousands a day. Built and trusted
-- like the twins of 000041.
DO $$
DECLARE
    p TEXT;
BEGIN
    FOREACH p IN ARRAY ARRAY['hourly', 'daily']
    LOOP
        EXECUTE format($f$
            CREATE TABLE ports_%1$s_by_protocol (
                time      TIMESTAMPTZ NOT NULL,
                protocol  protocol_t NOT NULL,
                raw_count BIGINT NOT NULL,
                rank      INTEGER NOT NULL,
                PRIMARY KEY (time, protocol)
            );
            CREATE INDEX ports_%1$s_by_protocol_key_idx ON ports_%1$s_by_protocol (protocol, time);
            CREATE INDEX ports_%1$s_by_protocol_top_idx ON ports_%1$s_by_protocol (time, rank) WHERE rank <= 101;
        $f$, p);
    END LOOP;
END
$$;

GRANT SELECT ON ports_hourly_by_protocol, ports_daily_by_protocol TO sview_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON ports_hourly_by_protocol, ports_daily_by_protocol TO sview_writer;
