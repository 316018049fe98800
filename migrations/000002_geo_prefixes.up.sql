-- IP prefix → country and autonomous system, loaded by `sview import geo` and used to fill
-- the country and asn of raw rows that arrive without them.
CREATE TABLE geo_prefixes (
    network CIDR PRIMARY KEY,
    asn     INTEGER,
    country VARCHAR(2),
    as_name TEXT
);
CREATE INDEX geo_prefixes_network_gist ON geo_prefixes USING gist (network inet_ops);
CREATE INDEX geo_prefixes_asn_idx ON geo_prefixes (asn);

-- Resolves one address to its most specific prefix; STABLE so the planner can use the GiST index.
CREATE FUNCTION geo_lookup(addr INET)
RETURNS TABLE (asn INTEGER, country VARCHAR(2), as_name TEXT)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT g.asn, g.country, g.as_name
    FROM geo_prefixes g
    WHERE g.network >>= addr
    ORDER BY masklen(g.network) DESC
    LIMIT 1
$$;
