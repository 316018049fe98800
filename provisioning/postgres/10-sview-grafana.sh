#!/bin/sh
# Runs once, when the database container initialises an empty data directory: creates the
# login Grafana's datasource uses, as a member of sview_reader (read-only). The group role is
# created here already so the membership can be granted; migration 000008 finds it and only
# adds the grants.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v reader="$SVIEW_PG_READER_USER" -v password="$SVIEW_PG_READER_PASSWORD" <<'SQL'
CREATE ROLE sview_reader NOLOGIN;
CREATE ROLE :"reader" LOGIN PASSWORD :'password' IN ROLE sview_reader;
SQL
