-- Late data on TimescaleDB. A row trigger on a hypertable fires on the chunk, so TG_TABLE_NAME
-- names the chunk (_hyper_1_1_chunk), not the raw table, and hypertables allow no transition
-- tables. So on hypertables a row trigger widens this statement's late range, kept in
-- transaction-local settings with the watermark it read, and a statement trigger on the
-- hypertable records the range once. Plain tables keep 000010's statement triggers.
--
-- The watermark is read once per transaction: the shared input lock taken with it is held until
-- commit, and the quarterly rollup needs it exclusively to move the watermark.
CREATE FUNCTION rollup_note_late_row() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    src CONSTANT TEXT := TG_ARGV[1];
    seen TEXT := current_setting('sview.late_wm_' || src, true);
    wm TIMESTAMPTZ;
    lo TIMESTAMPTZ;
    hi TIMESTAMPTZ;
BEGIN
    IF coalesce(seen, '') = '' THEN
        PERFORM pg_advisory_xact_lock_shared(1398165505, TG_ARGV[0]::int);
        SELECT watermark INTO wm FROM rollup_watermarks WHERE source = src AND precision = 'quarterly';
        PERFORM set_config('sview.late_wm_' || src, coalesce(wm::text, 'none'), true);
    ELSIF seen <> 'none' THEN
        wm := seen::timestamptz;
    END IF;
    IF wm IS NULL THEN
        RETURN NULL;
    END IF;
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
    seen := current_setting('sview.late_lo_' || src, true);
    IF coalesce(seen, '') = '' OR lo < seen::timestamptz THEN
        PERFORM set_config('sview.late_lo_' || src, lo::text, true);
    END IF;
    seen := current_setting('sview.late_hi_' || src, true);
    IF coalesce(seen, '') = '' OR hi > seen::timestamptz THEN
        PERFORM set_config('sview.late_hi_' || src, hi::text, true);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION rollup_flush_late() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    src CONSTANT TEXT := TG_ARGV[0];
    lo CONSTANT TEXT := current_setting('sview.late_lo_' || src, true);
BEGIN
    IF coalesce(lo, '') <> '' THEN
        INSERT INTO rollup_invalidations (source, precision, from_time, to_time)
        VALUES (src, 'quarterly', lo::timestamptz, current_setting('sview.late_hi_' || src)::timestamptz);
        PERFORM set_config('sview.late_lo_' || src, '', true);
        PERFORM set_config('sview.late_hi_' || src, '', true);
    END IF;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t TEXT;
    i INT := 0;
BEGIN
    IF to_regclass('timescaledb_information.hypertables') IS NULL THEN
        RETURN;
    END IF;
    FOREACH t IN ARRAY ARRAY['incidents', 'passwords', 'ports']
    LOOP
        IF EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = t) THEN
            EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_late_rows', t);
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I
                FOR EACH ROW EXECUTE FUNCTION rollup_note_late_row(%L, %L)', t || '_late_rows', t, i * 3, t);
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I
                FOR EACH STATEMENT EXECUTE FUNCTION rollup_flush_late(%L)', t || '_late_flush', t, t);
            -- One chunk a day: retention and compression work day by day, and a day of raw rows
            -- at Sentinel's rate (about 1M incidents) fits well in memory with its indexes.
            PERFORM set_chunk_time_interval(t, INTERVAL '1 day');
        END IF;
        i := i + 1;
    END LOOP;
END
$$;

-- create_hypertable gave every rollup an index on time alone. A rollup's unique key leads with
-- time and serves every range scan, so that index only slowed each rewrite (by about 15 %).
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
        EXECUTE format('DROP INDEX IF EXISTS %I', t || '_time_idx');
    END LOOP;
END
$$;
