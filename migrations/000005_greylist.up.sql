-- IPs seen by many probes: the current list and one snapshot per day.
CREATE TABLE greylist (
    ip         INET PRIMARY KEY,
    tags       TEXT[] NOT NULL DEFAULT '{}',
    score      DOUBLE PRECISION NOT NULL DEFAULT 0,
    probes     INTEGER NOT NULL DEFAULT 0,
    incidents  BIGINT NOT NULL DEFAULT 0,
    country    VARCHAR(2),
    asn        INTEGER,
    first_seen TIMESTAMPTZ,
    last_seen  TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX greylist_country_idx ON greylist (country);
CREATE INDEX greylist_asn_idx ON greylist (asn);
CREATE INDEX greylist_tags_idx ON greylist USING gin (tags);

CREATE TABLE greylist_history (
    day        DATE NOT NULL,
    ip         INET NOT NULL,
    tags       TEXT[] NOT NULL DEFAULT '{}',
    score      DOUBLE PRECISION NOT NULL DEFAULT 0,
    probes     INTEGER NOT NULL DEFAULT 0,
    country    VARCHAR(2),
    asn        INTEGER,
    first_seen TIMESTAMPTZ,
    last_seen  TIMESTAMPTZ,
    PRIMARY KEY (day, ip)
);
