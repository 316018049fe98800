package geo

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/badline"
)

// ImportOptions tune Import; the zero value is usable.
type ImportOptions struct {
	BatchRows int       // prefixes per COPY (default 50,000)
	MaxBad    int       // bad lines kept with their numbers (default badline.DefaultKeep)
	Progress  io.Writer // periodic progress lines; nil for none
}

// ImportReport is what Import did.
type ImportReport struct {
	ParseStats
	Prefixes int64 // rows written to geo_prefixes
	Duration time.Duration
}

// Summary is a one-paragraph account for operators.
func (r ImportReport) Summary(w io.Writer) {
	fmt.Fprintf(w, "geo import: %d lines, %d ranges used, %d not routed, %d bad; %d prefixes loaded in %s\n",
		r.Lines, r.OK, r.NotRouted, r.Bad, r.Prefixes, r.Duration.Round(time.Millisecond))
	badline.Print(w, "  ", r.BadLines, r.Bad)
}

// Import replaces the contents of geo_prefixes with the ranges read from r (iptoasn TSV, plain
// or gzip), split into CIDR prefixes. Everything happens in one transaction: readers keep seeing
// the old prefixes until the new ones are complete, and a failed import changes nothing. A
// prefix given twice is a bad line (the first one wins).
func Import(ctx context.Context, pool *pgxpool.Pool, r io.Reader, opts ImportOptions) (ImportReport, error) {
	if opts.BatchRows <= 0 {
		opts.BatchRows = 50_000
	}
	start := time.Now()
	var rep ImportReport
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM geo_prefixes"); err != nil {
			return fmt.Errorf("clear geo_prefixes: %w", err)
		}
		seen := make(map[netip.Prefix]int64)
		batch := make([][]any, 0, opts.BatchRows)
		lastProgress := time.Now()
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			n, err := tx.CopyFrom(ctx, pgx.Identifier{"geo_prefixes"},
				[]string{"network", "asn", "country", "as_name"}, pgx.CopyFromRows(batch))
			if err != nil {
				return fmt.Errorf("copy into geo_prefixes: %w", err)
			}
			rep.Prefixes += n
			batch = batch[:0]
			if opts.Progress != nil && time.Since(lastProgress) > 2*time.Second {
				lastProgress = time.Now()
				fmt.Fprintf(opts.Progress, "geo import: %d prefixes so far (%.0f/s)\n",
					rep.Prefixes, float64(rep.Prefixes)/time.Since(start).Seconds())
			}
			return nil
		}
		st, err := Parse(r, opts.MaxBad, func(line int64, rec Record) error {
			prefixes := RangeToPrefixes(rec.Start, rec.End)
			for _, p := range prefixes {
				if first, dup := seen[p]; dup {
					return badRecord{fmt.Sprintf("prefix %s was already given on line %d", p, first)}
				}
			}
			for _, p := range prefixes {
				seen[p] = line
				batch = append(batch, []any{p, rec.ASN, nullString(rec.Country), nullString(rec.Name)})
			}
			if len(batch) >= opts.BatchRows {
				return flush()
			}
			return nil
		})
		rep.ParseStats = st
		if err != nil {
			return err
		}
		return flush()
	})
	rep.Duration = time.Since(start)
	if err != nil {
		return rep, fmt.Errorf("import geo prefixes: %w", err)
	}
	return rep, nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
