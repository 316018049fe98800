-- Sightings: how many attackers the hourly and daily incident rollups saw in each bucket, by
-- how many buckets had passed since the same address (per country, or in any country) was
-- seen before. An attacker counts once in a window [a, b) exactly where its previous sighting
-- lies before a, so distinct attackers over any window up to the lookback become a sum:
-- SUM(attackers) WHERE time in [a, b) AND gap * step > time - a. That replaces a
-- count(DISTINCT ip) over millions of rows for a year (see internal/twin).
--
-- They are twins of incidents like those of 000041: built by the aggregator's twin job and
-- trusted only for the buckets twin_buckets lists.
DO $$
DECLARE
    p TEXT;
BEGIN
    FOREACH p IN ARRAY ARRAY['hourly', 'daily']
    LOOP
        EXECUTE format($f$
            CREATE TABLE incidents_%1$s_sightings (
                time       TIMESTAMPTZ NOT NULL,
                by_country BOOLEAN NOT NULL, -- false: the address in any country; country is NULL
                country    VARCHAR(2),
                gap        INTEGER NOT NULL, -- buckets since the previous sighting; lookback + 1 when none
                attackers  BIGINT NOT NULL,
                CONSTRAINT incidents_%1$s_sightings_key UNIQUE NULLS NOT DISTINCT (time, by_country, country, gap)
            );
        $f$, p);
    END LOOP;
END
$$;

GRANT SELECT ON incidents_hourly_sightings, incidents_daily_sightings TO sview_reader;
GRANT SELECT, INSERT, UPDATE, DELETE ON incidents_hourly_sightings, incidents_daily_sightings TO sview_writer;
