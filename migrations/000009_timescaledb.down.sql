-- Irreversible: a hypertable cannot be turned back into a plain table in place. Going below
-- this version keeps the hypertables, which every later migration and query also accepts.
SELECT 1;
