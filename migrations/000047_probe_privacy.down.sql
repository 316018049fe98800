DROP FUNCTION sview_unclaim_probe(TEXT, BIGINT);
DROP FUNCTION sview_claim_probe(TEXT, TEXT);
DROP FUNCTION sview_probe_by_token(TEXT);
DROP TABLE probe_claims;
REVOKE SELECT (id, sn) ON identity FROM sview_reader;
GRANT SELECT ON identity TO sview_reader;
