-- Running totals of the ports rollups: per hourly or daily bucket, the scans of every
-- (protocol, port) summed from an origin bucket through that bucket, encoded as one row
-- (internal/twin, running.go). The scans of any window of whole buckets are the difference of
-- two rows. Past the few popular ports, scans spread evenly over every port, so the exact
-- 30th most scanned port of a month or a year cannot be found by the ranked twins' pruning:
-- it would sum one row per port and day.
--
-- Built by the aggregator's twin job oldest first, each row from the one before and the
-- bucket's ranked twin by port, only over buckets twin_buckets lists. Rewriting a ports
-- bucket deletes, in the same transaction, every row whose sum includes it.
DO $$
DECLARE
    p TEXT;
BEGIN
    FOREACH p IN ARRAY ARRAY['hourly', 'daily']
    LOOP
        EXECUTE format($f$
            CREATE TABLE ports_%1$s_running (
                time   TIMESTAMPTZ PRIMARY KEY,
                origin TIMESTAMPTZ NOT NULL,
                totals BYTEA NOT NULL
            );
        $f$, p);
    END LOOP;
END
$$;

GRANT SELECT ON ports_hourly_running, ports_daily_running TO sview_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON ports_hourly_running, ports_daily_running TO sview_writer;
