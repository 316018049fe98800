-- TimescaleDB is optional. Where the extension is installed and preloaded, raw tables and rollups become
-- hypertables and raw chunks older than a week are compressed; on plain PostgreSQL this
-- migration changes nothing.
DO $$
DECLARE
    t TEXT;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        RAISE NOTICE 'timescaledb not available: using plain PostgreSQL tables';
        RETURN;
    END IF;
    -- Installed is not enough: CREATE EXTENSION fails with FATAL unless the server preloads it.
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
       AND current_setting('shared_preload_libraries') NOT LIKE '%timescaledb%' THEN
        RAISE NOTICE 'timescaledb installed but not preloaded: using plain PostgreSQL tables';
        RETURN;
    END IF;
    CREATE EXTENSION IF NOT EXISTS timescaledb;
    FOREACH t IN ARRAY ARRAY[
        'incidents', 'passwords', 'ports',
        'incidents_quarterly', 'incidents_hourly', 'incidents_daily',
        'passwords_quarterly', 'passwords_hourly', 'passwords_daily',
        'ports_quarterly', 'ports_hourly', 'ports_daily']
    LOOP
        EXECUTE format('SELECT create_hypertable(%L, ''time'', if_not_exists => true, migrate_data => true)', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['incidents', 'passwords', 'ports']
    LOOP
        EXECUTE format('ALTER TABLE %I SET (timescaledb.compress, timescaledb.compress_orderby = ''time DESC'')', t);
        EXECUTE format('SELECT add_compression_policy(%L, INTERVAL ''7 days'', if_not_exists => true)', t);
    END LOOP;
END
$$;
