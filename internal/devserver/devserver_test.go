package devserver_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sview-project/sview/internal/devserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The fallback `go tool mage test` uses on a machine without running servers: start from the
// system binaries on a free port, serve, stop, and leave nothing listening.
func TestPostgresStartStop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	port, err := devserver.FreePort()
	require.NoError(t, err)
	s, err := devserver.Postgres(ctx, t.TempDir(), port)
	require.NoError(t, err)
	c, err := pgx.Connect(ctx, s.URL)
	require.NoError(t, err)
	var one int
	require.NoError(t, c.QueryRow(ctx, "SELECT 1").Scan(&one))
	require.Equal(t, 1, one)
	require.NoError(t, c.Close(ctx))
	require.NoError(t, s.Stop())
	require.False(t, devserver.Answers(fmt.Sprintf("127.0.0.1:%d", port)))
}

// The TimescaleDB pass of `go tool mage test` on a machine without one configured.
func TestTimescaleStartStop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pgroot, err := devserver.PGRoot("../..")
	require.NoError(t, err)
	port, err := devserver.FreePort()
	require.NoError(t, err)
	s, err := devserver.Timescale(ctx, t.TempDir(), port, pgroot)
	require.NoError(t, err)
	c, err := pgx.Connect(ctx, s.URL)
	require.NoError(t, err)
	_, err = c.Exec(ctx, "CREATE EXTENSION timescaledb")
	require.NoError(t, err, "the extension loads only when preloaded")
	var version string
	require.NoError(t, c.QueryRow(ctx, "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").Scan(&version))
	require.NotEmpty(t, version)
	require.NoError(t, c.Close(ctx))
	require.NoError(t, s.Stop())
	require.False(t, devserver.Answers(fmt.Sprintf("127.0.0.1:%d", port)))
}

func TestRedisStartStop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	port, err := devserver.FreePort()
	require.NoError(t, err)
	s, err := devserver.Redis(ctx, t.TempDir(), port)
	require.NoError(t, err)
	opts, err := redis.ParseURL(s.URL)
	require.NoError(t, err)
	c := redis.NewClient(opts)
	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	require.Equal(t, "v", c.Get(ctx, "k").Val())
	require.NoError(t, c.Close())
	require.NoError(t, s.Stop())
	require.False(t, devserver.Answers(fmt.Sprintf("127.0.0.1:%d", port)))
}
