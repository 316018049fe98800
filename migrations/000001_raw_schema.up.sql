-- Raw probe reports, compatible with the original Sentinel schema: on a database written by
-- the original dumper every statement here is a no-op or only adds nullable columns.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'trap_t') THEN
        CREATE TYPE trap_t AS ENUM ('minipot_ftp', 'minipot_smtp', 'minipot_telnet', 'minipot_http', 'fwlogs');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'action_t') THEN
        CREATE TYPE action_t AS ENUM ('connect', 'login', 'message', 'invalid', 'small_port_scan', 'big_port_scan');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'protocol_t') THEN
        CREATE TYPE protocol_t AS ENUM ('TCP', 'UDP', 'other');
    END IF;
END
$$;

-- Extensions of the original enums: SSH fail logs and the SSH honeypot.
ALTER TYPE trap_t ADD VALUE IF NOT EXISTS 'faillogs';
ALTER TYPE trap_t ADD VALUE IF NOT EXISTS 'haas';

CREATE TABLE IF NOT EXISTS identity (
    id           BIGSERIAL PRIMARY KEY,
    sn           VARCHAR(16) NOT NULL,
    device_token VARCHAR(64) NOT NULL,
    UNIQUE (sn, device_token)
);

CREATE TABLE IF NOT EXISTS incidents (
    time        TIMESTAMPTZ NOT NULL,
    raw_count   BIGINT DEFAULT 1,
    identity_id BIGINT NOT NULL REFERENCES identity (id),
    trap        trap_t NOT NULL,
    action      action_t NOT NULL,
    ip          INET NOT NULL,
    country     VARCHAR(2)
);
ALTER TABLE incidents ADD COLUMN IF NOT EXISTS asn INTEGER;

CREATE TABLE IF NOT EXISTS passwords (
    time      TIMESTAMPTZ NOT NULL,
    raw_count BIGINT DEFAULT 1,
    username  TEXT NOT NULL,
    password  TEXT NOT NULL
);
-- The original kept neither the probe, the service nor the attacker of a login attempt.
ALTER TABLE passwords ADD COLUMN IF NOT EXISTS identity_id BIGINT;
ALTER TABLE passwords ADD COLUMN IF NOT EXISTS trap trap_t;
ALTER TABLE passwords ADD COLUMN IF NOT EXISTS ip INET;
ALTER TABLE passwords ADD COLUMN IF NOT EXISTS country VARCHAR(2);
ALTER TABLE passwords ADD COLUMN IF NOT EXISTS asn INTEGER;

CREATE TABLE IF NOT EXISTS ports (
    time      TIMESTAMPTZ NOT NULL,
    raw_count BIGINT DEFAULT 1,
    port      INTEGER NOT NULL,
    protocol  protocol_t NOT NULL
);
ALTER TABLE ports ADD COLUMN IF NOT EXISTS identity_id BIGINT;
ALTER TABLE ports ADD COLUMN IF NOT EXISTS ip INET;
ALTER TABLE ports ADD COLUMN IF NOT EXISTS country VARCHAR(2);
ALTER TABLE ports ADD COLUMN IF NOT EXISTS asn INTEGER;

-- Raw tables carry only a time index: ingest speed is bounded by index maintenance on random
-- keys (ip, password, port cost about two thirds of the server's time per row), and every
-- per-IP, per-probe, per-password and per-port question is answered from the rollups, which
-- carry those indexes. Raw is read by time range only (the 1h period, rollups, builders).
-- For the same reason the extension columns identity_id of passwords and ports have no foreign
-- key: ingest upserts the identity before it writes the rows.
CREATE INDEX IF NOT EXISTS incidents_time_idx ON incidents (time DESC);
CREATE INDEX IF NOT EXISTS passwords_time_idx ON passwords (time DESC);
CREATE INDEX IF NOT EXISTS ports_time_idx ON ports (time DESC);
