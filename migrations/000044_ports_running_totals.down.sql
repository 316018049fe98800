DROP TABLE IF EXISTS ports_hourly_running, ports_daily_running;
