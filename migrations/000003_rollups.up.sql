-- Rollups per precision. Every dimension of the raw table is kept (ip included, so distinct
-- attackers stay exact), time is the bucket start, and a unique key over time and every
-- dimension lets a bucket be rewritten idempotently.
--
-- The original created tables of the same names without any key and with duplicated
-- windows; such tables are kept under a _legacy name and rebuilt from raw by `sview backfill`.
DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'incidents_quarterly', 'incidents_hourly', 'incidents_daily',
        'passwords_quarterly', 'passwords_hourly', 'passwords_daily',
        'ports_quarterly', 'ports_hourly', 'ports_daily']
    LOOP
        IF to_regclass(t) IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %I RENAME TO %I', t, t || '_legacy');
        END IF;
    END LOOP;
END
$$;

DO $$
DECLARE
    p TEXT;
BEGIN
    FOREACH p IN ARRAY ARRAY['quarterly', 'hourly', 'daily']
    LOOP
        EXECUTE format($f$
            CREATE TABLE incidents_%1$s (
                time        TIMESTAMPTZ NOT NULL,
                raw_count   BIGINT NOT NULL,
                identity_id BIGINT NOT NULL,
                trap        trap_t NOT NULL,
                action      action_t NOT NULL,
                ip          INET NOT NULL,
                country     VARCHAR(2),
                asn         INTEGER,
                CONSTRAINT incidents_%1$s_key UNIQUE NULLS NOT DISTINCT
                    (time, identity_id, trap, action, ip, country, asn)
            );
            CREATE INDEX incidents_%1$s_ip_time_idx ON incidents_%1$s (ip, time);
            CREATE INDEX incidents_%1$s_identity_time_idx ON incidents_%1$s (identity_id, time);
            CREATE INDEX incidents_%1$s_asn_time_idx ON incidents_%1$s (asn, time);

            CREATE TABLE passwords_%1$s (
                time        TIMESTAMPTZ NOT NULL,
                raw_count   BIGINT NOT NULL,
                username    TEXT NOT NULL,
                password    TEXT NOT NULL,
                identity_id BIGINT,
                trap        trap_t,
                ip          INET,
                country     VARCHAR(2),
                asn         INTEGER,
                CONSTRAINT passwords_%1$s_key UNIQUE NULLS NOT DISTINCT
                    (time, username, password, identity_id, trap, ip, country, asn)
            );
            CREATE INDEX passwords_%1$s_password_time_idx ON passwords_%1$s (password, time);
            CREATE INDEX passwords_%1$s_username_time_idx ON passwords_%1$s (username, time);

            CREATE TABLE ports_%1$s (
                time        TIMESTAMPTZ NOT NULL,
                raw_count   BIGINT NOT NULL,
                port        INTEGER NOT NULL,
                protocol    protocol_t NOT NULL,
                identity_id BIGINT,
                ip          INET,
                country     VARCHAR(2),
                asn         INTEGER,
                CONSTRAINT ports_%1$s_key UNIQUE NULLS NOT DISTINCT
                    (time, port, protocol, identity_id, ip, country, asn)
            );
            CREATE INDEX ports_%1$s_port_time_idx ON ports_%1$s (port, time);
        $f$, p);
    END LOOP;
END
$$;
