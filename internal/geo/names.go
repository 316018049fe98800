package geo

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Querier runs a read: a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// ASNames returns the AS name of each of asns that geo_prefixes names, in one statement. An
// ASN's prefixes may carry different names (loaded from different sources): the largest is
// taken, so the answer does not depend on load order. ASNs without a name are left out.
func ASNames(ctx context.Context, db Querier, asns []int64) (map[int64]string, error) {
	names := make(map[int64]string, len(asns))
	if len(asns) == 0 {
		return names, nil
	}
	rows, err := db.Query(ctx, `SELECT asn::bigint, max(as_name) FROM geo_prefixes
		WHERE asn = ANY($1::bigint[]) AND as_name <> '' GROUP BY asn`, asns)
	if err != nil {
		return nil, fmt.Errorf("read AS names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var asn int64
		var name string
		if err := rows.Scan(&asn, &name); err != nil {
			return nil, fmt.Errorf("read AS names: %w", err)
		}
		names[asn] = name
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read AS names: %w", err)
	}
	return names, nil
}
