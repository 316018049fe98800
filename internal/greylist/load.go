package greylist

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/badline"
	"github.com/sview-project/sview/internal/rollupstate"
)

// ImportResult says what Import did.
type ImportResult struct {
	Layout   Layout
	Lines    int            // lines read
	Loaded   int            // good lines
	Upserted int64          // addresses inserted or updated (duplicates in the file count once)
	Bad      int64          // lines skipped as malformed
	BadLines []badline.Line // the first MaxKeptErrors of them, with line numbers
	Duration time.Duration
}

// Import upserts the good lines of a greylist file (either layout) into the current list in one
// transaction; bad lines are skipped and reported. An address listed twice takes its last line.
// Country and ASN missing from the file are filled from geo_prefixes. An imported address keeps
// the score, probes and times it already had; the next Build replaces the whole list.
func Import(ctx context.Context, pool *pgxpool.Pool, r io.Reader, source string, logger *slog.Logger) (ImportResult, error) {
	start := time.Now()
	sc := NewScanner(r)
	var res ImportResult
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := rollupstate.XactLock(ctx, tx, rollupstate.ClassGreylist, 0, false); err != nil {
			return fmt.Errorf("take greylist lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE greylist_incoming (line int, ip inet, tags text[], country varchar(2), asn int)
			ON COMMIT DROP`); err != nil {
			return fmt.Errorf("create temporary table: %w", err)
		}
		src := pgx.CopyFromFunc(func() ([]any, error) {
			if !sc.Scan() {
				return nil, sc.Err()
			}
			res.Loaded++
			e := sc.Entry()
			var (
				country *string
				asn     *int32
			)
			if e.Country != "" {
				country = &e.Country
			}
			if e.ASN != 0 {
				a := int32(e.ASN) // #nosec G115 -- the scanner accepts ASNs 1..2^31-1 only
				asn = &a
			}
			return []any{sc.Lines(), e.IP, e.Tags, country, asn}, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"greylist_incoming"}, []string{"line", "ip", "tags", "country", "asn"}, src); err != nil {
			if sc.Err() != nil { // the file, not the database, stopped the copy
				return sc.Err()
			}
			return fmt.Errorf("copy entries: %w", err)
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO greylist AS g (ip, tags, country, asn, updated_at)
			SELECT i.ip, i.tags, coalesce(i.country, geo.country), coalesce(i.asn, geo.asn), now()
			FROM (SELECT DISTINCT ON (ip) * FROM greylist_incoming ORDER BY ip, line DESC) i
			LEFT JOIN LATERAL geo_lookup(i.ip) geo ON true
			ORDER BY i.ip
			ON CONFLICT (ip) DO UPDATE SET tags = excluded.tags, country = excluded.country, asn = excluded.asn, updated_at = now()`)
		if err != nil {
			return fmt.Errorf("merge into greylist: %w", err)
		}
		res.Upserted = tag.RowsAffected()
		return nil
	})
	res.Layout, res.Lines, res.Bad, res.BadLines = sc.Layout(), sc.Lines(), sc.Bad().Count(), sc.Bad().Lines()
	res.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("import greylist %s: %w", source, err)
	}
	if logger != nil {
		logger.Info("greylist imported", "file", source, "layout", res.Layout, "lines", res.Lines,
			"loaded", res.Loaded, "bad", res.Bad, "duration", res.Duration)
	}
	return res, nil
}
