DROP TABLE IF EXISTS rollup_retention;
DROP TABLE IF EXISTS backfill_progress;
