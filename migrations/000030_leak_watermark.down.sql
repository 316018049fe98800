DROP TABLE IF EXISTS leak_watermark;
