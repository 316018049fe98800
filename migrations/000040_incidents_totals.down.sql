DROP TABLE IF EXISTS incidents_quarterly_totals, incidents_hourly_totals, incidents_daily_totals;
