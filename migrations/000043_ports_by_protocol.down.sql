DROP TABLE IF EXISTS ports_hourly_by_protocol, ports_daily_by_protocol;
