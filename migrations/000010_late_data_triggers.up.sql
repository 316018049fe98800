-- Late data: rows written into a raw table below its quarterly watermark (the buckets there are
-- already closed) are recorded as an invalidated range; the aggregator recomputes those buckets
-- and then the coarser precisions above them.
--
-- The race with a rollup running at the same moment is closed by an advisory lock: each writer
-- takes the raw table's "input lock" (class 1398165505, object = table index * 3 + precision
-- index, see internal/rollupstate) in shared mode before it reads the watermark, and the
-- quarterly rollup takes it exclusively before it reads the raw rows. Either the rollup sees the
-- writer's committed rows, or the writer sees the advanced watermark and records its range.
CREATE FUNCTION rollup_record_late() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    wm TIMESTAMPTZ;
    lo TIMESTAMPTZ;
    hi TIMESTAMPTZ;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(1398165505, TG_ARGV[0]::int);
    SELECT watermark INTO wm FROM rollup_watermarks WHERE source = TG_TABLE_NAME AND precision = 'quarterly';
    IF wm IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_LEVEL = 'ROW' THEN
        -- Hypertables have no transition tables: one range per late row.
        IF TG_OP = 'DELETE' THEN
            lo := OLD.time; hi := OLD.time;
        ELSIF TG_OP = 'INSERT' THEN
            lo := NEW.time; hi := NEW.time;
        ELSE
            lo := least(OLD.time, NEW.time); hi := greatest(OLD.time, NEW.time);
        END IF;
        IF lo >= wm THEN
            RETURN NULL;
        END IF;
        hi := least(hi, wm);
    ELSIF TG_OP = 'INSERT' THEN
        SELECT min(time), max(time) INTO lo, hi FROM new_rows WHERE time < wm;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT min(time), max(time) INTO lo, hi FROM old_rows WHERE time < wm;
    ELSE
        SELECT min(t), max(t) INTO lo, hi
        FROM (SELECT time AS t FROM old_rows UNION ALL SELECT time FROM new_rows) c WHERE t < wm;
    END IF;
    IF lo IS NOT NULL THEN
        INSERT INTO rollup_invalidations (source, precision, from_time, to_time)
        VALUES (TG_TABLE_NAME, 'quarterly', lo, hi);
    END IF;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t TEXT;
    i INT := 0;
    hyper BOOLEAN;
BEGIN
    FOREACH t IN ARRAY ARRAY['incidents', 'passwords', 'ports']
    LOOP
        hyper := to_regclass('timescaledb_information.hypertables') IS NOT NULL;
        IF hyper THEN
            EXECUTE 'SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = $1)'
                INTO hyper USING t;
        END IF;
        IF hyper THEN
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I
                FOR EACH ROW EXECUTE FUNCTION rollup_record_late(%L)', t || '_late_rows', t, i * 3);
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
