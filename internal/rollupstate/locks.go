package rollupstate

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Writers coordinate with row locks on sview_locks (migration 000048), not advisory locks:
// any role may take an advisory lock, so the Grafana credential could stall ingest and
// rollups. Locking a row (SELECT … FOR UPDATE / FOR SHARE) needs UPDATE on the table, which
// sview_reader lacks. A lock is named by the same (class, key) pair the advisory locks had.

// More lock classes, besides the rollup ones.
const (
	// ClassLeak is the leak builder's (object 0): shared by writers of passwords in their
	// late-row trigger, exclusive while the builder reads raw rows.
	ClassLeak int32 = 1279607115 // 'LEAK'
	// ClassGreylist is the greylist builder's and importer's (object 0).
	ClassGreylist int32 = 1196574028 // 'GREL'
	// ClassLedger is per ingest ledger entry (object = entry id), held while a process reads it.
	ClassLedger int32 = 0x5f1e
)

// lockAppName marks the connection holding a session lock in pg_stat_activity, which is how
// Locks finds it: a row lock leaves nothing in pg_locks that names the row.
const lockAppName = "sview-lock"

// XactLock takes the lock (class, key) until tx ends: exclusively, or shared with the other
// shared holders. The lock's row is created on first use.
func XactLock(ctx context.Context, tx Querier, class, key int32, shared bool) error {
	if err := ensureLockRow(ctx, tx, class, key); err != nil {
		return err
	}
	mode := "UPDATE"
	if shared {
		mode = "SHARE"
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM sview_locks WHERE class = $1 AND key = $2 FOR `+mode, class, key); err != nil {
		return fmt.Errorf("take lock %d/%d: %w", class, key, err)
	}
	return nil
}

func ensureLockRow(ctx context.Context, q Querier, class, key int32) error {
	if _, err := q.Exec(ctx, `INSERT INTO sview_locks (class, key) VALUES ($1, $2) ON CONFLICT DO NOTHING`, class, key); err != nil {
		return fmt.Errorf("create lock %d/%d: %w", class, key, err)
	}
	return nil
}

// Held is a session lock: an open transaction on a connection of its own, so the holder's
// other transactions commit freely, and a dead holder's lock goes with its connection.
type Held struct {
	conn *pgx.Conn
}

// Hold takes the lock (class, key) exclusively on a new connection made from cfg. Without
// wait it gives up at once when another session holds it (ok false).
func Hold(ctx context.Context, cfg *pgx.ConnConfig, class, key int32, wait bool) (_ *Held, ok bool, err error) {
	cfg = cfg.Copy()
	cfg.RuntimeParams["application_name"] = fmt.Sprintf("%s %d/%d", lockAppName, class, key)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, false, fmt.Errorf("connect to hold lock %d/%d: %w", class, key, err)
	}
	defer func() {
		if !ok {
			_ = conn.Close(context.WithoutCancel(ctx))
		}
	}()
	if err := ensureLockRow(ctx, conn, class, key); err != nil {
		return nil, false, err
	}
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		return nil, false, fmt.Errorf("hold lock %d/%d: %w", class, key, err)
	}
	sql := `SELECT 1 FROM sview_locks WHERE class = $1 AND key = $2 FOR UPDATE`
	if !wait {
		sql += " NOWAIT"
	}
	_, err = conn.Exec(ctx, sql, class, key)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "55P03": // lock_not_available
		// The backend outlives the close for a moment: drop the name first, so Locks never
		// lists a session that did not get the lock.
		if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
			return nil, false, fmt.Errorf("give up lock %d/%d: %w", class, key, err)
		}
		if _, err := conn.Exec(ctx, "SET application_name = ''"); err != nil {
			return nil, false, fmt.Errorf("give up lock %d/%d: %w", class, key, err)
		}
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("hold lock %d/%d: %w", class, key, err)
	}
	return &Held{conn: conn}, true, nil
}

// Release drops the lock. The backend outlives the closed socket for a moment, so the
// transaction is ended and the name dropped first, as when Hold gives up: a successor trying at
// once gets the lock, and Locks no longer lists the session.
func (h *Held) Release(ctx context.Context) {
	if _, err := h.conn.Exec(ctx, "ROLLBACK"); err == nil { // a broken connection drops the lock with it
		_, _ = h.conn.Exec(ctx, "SET application_name = ''")
	}
	_ = h.conn.Close(ctx)
}
