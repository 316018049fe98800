DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'data_source') THEN
        CREATE TYPE data_source AS ENUM ('telnet', 'smtp', 'ftp', 'http', 'haas');
    END IF;
END
$$;

-- SHA-1 of leaked passwords. The btree on the raw hash answers k-anonymous prefix lookups as
-- range scans; the plaintext is never stored here.
CREATE TABLE passwords_pwned (
    hash       BYTEA PRIMARY KEY CHECK (length(hash) = 20),
    count      BIGINT NOT NULL CHECK (count > 0),
    sources    data_source[] NOT NULL DEFAULT '{}',
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
