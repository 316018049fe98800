-- The ledger of report deliveries: one row per (contact, cadence, window, channel), claimed
-- as pending before the message leaves and marked sent right after the receiver accepted it
-- (docs/reports.md, "The ledger"). No foreign key to contacts: a contact dropped by an import
-- keeps its history, and one imported again is not sent what it already got.
CREATE TABLE report_deliveries (
    contact      TEXT NOT NULL,
    cadence      TEXT NOT NULL CHECK (cadence IN ('1d', '1w', '1m')),
    window_start TIMESTAMPTZ NOT NULL,
    window_end   TIMESTAMPTZ NOT NULL,
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    state        TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    message_id   TEXT NOT NULL,
    recipients   TEXT[] NOT NULL DEFAULT '{}',
    attempts     INTEGER NOT NULL DEFAULT 1,
    claimed_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at      TIMESTAMPTZ,
    last_error   TEXT,
    PRIMARY KEY (contact, cadence, window_start, channel),
    CHECK (window_start < window_end),
    CHECK ((state = 'sent') = (sent_at IS NOT NULL))
);
-- The rate limit counts a contact's recent messages.
CREATE INDEX report_deliveries_sent_idx ON report_deliveries (contact, sent_at);

REVOKE ALL ON report_deliveries FROM sview_reader;
