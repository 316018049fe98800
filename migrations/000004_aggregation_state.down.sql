DROP TABLE IF EXISTS job_runs;
DROP TABLE IF EXISTS rollup_invalidations;
DROP TABLE IF EXISTS rollup_watermarks;
