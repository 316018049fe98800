-- Abuse contacts of networks, for `sview report` (docs/reports.md). One row per address space:
-- an AS number or a prefix; an address belongs to the most specific row that covers it (the
-- longest prefix, else the row of its ASN). key is the space as text ("AS2852",
-- "147.32.0.0/15"): the delivery ledger refers to it, so re-importing keeps the history.
CREATE TABLE contacts (
    key        TEXT PRIMARY KEY,
    asn        INTEGER UNIQUE CHECK (asn > 0),
    prefix     CIDR UNIQUE,
    emails     TEXT[] NOT NULL DEFAULT '{}',
    webhook    TEXT,
    language   TEXT NOT NULL DEFAULT 'en' CHECK (language ~ '^[a-z]{2}$'),
    cadence    TEXT NOT NULL CHECK (cadence IN ('1d', '1w', '1m')),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((asn IS NULL) <> (prefix IS NULL)),
    CHECK (cardinality(emails) > 0 OR webhook IS NOT NULL)
);
CREATE INDEX contacts_prefix_idx ON contacts USING gist (prefix inet_ops);

-- Addresses of abuse desks and webhook URLs (which may carry a token) are not for Grafana.
REVOKE ALL ON contacts FROM sview_reader;
