DROP TABLE aggregation_events;
