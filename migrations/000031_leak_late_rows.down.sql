DROP TRIGGER IF EXISTS leak_late_rows ON passwords;
DROP TRIGGER IF EXISTS leak_late_insert ON passwords;
DROP FUNCTION IF EXISTS leak_record_late();
DROP TABLE IF EXISTS leak_pending;
