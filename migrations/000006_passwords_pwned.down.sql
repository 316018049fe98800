DROP TABLE IF EXISTS passwords_pwned;
DROP TYPE IF EXISTS data_source;
