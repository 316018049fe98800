-- The live stream (docs/live.md): every statement that inserts incidents notifies the channel
-- sview_incidents once, whatever its number of rows, so ingest's COPY stays fast. The listener
-- reads the new rows itself with a time cursor, so the notification carries no payload, and
-- PostgreSQL folds the identical notifications of one transaction into one. No transition table:
-- hypertables allow none, and a statement trigger without one works on both.
CREATE FUNCTION live_notify_incidents() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sview_incidents', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER incidents_live_notify AFTER INSERT ON incidents
    FOR EACH STATEMENT EXECUTE FUNCTION live_notify_incidents();
