package ingest

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sview-project/sview/internal/rollupstate"
)

// ledgerEntry is one row of ingest_ledger: a file content (sha256 set) or a followed path
// (sha256 NULL), with how far it has been read.
type ledgerEntry struct {
	ID       int64
	Offset   int64
	Lines    int64
	OK       int64
	Bad      int64
	State    []byte
	HeadLen  int
	HeadSHA  []byte
	Finished bool
}

const ledgerColumns = "id, offset_bytes, lines, lines_ok, lines_bad, state, head_len, head_sha256, finished_at IS NOT NULL"

func scanLedger(row pgx.Row) (ledgerEntry, error) {
	var e ledgerEntry
	err := row.Scan(&e.ID, &e.Offset, &e.Lines, &e.OK, &e.Bad, &e.State, &e.HeadLen, &e.HeadSHA, &e.Finished)
	return e, err
}

// claimContent finds or creates the ledger row of a file's content.
func claimContent(ctx context.Context, conn *pgxpool.Conn, format, source string, sum []byte) (ledgerEntry, error) {
	e, err := scanLedger(conn.QueryRow(ctx, `
		INSERT INTO ingest_ledger (format, source, sha256) VALUES ($1, $2, $3)
		ON CONFLICT (format, sha256) WHERE sha256 IS NOT NULL DO NOTHING
		RETURNING `+ledgerColumns, format, source, sum))
	if errors.Is(err, pgx.ErrNoRows) {
		e, err = scanLedger(conn.QueryRow(ctx,
			`SELECT `+ledgerColumns+` FROM ingest_ledger WHERE format = $1 AND sha256 = $2`, format, sum))
	}
	if err != nil {
		return e, fmt.Errorf("ingest ledger: %w", err)
	}
	return e, nil
}

// claimFollow finds or creates the ledger row of a followed path.
func claimFollow(ctx context.Context, conn *pgxpool.Conn, format, source string) (ledgerEntry, error) {
	e, err := scanLedger(conn.QueryRow(ctx, `
		INSERT INTO ingest_ledger (format, source) VALUES ($1, $2)
		ON CONFLICT (format, source) WHERE sha256 IS NULL DO NOTHING
		RETURNING `+ledgerColumns, format, source))
	if errors.Is(err, pgx.ErrNoRows) {
		e, err = scanLedger(conn.QueryRow(ctx,
			`SELECT `+ledgerColumns+` FROM ingest_ledger WHERE format = $1 AND source = $2 AND sha256 IS NULL`, format, source))
	}
	if err != nil {
		return e, fmt.Errorf("ingest ledger: %w", err)
	}
	return e, nil
}

// previousPrefix is an earlier, finished import from the same source: if the current content
// starts with the bytes it covered, only the rest is new.
type previousPrefix struct {
	Offset int64
	Lines  int64
	SHA    []byte
}

func finishedFromSource(ctx context.Context, conn *pgxpool.Conn, format, source string) ([]previousPrefix, error) {
	rows, err := conn.Query(ctx, `
		SELECT offset_bytes, lines, sha256 FROM ingest_ledger
		WHERE format = $1 AND source = $2 AND sha256 IS NOT NULL AND finished_at IS NOT NULL AND offset_bytes > 0
		ORDER BY offset_bytes DESC LIMIT 20`, format, source)
	if err != nil {
		return nil, fmt.Errorf("ingest ledger: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (previousPrefix, error) {
		var p previousPrefix
		return p, r.Scan(&p.Offset, &p.Lines, &p.SHA)
	})
	if err != nil {
		return nil, fmt.Errorf("ingest ledger: %w", err)
	}
	return out, nil
}

// lockEntry keeps two processes from reading the same ledger entry at once; ok is false when
// another holds it.
func lockEntry(ctx context.Context, conn *pgxpool.Conn, id int64) (held *rollupstate.Held, ok bool, err error) {
	held, ok, err = rollupstate.Hold(ctx, conn.Conn().Config(), rollupstate.ClassLedger, int32(id), false) // #nosec G115 -- ledger ids are a sequence far below 2^31
	if err != nil {
		return nil, false, fmt.Errorf("lock ingest ledger entry: %w", err)
	}
	return held, ok, nil
}

// checkpoint records progress in the transaction that wrote the rows it covers.
func checkpoint(ctx context.Context, tx pgx.Tx, e ledgerEntry) error {
	_, err := tx.Exec(ctx, `
		UPDATE ingest_ledger SET offset_bytes = $2, lines = $3, lines_ok = $4, lines_bad = $5, state = $6,
			head_len = $7, head_sha256 = $8, updated_at = now()
		WHERE id = $1`, e.ID, e.Offset, e.Lines, e.OK, e.Bad, nullJSON(e.State), e.HeadLen, e.HeadSHA)
	if err != nil {
		return fmt.Errorf("ingest ledger checkpoint: %w", err)
	}
	return nil
}

func finishEntry(ctx context.Context, conn *pgxpool.Conn, id int64) error {
	if _, err := conn.Exec(ctx, "UPDATE ingest_ledger SET finished_at = now(), state = NULL, updated_at = now() WHERE id = $1", id); err != nil {
		return fmt.Errorf("ingest ledger: %w", err)
	}
	return nil
}

func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
