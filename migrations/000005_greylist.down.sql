DROP TABLE IF EXISTS greylist_history;
DROP TABLE IF EXISTS greylist;
