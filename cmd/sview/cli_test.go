package main

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/testenv"
)

type cmdFunc = func(context.Context, *env, []string) error

// cli runs commands the way main does, on a freshly migrated database of the test's own, and
// captures what they print.
type cli struct {
	t              *testing.T
	ctx            context.Context
	url            string
	db             *pgx.Conn // for seeding and checking the database
	e              *env
	stdout, stderr bytes.Buffer
}

// newCLI prepares the database and runs seed on it (nothing when empty).
func newCLI(t *testing.T, seed string) *cli {
	t.Helper()
	c := &cli{t: t, ctx: context.Background(), url: testenv.DatabaseURL(t)}
	db, err := pgx.Connect(c.ctx, c.url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close(context.Background()) })
	if seed != "" {
		_, err := db.Exec(c.ctx, seed)
		require.NoError(t, err)
	}
	c.db = db
	c.e = &env{databaseURL: c.url, logger: slog.New(slog.DiscardHandler), stdout: &c.stdout, stderr: &c.stderr}
	return c
}

// call runs cmd with args on emptied output buffers.
func (c *cli) call(cmd cmdFunc, args ...string) error {
	c.stdout.Reset()
	c.stderr.Reset()
	return cmd(c.ctx, c.e, args)
}

// run is call for a command that must succeed; it returns the command's stdout.
func (c *cli) run(cmd cmdFunc, args ...string) string {
	c.t.Helper()
	require.NoError(c.t, c.call(cmd, args...), c.stderr.String())
	return c.stdout.String()
}
