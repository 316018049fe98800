DO $$
DECLARE
    fn REGPROCEDURE;
BEGIN
    FOR fn IN SELECT p.oid FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace AND p.prosrc LIKE '%sview\_xact\_lock\_shared(%'
                AND p.proname <> 'sview_xact_lock_shared'
    LOOP
        EXECUTE replace(pg_get_functiondef(fn), 'sview_xact_lock_shared(', 'pg_advisory_xact_lock_shared(');
    END LOOP;
END
$$;
DROP FUNCTION sview_xact_lock_shared(INT, INT);
DROP TABLE sview_locks;
