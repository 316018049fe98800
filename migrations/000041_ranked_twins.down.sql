DROP TABLE IF EXISTS
    passwords_hourly_by_password, passwords_daily_by_password,
    passwords_hourly_by_username, passwords_daily_by_username,
    passwords_hourly_by_login, passwords_daily_by_login,
    ports_hourly_by_port, ports_daily_by_port,
    incidents_hourly_by_ip, incidents_daily_by_ip,
    twin_buckets;
