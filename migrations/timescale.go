package migrations

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// TimescaleState says whether a database runs on TimescaleDB, and if not, why.
type TimescaleState string

const (
	TimescaleInUse        TimescaleState = "in use"
	TimescaleNotPreloaded TimescaleState = "installed, not preloaded"
	TimescaleAbsent       TimescaleState = "not installed"
)

// Advice is what an operator should do about the state, or "" when nothing is wanted.
func (s TimescaleState) Advice() string {
	if s != TimescaleNotPreloaded {
		return ""
	}
	return "TimescaleDB is installed on this server but not preloaded, so sview uses plain PostgreSQL tables: " +
		"add timescaledb to shared_preload_libraries in postgresql.conf and restart the server before the first " +
		"`sview migrate up` (docs/timescaledb.md)"
}

// Timescale reads the state of the TimescaleDB extension in the database at databaseURL.
func Timescale(ctx context.Context, databaseURL string) (TimescaleState, error) {
	c, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	defer c.Close(ctx)
	var created, available, preloaded bool
	if err := c.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'),
		EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'),
		current_setting('shared_preload_libraries') LIKE '%timescaledb%'`).Scan(&created, &available, &preloaded); err != nil {
		return "", fmt.Errorf("read TimescaleDB state: %w", err)
	}
	switch {
	case created:
		return TimescaleInUse, nil
	case available && !preloaded:
		return TimescaleNotPreloaded, nil
	}
	return TimescaleAbsent, nil
}
