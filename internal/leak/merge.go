package leak

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Incoming rows go through a temporary table so a whole batch merges in one statement.
const createIncoming = `CREATE TEMP TABLE leak_incoming (hash bytea NOT NULL, count bigint NOT NULL, sources text[] NOT NULL)
	ON COMMIT DROP`

// mergeIncoming adds the counts of leak_incoming to passwords_pwned and unions the sources.
// Duplicates in the batch are summed first; rows go in hash order so concurrent merges take
// row locks in the same order and cannot deadlock.
const mergeIncoming = `
INSERT INTO passwords_pwned AS p (hash, count, sources)
SELECT i.hash, i.count, coalesce(s.sources, '{}')
FROM (SELECT hash, sum(count)::bigint AS count FROM leak_incoming GROUP BY hash) i
LEFT JOIN (
    SELECT hash, array_agg(DISTINCT src ORDER BY src) AS sources
    FROM leak_incoming, unnest(sources::data_source[]) AS src
    GROUP BY hash
) s USING (hash)
ORDER BY i.hash
ON CONFLICT (hash) DO UPDATE SET
    count = p.count + excluded.count,
    sources = ARRAY(SELECT DISTINCT x FROM unnest(p.sources || excluded.sources) AS x ORDER BY x),
    updated_at = now()`

// merge copies entries into a fresh leak_incoming table of tx and merges them; it returns the
// number of distinct hashes written.
func merge(ctx context.Context, tx pgx.Tx, next func() (Entry, bool, error)) (int64, error) {
	if _, err := tx.Exec(ctx, createIncoming); err != nil {
		return 0, fmt.Errorf("create temporary table: %w", err)
	}
	src := pgx.CopyFromFunc(func() ([]any, error) {
		e, ok, err := next()
		if err != nil || !ok {
			return nil, err
		}
		sources := e.Sources
		if sources == nil {
			sources = []string{}
		}
		return []any{e.Hash[:], e.Count, sources}, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"leak_incoming"}, []string{"hash", "count", "sources"}, src); err != nil {
		return 0, fmt.Errorf("copy hashes: %w", err)
	}
	tag, err := tx.Exec(ctx, mergeIncoming)
	if err != nil {
		return 0, fmt.Errorf("merge into passwords_pwned: %w", err)
	}
	return tag.RowsAffected(), nil
}
