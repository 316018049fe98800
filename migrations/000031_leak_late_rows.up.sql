-- Late captured passwords: a passwords row inserted with a time below the leak builder's
-- watermark would never be hashed, so a trigger keeps it in leak_pending and the next build adds
-- it. Writers take the builder's advisory lock (class 1279607115 = 'LEAK', object 0) in shared
-- mode before reading the mark, the builder takes it exclusively before reading raw rows: either
-- the builder sees the writer's committed rows, or the writer sees the advanced mark.
CREATE TABLE leak_pending (
    id          BIGSERIAL PRIMARY KEY,
    password    TEXT NOT NULL,
    trap        trap_t,
    raw_count   BIGINT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE FUNCTION leak_record_late() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    wm TIMESTAMPTZ;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1279607115, 0);
    SELECT watermark INTO wm FROM leak_watermark;
    IF wm IS NULL THEN
        RETURN NULL; -- the first build starts at the oldest row and sees this one
    END IF;
    IF TG_LEVEL = 'ROW' THEN
        -- Hypertables have no transition tables: one check per row.
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

DO $$
DECLARE
    hyper BOOLEAN := to_regclass('timescaledb_information.hypertables') IS NOT NULL;
BEGIN
    IF hyper THEN
        SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = 'passwords') INTO hyper;
    END IF;
    IF hyper THEN
        CREATE TRIGGER leak_late_rows AFTER INSERT ON passwords
            FOR EACH ROW EXECUTE FUNCTION leak_record_late();
    ELSE
        CREATE TRIGGER leak_late_insert AFTER INSERT ON passwords REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION leak_record_late();
    END IF;
END
$$;
