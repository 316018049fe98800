DROP TABLE IF EXISTS ingest_ledger;
