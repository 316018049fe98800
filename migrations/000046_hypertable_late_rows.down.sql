DO $$
DECLARE
    t TEXT;
BEGIN
    IF to_regclass('timescaledb_information.hypertables') IS NULL THEN
        RETURN;
    END IF;
    FOR t IN SELECT hypertable_name FROM timescaledb_information.hypertables
             WHERE hypertable_schema = 'public' AND hypertable_name NOT IN ('incidents', 'passwords', 'ports')
    LOOP
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (time DESC)', t || '_time_idx', t);
    END LOOP;
END
$$;

DO $$
DECLARE
    t TEXT;
    i INT := 0;
BEGIN
    FOREACH t IN ARRAY ARRAY['incidents', 'passwords', 'ports']
    LOOP
        IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = t || '_late_flush') THEN
            EXECUTE format('DROP TRIGGER %I ON %I', t || '_late_flush', t);
            EXECUTE format('DROP TRIGGER %I ON %I', t || '_late_rows', t);
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I
                FOR EACH ROW EXECUTE FUNCTION rollup_record_late(%L)', t || '_late_rows', t, i * 3);
        END IF;
        i := i + 1;
    END LOOP;
END
$$;
DROP FUNCTION rollup_flush_late();
DROP FUNCTION rollup_note_late_row();
