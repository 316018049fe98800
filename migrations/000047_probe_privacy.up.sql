-- A probe's own data is private to whoever proves its device token (docs/security.md). The
-- reader role (the Grafana plugin, `sview serve`) loses the token column; it proves a token
-- through sview_probe_by_token, and a signed-in Grafana user's proof is kept in probe_claims
-- through sview_claim_probe. Both run as the migration's owner (SECURITY DEFINER) with a
-- fixed search_path, so a caller can neither read tokens nor redirect the functions.
REVOKE SELECT ON identity FROM sview_reader;
GRANT SELECT (id, sn) ON identity TO sview_reader;

CREATE TABLE probe_claims (
    login       TEXT        NOT NULL CHECK (login <> ''),
    identity_id BIGINT      NOT NULL REFERENCES identity (id) ON DELETE CASCADE,
    claimed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (login, identity_id)
);

CREATE FUNCTION sview_probe_by_token(token TEXT) RETURNS BIGINT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT id FROM public.identity WHERE device_token = token ORDER BY id LIMIT 1
$$;

CREATE FUNCTION sview_claim_probe(claimant TEXT, token TEXT) RETURNS BIGINT
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    probe BIGINT;
BEGIN
    probe := public.sview_probe_by_token(token);
    IF probe IS NOT NULL THEN
        INSERT INTO public.probe_claims (login, identity_id) VALUES (claimant, probe)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN probe;
END
$$;

CREATE FUNCTION sview_unclaim_probe(claimant TEXT, probe BIGINT) RETURNS BOOLEAN
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH gone AS (DELETE FROM public.probe_claims WHERE login = claimant AND identity_id = probe RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM gone)
$$;

REVOKE ALL ON FUNCTION sview_probe_by_token(TEXT), sview_claim_probe(TEXT, TEXT), sview_unclaim_probe(TEXT, BIGINT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION sview_probe_by_token(TEXT), sview_claim_probe(TEXT, TEXT), sview_unclaim_probe(TEXT, BIGINT)
    TO sview_reader, sview_writer;
