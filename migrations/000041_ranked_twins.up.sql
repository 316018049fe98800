-- Ranked twins: hourly and daily rollups summed over one key only (a password, a username, a
-- login, a port, an attacking address), each row with its rank inside its bucket (1 = most
-- used, ties by key). A top-N over months reads the few top-ranked rows of every bucket and
-- the rank just below them, which bounds every key left out; only keys that can still reach
-- the top N are summed exactly (see internal/twin).
--
-- They are built off the rollup's critical path by the aggregator's ranking job, bucket by
-- bucket. twin_buckets lists the buckets whose twins are complete; rewriting a wide bucket
-- deletes its entry in the same transaction, so readers never trust a stale twin and read
-- that bucket from the wide rollup until the job has built it again.
CREATE TABLE twin_buckets (
    source    TEXT NOT NULL,
    precision TEXT NOT NULL,
    time      TIMESTAMPTZ NOT NULL,
    built_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (source, precision, time)
);

DO $$
DECLARE
    p TEXT;
BEGIN
    FOREACH p IN ARRAY ARRAY['hourly', 'daily']
    LOOP
        EXECUTE format($f$
            CREATE TABLE passwords_%1$s_by_password (
                time      TIMESTAMPTZ NOT NULL,
                password  TEXT NOT NULL,
                raw_count BIGINT NOT NULL,
                rank      INTEGER NOT NULL,
                PRIMARY KEY (time, password)
            );
            CREATE INDEX passwords_%1$s_by_password_key_idx ON passwords_%1$s_by_password (password, time);
            CREATE INDEX passwords_%1$s_by_password_top_idx ON passwords_%1$s_by_password (time, rank) WHERE rank <= 101;

            CREATE TABLE passwords_%1$s_by_username (
                time      TIMESTAMPTZ NOT NULL,
                username  TEXT NOT NULL,
                raw_count BIGINT NOT NULL,
                rank      INTEGER NOT NULL,
                PRIMARY KEY (time, username)
            );
            CREATE INDEX passwords_%1$s_by_username_key_idx ON passwords_%1$s_by_username (username, time);
            CREATE INDEX passwords_%1$s_by_username_top_idx ON passwords_%1$s_by_username (time, rank) WHERE rank <= 101;

            CREATE TABLE passwords_%1$s_by_login (
                time      TIMESTAMPTZ NOT NULL,
                username  TEXT NOT NULL,
                password  TEXT NOT NULL,
                raw_count BIGINT NOT NULL,
                rank      INTEGER NOT NULL,
                PRIMARY KEY (time, username, password)
            );
            CREATE INDEX passwords_%1$s_by_login_key_idx ON passwords_%1$s_by_login (password, username, time);
            CREATE INDEX passwords_%1$s_by_login_top_idx ON passwords_%1$s_by_login (time, rank) WHERE rank <= 101;

            CREATE TABLE ports_%1$s_by_port (
                time      TIMESTAMPTZ NOT NULL,
                protocol  protocol_t NOT NULL,
                port      INTEGER NOT NULL,
                raw_count BIGINT NOT NULL,
                rank      INTEGER NOT NULL,
                PRIMARY KEY (time, protocol, port)
            );
            CREATE INDEX ports_%1$s_by_port_key_idx ON ports_%1$s_by_port (port, protocol, time);
            CREATE INDEX ports_%1$s_by_port_top_idx ON ports_%1$s_by_port (time, rank) WHERE rank <= 101;

            CREATE TABLE incidents_%1$s_by_ip (
                time      TIMESTAMPTZ NOT NULL,
                ip        INET NOT NULL,
                raw_count BIGINT NOT NULL,
                rank      INTEGER NOT NULL,
                PRIMARY KEY (time, ip)
            );
            CREATE INDEX incidents_%1$s_by_ip_key_idx ON incidents_%1$s_by_ip (ip, time);
            CREATE INDEX incidents_%1$s_by_ip_top_idx ON incidents_%1$s_by_ip (time, rank) WHERE rank <= 101;
        $f$, p);
    END LOOP;
END
$$;

-- The default privileges of 000008 cover tables created by the role that ran it; grant
-- explicitly in case another role runs this one.
DO $$
DECLARE
    t TEXT;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public'
        AND (tablename = 'twin_buckets' OR tablename ~ '^(passwords|ports|incidents)_(hourly|daily)_by_')
    LOOP
        EXECUTE format('GRANT SELECT ON %I TO sview_reader', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO sview_writer', t);
    END LOOP;
END
$$;
