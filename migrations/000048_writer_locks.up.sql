-- Writers coordinate with row locks on sview_locks instead of advisory locks, which every role
-- may take: a reader session holding them stalled ingest (the late-data triggers waited) and
-- stopped rollups. Locking a row needs UPDATE on its table; sview_reader cannot even read it.
-- A lock keeps the (class, key) pair of the advisory lock it replaces (internal/rollupstate).
CREATE TABLE sview_locks (
    class INT NOT NULL,
    key   INT NOT NULL,
    PRIMARY KEY (class, key)
);
REVOKE ALL ON sview_locks FROM sview_reader;

-- The locks the triggers take: the input lock of every (raw table, quarterly) and the leak
-- builder's. Go creates any other row on first use.
INSERT INTO sview_locks (class, key)
SELECT 1398165505, k FROM generate_series(0, 8) AS k
UNION ALL SELECT 1279607115, 0;

CREATE FUNCTION sview_xact_lock_shared(lock_class INT, lock_key INT) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM sview_locks WHERE class = lock_class AND key = lock_key FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'sview lock %/% does not exist', lock_class, lock_key;
    END IF;
END
$$;

-- Every trigger function that took an advisory lock (the late-data ones of 000010, 000031 and
-- 000046) is rewritten to take the row lock instead, whatever else its body holds.
DO $$
DECLARE
    fn REGPROCEDURE;
BEGIN
    FOR fn IN SELECT p.oid FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace AND p.prosrc LIKE '%pg\_advisory\_xact\_lock\_shared(%'
    LOOP
        EXECUTE replace(pg_get_functiondef(fn), 'pg_advisory_xact_lock_shared(', 'sview_xact_lock_shared(');
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND prosrc LIKE '%pg\_advisory%') THEN
        RAISE EXCEPTION 'a function still takes an advisory lock';
    END IF;
END
$$;
