-- The roles are cluster-wide and may hold grants in other databases, so only this
-- database's grants are taken back; the roles themselves stay.
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM sview_reader, sview_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM sview_writer;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM sview_reader, sview_writer;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM sview_writer;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM sview_reader, sview_writer;
REVOKE ALL ON SCHEMA public FROM sview_reader, sview_writer;
DO $$
BEGIN
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM sview_reader, sview_writer', current_database());
END
$$;
