DROP TABLE IF EXISTS incidents_hourly_sightings, incidents_daily_sightings;
