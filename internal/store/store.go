// Package store opens PostgreSQL connection pools configured for sview.
package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Open connects a pool to databaseURL and checks that the server answers. applicationName
// shows up in pg_stat_activity, so operators can tell the aggregator from the plugin.
func Open(ctx context.Context, databaseURL, applicationName string) (*pgxpool.Pool, error) {
	pool, err := OpenUnchecked(ctx, databaseURL, applicationName)
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to %s: %w", pool.Config().ConnConfig.Host, err)
	}
	return pool, nil
}

// OpenUnchecked is Open without the first connection, for a read replica that may be down
// when the process starts (Reads then falls back or explains).
func OpenUnchecked(ctx context.Context, databaseURL, applicationName string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	if applicationName != "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = applicationName
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("create pool: %w", err)
	}
	return pool, nil
}
