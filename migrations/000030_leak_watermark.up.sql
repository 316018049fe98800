-- High-water mark of the leaked-password builder: every raw passwords row with time below it
-- has been hashed into passwords_pwned. One row; the builder locks it, so two builders never
-- count the same rows.
CREATE TABLE leak_watermark (
    id         BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    watermark  TIMESTAMPTZ NOT NULL,
    rows       BIGINT NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
