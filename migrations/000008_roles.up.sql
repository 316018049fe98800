-- Group roles (NOLOGIN): operators create login users and grant them one of these.
-- sview_reader is what the Grafana plugin and `sview serve` need; sview_writer is the aggregator's.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sview_reader') THEN
        CREATE ROLE sview_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'sview_writer') THEN
        CREATE ROLE sview_writer NOLOGIN;
    END IF;
END
$$;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO sview_reader, sview_writer', current_database());
END
$$;
GRANT USAGE ON SCHEMA public TO sview_reader, sview_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO sview_reader;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO sview_reader, sview_writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO sview_writer;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO sview_writer;

-- Tables added by later migrations get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO sview_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO sview_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO sview_writer;
