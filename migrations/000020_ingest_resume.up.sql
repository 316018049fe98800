-- What a resumable ingest needs besides the byte offset: the number of lines before it (so
-- bad lines keep their real numbers after a restart), rows held back across lines (open
-- port-scan windows, saved with the offset they belong to), and a fingerprint of the first
-- bytes of a followed file, so a file replaced under the same name is read from its start.
ALTER TABLE ingest_ledger
    ADD COLUMN lines        BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN state        JSONB,
    ADD COLUMN head_len     INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN head_sha256  BYTEA,
    ADD COLUMN updated_at   TIMESTAMPTZ NOT NULL DEFAULT now();
