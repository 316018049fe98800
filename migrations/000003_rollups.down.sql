DROP TABLE IF EXISTS incidents_quarterly, incidents_hourly, incidents_daily,
    passwords_quarterly, passwords_hourly, passwords_daily,
    ports_quarterly, ports_hourly, ports_daily;
