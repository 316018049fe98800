DROP TRIGGER IF EXISTS incidents_live_notify ON incidents;
DROP FUNCTION IF EXISTS live_notify_incidents();
