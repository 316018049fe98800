DROP TABLE report_deliveries;
