package leak

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/badline"
)

// ErrAlreadyImported means a file with the same content was imported before; importing it again
// would add its counts twice.
var ErrAlreadyImported = errors.New("file already imported")

// ImportOptions of Import.
type ImportOptions struct {
	ScanOptions
	Source string       // file name, recorded in ingest_ledger and used in messages
	Logger *slog.Logger // nil: no progress logs
}

// ImportResult says what Import did.
type ImportResult struct {
	Format   Format
	Lines    int            // lines read
	Loaded   int            // good entries
	Hashes   int64          // distinct hashes inserted or updated
	Padding  int            // HIBP lines with count 0, skipped
	Bad      int64          // lines skipped as malformed
	BadLines []badline.Line // the first MaxKeptErrors of them, with line numbers
	Duration time.Duration
}

// progressEvery is how many lines pass between progress logs.
const progressEvery = 500_000

// Import loads a leaked-password file (see Format) into passwords_pwned in one transaction:
// good lines are copied into a temporary table and merged (counts added, sources united), bad
// lines are skipped and reported. The file's SHA-256 is recorded in ingest_ledger in the same
// transaction, so importing the same content twice fails with ErrAlreadyImported and adds
// nothing.
func Import(ctx context.Context, pool *pgxpool.Pool, r io.Reader, opts ImportOptions) (ImportResult, error) {
	start := time.Now()
	digest := sha256.New()
	sc, err := NewScanner(io.TeeReader(r, digest), opts.ScanOptions)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import %s: %w", opts.Source, err)
	}
	res := ImportResult{Format: sc.Format()}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		nextLog := progressEvery
		hashes, err := merge(ctx, tx, func() (Entry, bool, error) {
			if !sc.Scan() {
				return Entry{}, false, sc.Err()
			}
			res.Loaded++
			if opts.Logger != nil && sc.Lines() >= nextLog {
				nextLog += progressEvery
				opts.Logger.Info("importing leaked passwords", "file", opts.Source, "lines", sc.Lines(),
					"bad", sc.Bad().Count(), "lines_per_s", int(float64(sc.Lines())/time.Since(start).Seconds()))
			}
			return sc.Entry(), true, nil
		})
		if sc.Err() != nil { // the file, not the database, stopped the copy
			return sc.Err()
		}
		if err != nil {
			return err
		}
		res.Hashes = hashes
		return recordLedger(ctx, tx, opts.Source, digest.Sum(nil), res.Loaded, sc.Bad().Count())
	})
	res.Lines, res.Padding, res.Bad, res.BadLines = sc.Lines(), sc.Padding(), sc.Bad().Count(), sc.Bad().Lines()
	res.Duration = time.Since(start)
	if err != nil {
		return res, fmt.Errorf("import %s: %w", opts.Source, err)
	}
	return res, nil
}

// recordLedger notes the file's content hash; the scanner has read to EOF, so sum covers it all.
func recordLedger(ctx context.Context, tx pgx.Tx, source string, sum []byte, ok int, bad int64) error {
	var at time.Time
	err := tx.QueryRow(ctx, `SELECT finished_at FROM ingest_ledger WHERE format = 'pwned' AND sha256 = $1`, sum).Scan(&at)
	if err == nil {
		return fmt.Errorf("%w at %s (same SHA-256 %x)", ErrAlreadyImported, at.UTC().Format(time.RFC3339), sum[:8])
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("check ingest ledger: %w", err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO ingest_ledger (format, source, sha256, lines_ok, lines_bad, finished_at)
		VALUES ('pwned', $1, $2, $3, $4, now())`, source, sum, ok, bad)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" { // a concurrent import of the same file won
		return fmt.Errorf("%w (same SHA-256 %x, imported concurrently)", ErrAlreadyImported, sum[:8])
	}
	if err != nil {
		return fmt.Errorf("record in ingest ledger: %w", err)
	}
	return nil
}
