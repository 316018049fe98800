-- The schema of the original Sentinel View (sview/statistics/scheme.sql, paraphrased), with a
-- few rows as its dumper and aggregation jobs wrote them, hypertables left out.
CREATE TYPE trap_t AS ENUM ('minipot_ftp', 'minipot_smtp', 'minipot_telnet', 'minipot_http', 'fwlogs');
CREATE TYPE action_t AS ENUM ('connect', 'login', 'message', 'invalid', 'small_port_scan', 'big_port_scan');
CREATE TYPE protocol_t AS ENUM ('TCP', 'UDP', 'other');

CREATE TABLE identity (
    id BIGSERIAL PRIMARY KEY,
    sn VARCHAR(16) NOT NULL,
    device_token VARCHAR(64) NOT NULL,
    UNIQUE (sn, device_token)
);
CREATE TABLE incidents (
    time TIMESTAMPTZ NOT NULL,
    raw_count BIGINT DEFAULT 1,
    identity_id BIGINT NOT NULL REFERENCES identity (id),
    trap trap_t NOT NULL,
    action action_t NOT NULL,
    ip INET NOT NULL,
    country VARCHAR(2)
);
CREATE TABLE passwords (time TIMESTAMPTZ NOT NULL, raw_count BIGINT DEFAULT 1, username TEXT NOT NULL, password TEXT NOT NULL);
CREATE TABLE ports (time TIMESTAMPTZ NOT NULL, raw_count BIGINT DEFAULT 1, port INTEGER NOT NULL, protocol protocol_t NOT NULL);
CREATE TABLE incidents_quarterly (LIKE incidents INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE incidents_hourly (LIKE incidents INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE incidents_daily (LIKE incidents INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE passwords_quarterly (LIKE passwords INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE passwords_hourly (LIKE passwords INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE passwords_daily (LIKE passwords INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE ports_quarterly (LIKE ports INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE ports_hourly (LIKE ports INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE ports_daily (LIKE ports INCLUDING DEFAULTS INCLUDING CONSTRAINTS);

INSERT INTO identity (sn, device_token) VALUES ('0000000000000001', repeat('1', 64));
INSERT INTO incidents (time, identity_id, trap, action, ip, country) VALUES
    ('2026-01-01 10:01Z', 1, 'minipot_telnet', 'login', '192.0.2.7', 'CZ'),
    ('2026-01-01 10:02Z', 1, 'fwlogs', 'small_port_scan', '198.51.100.9', NULL);
INSERT INTO passwords (time, username, password) VALUES ('2026-01-01 10:01Z', 'root', 'admin');
INSERT INTO ports (time, port, protocol) VALUES ('2026-01-01 10:02Z', 23, 'TCP');
-- Written twice by an overlapping migrate-period: the duplicates our unique key would refuse.
INSERT INTO incidents_quarterly (time, raw_count, identity_id, trap, action, ip, country) VALUES
    ('2026-01-01 10:00Z', 1, 1, 'minipot_telnet', 'login', '192.0.2.7', 'CZ'),
    ('2026-01-01 10:00Z', 1, 1, 'minipot_telnet', 'login', '192.0.2.7', 'CZ');
