DELETE FROM rollup_watermarks WHERE source IN ('feed_events', 'commands');
DELETE FROM backfill_progress WHERE source IN ('feed_events', 'commands');
DELETE FROM rollup_retention WHERE source IN ('feed_events', 'commands');
DELETE FROM aggregation_events WHERE source IN ('feed_events', 'commands');
DELETE FROM rollup_invalidations WHERE source IN ('feed_events', 'commands');
DELETE FROM sview_locks WHERE class = 1398165505 AND key BETWEEN 9 AND 14;
ALTER TABLE rollup_watermarks DROP CONSTRAINT rollup_watermarks_source_check,
    ADD CONSTRAINT rollup_watermarks_source_check CHECK (source IN ('incidents', 'passwords', 'ports'));
ALTER TABLE backfill_progress DROP CONSTRAINT backfill_progress_source_check,
    ADD CONSTRAINT backfill_progress_source_check CHECK (source IN ('incidents', 'passwords', 'ports'));
ALTER TABLE rollup_retention DROP CONSTRAINT rollup_retention_source_check,
    ADD CONSTRAINT rollup_retention_source_check CHECK (source IN ('incidents', 'passwords', 'ports'));
ALTER TABLE aggregation_events DROP CONSTRAINT aggregation_events_source_check,
    ADD CONSTRAINT aggregation_events_source_check CHECK (source IN ('incidents', 'passwords', 'ports'));
DROP TABLE feed_events_quarterly, feed_events_hourly, feed_events_daily, feed_events;
DROP TABLE commands_quarterly, commands_hourly, commands_daily, commands;
