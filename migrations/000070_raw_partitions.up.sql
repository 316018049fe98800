-- On plain PostgreSQL the raw tables become partitioned by time, one partition per UTC day (as
-- TimescaleDB's raw chunks, migration 000046), so that retention drops whole partitions there
-- too instead of deleting rows. A row whose day has no partition yet waits in the table's
-- default partition; the aggregator's partitions job makes that day's partition and moves such
-- rows into it. Hypertables are left as they are.

-- raw_partitions lists the partitions of a raw table with their bounds (lower_bound is NULL for
-- a partition from MINVALUE; both are NULL for the default partition).
CREATE FUNCTION raw_partitions(parent regclass)
RETURNS TABLE (partition regclass, lower_bound timestamptz, upper_bound timestamptz, is_default boolean)
LANGUAGE sql STABLE AS $$
    SELECT c.oid::regclass,
           (regexp_match(b.expr, 'FROM \(''([^'']*)''\)'))[1]::timestamptz,
           (regexp_match(b.expr, 'TO \(''([^'']*)''\)'))[1]::timestamptz,
           b.expr = 'DEFAULT'
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS expr) b
    WHERE i.inhparent = parent
$$;

-- raw_partition_covers tells whether a partition of parent other than the default one overlaps
-- [lo, hi).
CREATE FUNCTION raw_partition_covers(parent regclass, lo timestamptz, hi timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM raw_partitions(parent) p
                   WHERE NOT p.is_default AND coalesce(p.lower_bound < hi, true) AND p.upper_bound > lo)
$$;

-- raw_partition_ensure makes the partition of the UTC day holding `at`, unless a partition
-- covers that day already, and moves that day's rows out of the default partition into it. It
-- returns the rows moved, or NULL when the day had a partition. The rows move between
-- partitions directly, so the raw table's statement triggers (late rows, live stream, leaks)
-- do not see them again. Making a partition locks the whole table for that moment: a query
-- planned before the partition was attached would not scan it, and so would miss the rows just
-- moved (attaching alone takes a weaker lock, which readers pass). Callers bound the wait for
-- the table's readers with lock_timeout.
CREATE FUNCTION raw_partition_ensure(parent regclass, at timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    lo CONSTANT timestamptz := date_trunc('day', at, 'UTC');
    hi CONSTANT timestamptz := lo + INTERVAL '1 day';
    nsp TEXT;
    part TEXT;
    cols TEXT;
    def regclass;
    moved BIGINT := 0;
BEGIN
    IF raw_partition_covers(parent, lo, hi) THEN
        RETURN NULL; -- the usual case, without taking any lock
    END IF;
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', parent);
    IF raw_partition_covers(parent, lo, hi) THEN
        RETURN NULL; -- made meanwhile
    END IF;
    SELECT n.nspname, c.relname || '_p' || to_char(lo AT TIME ZONE 'UTC', 'YYYYMMDD')
    INTO nsp, part
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
    FROM pg_attribute WHERE attrelid = parent AND attnum > 0 AND NOT attisdropped;
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', nsp, part, parent);
    SELECT p.partition INTO def FROM raw_partitions(parent) p WHERE p.is_default;
    IF def IS NOT NULL THEN
        EXECUTE format('WITH moved AS (DELETE FROM %s WHERE time >= $1 AND time < $2 RETURNING %s)
                        INSERT INTO %I.%I (%s) SELECT %s FROM moved', def, cols, nsp, part, cols, cols)
        USING lo, hi;
        GET DIAGNOSTICS moved = ROW_COUNT;
    END IF;
    -- The check proves the bound, so the attach does not scan the new partition again.
    EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I CHECK (time >= %L AND time < %L)',
                   nsp, part, part || '_bound', lo, hi);
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)', parent, nsp, part, lo, hi);
    EXECUTE format('ALTER TABLE %I.%I DROP CONSTRAINT %I', nsp, part, part || '_bound');
    RETURN moved;
END
$$;

-- raw_partitions_drop drops the partitions wholly before `before` and returns how many went.
-- The default partition is never dropped: its old rows are deleted like any other.
CREATE FUNCTION raw_partitions_drop(parent regclass, before timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    p regclass;
    n INTEGER := 0;
BEGIN
    FOR p IN SELECT r.partition FROM raw_partitions(parent) r
             WHERE NOT r.is_default AND r.upper_bound <= before ORDER BY r.upper_bound
    LOOP
        EXECUTE format('DROP TABLE %s', p);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

-- raw_table_retarget points a definition read from one table (an index's or a trigger's) at
-- another.
CREATE FUNCTION raw_table_retarget(def TEXT, from_table regclass, to_table regclass) RETURNS TEXT
LANGUAGE sql STABLE AS $$
    SELECT replace(replace(def,
        ' ON ' || (SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
                   JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = from_table) || ' ',
        ' ON ' || (SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
                   JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_table) || ' '),
        ' ON ' || from_table::text || ' ', ' ON ' || to_table::text || ' ')
$$;

-- raw_table_reshape replaces a raw table by an empty one of the same shape, partitioned by day or
-- plain, and returns the old one renamed `<name><suffix>`. The new table takes the old one's
-- indexes (by name: the old ones get the suffix), foreign keys and triggers, so rows put into
-- it afterwards are seen by the triggers and rows moved from the old one are not.
CREATE FUNCTION raw_table_reshape(t regclass, partitioned boolean, suffix TEXT) RETURNS regclass
LANGUAGE plpgsql AS $$
DECLARE
    name CONSTANT TEXT := (SELECT relname FROM pg_class WHERE oid = t);
    fresh regclass;
    r RECORD;
BEGIN
    EXECUTE format('ALTER TABLE %s RENAME TO %I', t, name || suffix);
    EXECUTE format('CREATE TABLE %I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMMENTS)%s',
                   name, t, CASE WHEN partitioned THEN ' PARTITION BY RANGE (time)' ELSE '' END);
    fresh := name::regclass;
    FOR r IN SELECT i.indexrelid::regclass AS idx, c.relname, pg_get_indexdef(i.indexrelid) AS def
             FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE i.indrelid = t AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
    LOOP
        EXECUTE format('ALTER INDEX %s RENAME TO %I', r.idx, left(r.relname, 63 - length(suffix)) || suffix);
        EXECUTE raw_table_retarget(r.def, t, fresh);
    END LOOP;
    FOR r IN SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = t AND contype = 'f'
    LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fresh, r.conname, r.def);
    END LOOP;
    FOR r IN SELECT tgname, pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = t AND NOT tgisinternal
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', r.tgname, t);
        EXECUTE raw_table_retarget(r.def, t, fresh);
    END LOOP;
    RETURN t;
END
$$;

DO $$
DECLARE
    t TEXT;
    old regclass;
    today CONSTANT timestamptz := date_trunc('day', now(), 'UTC');
    cols TEXT;
    kept BOOLEAN;
    hyper BOOLEAN;
BEGIN
    FOREACH t IN ARRAY ARRAY['incidents', 'passwords', 'ports', 'feed_events', 'commands']
    LOOP
        IF (SELECT relkind FROM pg_class WHERE oid = t::regclass) = 'p' THEN
            CONTINUE;
        END IF;
        IF to_regclass('timescaledb_information.hypertables') IS NOT NULL THEN
            EXECUTE 'SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables WHERE hypertable_name = $1)'
            INTO hyper USING t;
            CONTINUE WHEN hyper;
        END IF;
        old := raw_table_reshape(t::regclass, true, '_legacy');
        EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', t || '_default', t);
        -- The rows already there stay where they are, as one partition of everything before
        -- today, which retention drops once today is past its cut. Today's and any later rows
        -- move to the default partition, where the partitions job picks them up.
        SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
        FROM pg_attribute WHERE attrelid = old AND attnum > 0 AND NOT attisdropped;
        EXECUTE format('WITH moved AS (DELETE FROM %s WHERE time >= $1 RETURNING %s) INSERT INTO %I (%s) SELECT %s FROM moved',
                       old, cols, t || '_default', cols, cols) USING today;
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', old) INTO kept;
        IF kept THEN
            -- The check proves the bound, so the attach does not scan the rows again.
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I CHECK (time < %L)', old, t || '_legacy_bound', today);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %s FOR VALUES FROM (MINVALUE) TO (%L)', t, old, today);
            EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', old, t || '_legacy_bound');
        ELSE
            EXECUTE format('DROP TABLE %s', old);
        END IF;
        -- Today and the next two days have their partitions before their rows arrive.
        FOR i IN 0..2 LOOP
            PERFORM raw_partition_ensure(t::regclass, today + i * INTERVAL '1 day');
        END LOOP;
    END LOOP;
END
$$;
