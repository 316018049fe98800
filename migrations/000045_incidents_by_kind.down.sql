DROP TABLE IF EXISTS incidents_hourly_by_kind, incidents_daily_by_kind;
