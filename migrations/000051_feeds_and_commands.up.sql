-- Two more raw tables, each a family with quarterly, hourly and daily rollups like the first
-- three (internal/derived):
--  * feed_events: events from the CSIRT ecosystem (IDEA from Warden or Mentat, IntelMQ), with
--    the IntelMQ classification (taxonomy, type, identifier) and the feed they came from as
--    dimensions. They name no probe of ours.
--  * commands: what attackers typed in HaaS sessions (the SSH honeypot), per probe.
-- Family indexes 3 and 4 give them the input locks 9–14 (index * 3 + precision index).
CREATE TABLE feed_events (
    time       TIMESTAMPTZ NOT NULL,
    raw_count  BIGINT DEFAULT 1,
    provider   TEXT,
    feed       TEXT NOT NULL,
    taxonomy   TEXT NOT NULL,
    type       TEXT NOT NULL,
    identifier TEXT,
    ip         INET NOT NULL,
    country    VARCHAR(2),
    asn        INTEGER
);
CREATE INDEX feed_events_time_idx ON feed_events (time DESC);

CREATE TABLE commands (
    time        TIMESTAMPTZ NOT NULL,
    raw_count   BIGINT DEFAULT 1,
    command     TEXT NOT NULL,
    identity_id BIGINT,
    ip          INET,
    country     VARCHAR(2),
    asn         INTEGER
);
CREATE INDEX commands_time_idx ON commands (time DESC);

DO $$
DECLARE
    p TEXT;
BEGIN
    FOREACH p IN ARRAY ARRAY['quarterly', 'hourly', 'daily']
    LOOP
        EXECUTE format($f$
            CREATE TABLE feed_events_%1$s (
                time       TIMESTAMPTZ NOT NULL,
                raw_count  BIGINT NOT NULL,
                provider   TEXT,
                feed       TEXT NOT NULL,
                taxonomy   TEXT NOT NULL,
                type       TEXT NOT NULL,
                identifier TEXT,
                ip         INET NOT NULL,
                country    VARCHAR(2),
                asn        INTEGER,
                CONSTRAINT feed_events_%1$s_key UNIQUE NULLS NOT DISTINCT
                    (time, provider, feed, taxonomy, type, identifier, ip, country, asn)
            );
            CREATE INDEX feed_events_%1$s_ip_time_idx ON feed_events_%1$s (ip, time);
            CREATE INDEX feed_events_%1$s_asn_time_idx ON feed_events_%1$s (asn, time);

            CREATE TABLE commands_%1$s (
                time        TIMESTAMPTZ NOT NULL,
                raw_count   BIGINT NOT NULL,
                command     TEXT NOT NULL,
                identity_id BIGINT,
                ip          INET,
                country     VARCHAR(2),
                asn         INTEGER,
                CONSTRAINT commands_%1$s_key UNIQUE NULLS NOT DISTINCT
                    (time, command, identity_id, ip, country, asn)
            );
            CREATE INDEX commands_%1$s_identity_time_idx ON commands_%1$s (identity_id, time);
            CREATE INDEX commands_%1$s_ip_time_idx ON commands_%1$s (ip, time);
        $f$, p);
    END LOOP;
END
$$;

-- The state tables name their source table.
ALTER TABLE rollup_watermarks DROP CONSTRAINT rollup_watermarks_source_check,
    ADD CONSTRAINT rollup_watermarks_source_check CHECK (source IN ('incidents', 'passwords', 'ports', 'feed_events', 'commands'));
ALTER TABLE backfill_progress DROP CONSTRAINT backfill_progress_source_check,
    ADD CONSTRAINT backfill_progress_source_check CHECK (source IN ('incidents', 'passwords', 'ports', 'feed_events', 'commands'));
ALTER TABLE rollup_retention DROP CONSTRAINT rollup_retention_source_check,
    ADD CONSTRAINT rollup_retention_source_check CHECK (source IN ('incidents', 'passwords', 'ports', 'feed_events', 'commands'));
ALTER TABLE aggregation_events DROP CONSTRAINT aggregation_events_source_check,
    ADD CONSTRAINT aggregation_events_source_check CHECK (source IN ('incidents', 'passwords', 'ports', 'feed_events', 'commands'));

INSERT INTO sview_locks (class, key) SELECT 1398165505, k FROM generate_series(9, 14) AS k
ON CONFLICT DO NOTHING;

-- Late rows and TimescaleDB as for the first three tables (000009, 000010, 000046).
DO $$
DECLARE
    t TEXT;
    i INT := 3;
    p TEXT;
    hyper CONSTANT BOOLEAN := EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb');
BEGIN
    FOREACH t IN ARRAY ARRAY['feed_events', 'commands']
    LOOP
        IF hyper THEN
            PERFORM create_hypertable(t, 'time', chunk_time_interval => INTERVAL '1 day');
            EXECUTE format('ALTER TABLE %I SET (timescaledb.compress, timescaledb.compress_orderby = ''time DESC'')', t);
            PERFORM add_compression_policy(t, INTERVAL '7 days');
            FOREACH p IN ARRAY ARRAY['quarterly', 'hourly', 'daily']
            LOOP
                PERFORM create_hypertable(t || '_' || p, 'time', create_default_indexes => false);
            END LOOP;
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I
                FOR EACH ROW EXECUTE FUNCTION rollup_note_late_row(%L, %L)', t || '_late_rows', t, i * 3, t);
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I
                FOR EACH STATEMENT EXECUTE FUNCTION rollup_flush_late(%L)', t || '_late_flush', t, t);
        ELSE
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION rollup_record_late(%L)', t || '_late_insert', t, i * 3);
            EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION rollup_record_late(%L)', t || '_late_update', t, i * 3);
            EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                FOR EACH STATEMENT EXECUTE FUNCTION rollup_record_late(%L)', t || '_late_delete', t, i * 3);
        END IF;
        i := i + 1;
    END LOOP;
END
$$;
