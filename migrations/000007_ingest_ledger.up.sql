-- What has been ingested, so the same file is never counted twice and a followed log
-- resumes at its offset.
CREATE TABLE ingest_ledger (
    id          BIGSERIAL PRIMARY KEY,
    format      TEXT NOT NULL,
    source      TEXT NOT NULL,
    sha256      BYTEA,
    offset_bytes BIGINT NOT NULL DEFAULT 0,
    lines_ok    BIGINT NOT NULL DEFAULT 0,
    lines_bad   BIGINT NOT NULL DEFAULT 0,
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);
-- A file's content hash identifies it; a followed log is identified by its source alone.
CREATE UNIQUE INDEX ingest_ledger_content_key ON ingest_ledger (format, sha256) WHERE sha256 IS NOT NULL;
CREATE UNIQUE INDEX ingest_ledger_follow_key ON ingest_ledger (format, source) WHERE sha256 IS NULL;
