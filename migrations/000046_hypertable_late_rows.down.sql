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

DROP INDEX leak_pending_password_trap;
CREATE OR REPLACE FUNCTION leak_record_late() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    wm TIMESTAMPTZ;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1279607115, 0);
    SELECT watermark INTO wm FROM leak_watermark;
    IF wm IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_LEVEL = 'ROW' THEN
        IF NEW.time < wm AND coalesce(NEW.raw_count, 1) > 0 THEN
            INSERT INTO leak_pending (password, trap, raw_count) VALUES (NEW.password, NEW.trap, coalesce(NEW.raw_count, 1));
        END IF;
    ELSE
        INSERT INTO leak_pending (password, trap, raw_count)
        SELECT password, trap, sum(coalesce(raw_count, 1))
        FROM new_rows WHERE time < wm
        GROUP BY password, trap HAVING sum(coalesce(raw_count, 1)) > 0;
    END IF;
    RETURN NULL;
END
$$;
