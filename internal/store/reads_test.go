package store

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/testenv"
)

// deadPool is a pool on a port nothing listens on: a replica that is down.
func deadPool(t *testing.T) *pgxpool.Pool {
	p, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=1")
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

func TestReadsWithoutReplica(t *testing.T) {
	ctx := context.Background()
	r, err := NewReads(testenv.Pool(t), nil, "")
	require.NoError(t, err)
	var one int
	require.NoError(t, r.QueryRow(ctx, "SELECT 1").Scan(&one))
	require.Equal(t, ReplicaStatus{Fallback: FallbackPrimary}, r.Status(ctx))
}

func TestReadsReplicaUp(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t)
	r, err := NewReads(deadPool(t), pool, FallbackNone)
	require.NoError(t, err)
	require.NoError(t, r.Ping(ctx), "reads go to the replica, not the (dead) primary")
	s := r.Status(ctx)
	require.True(t, s.Configured)
	require.True(t, s.Reachable)
	require.False(t, s.InRecovery, "the test server is a primary")
	require.Zero(t, s.LagSeconds)
	require.False(t, s.ReadingPrimary)
}

func TestReadsReplicaDown(t *testing.T) {
	ctx := context.Background()
	primary := testenv.Pool(t)

	r, err := NewReads(primary, deadPool(t), FallbackPrimary)
	require.NoError(t, err)
	rows, err := r.Query(ctx, "SELECT 1")
	require.NoError(t, err, "reads fall back to the primary")
	rows.Close()
	s := r.Status(ctx)
	require.False(t, s.Reachable)
	require.True(t, s.ReadingPrimary)
	require.NotEmpty(t, s.LastError)

	r, err = NewReads(primary, deadPool(t), FallbackNone)
	require.NoError(t, err)
	var one int
	err = r.QueryRow(ctx, "SELECT 1").Scan(&one)
	require.ErrorIs(t, err, ErrReplicaDown)
	require.ErrorContains(t, err, `127.0.0.1:1`)
	require.ErrorContains(t, err, `read fallback setting "none"`)
	require.False(t, r.Status(ctx).ReadingPrimary)

	_, err = NewReads(primary, nil, "sometimes")
	require.ErrorContains(t, err, "want one of primary, none")
}

// TestReadsRetryLostConnection: a replica connection killed under a query (57P01, as when the
// replica shuts down) is retried where reads go after a fresh check, not handed to the caller.
func TestReadsRetryLostConnection(t *testing.T) {
	ctx := context.Background()
	url := testenv.DatabaseURL(t)
	primary, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(primary.Close)
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	app := "sview-reads-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	cfg.ConnConfig.RuntimeParams["application_name"] = app
	replica, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(replica.Close)
	r, err := NewReads(primary, replica, FallbackNone)
	require.NoError(t, err)
	require.True(t, r.Status(ctx).Reachable)
	var killed int
	require.NoError(t, primary.QueryRow(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&killed))
	require.Positive(t, killed)
	var one int
	require.NoError(t, r.QueryRow(ctx, "SELECT 1").Scan(&one), "the broken connection is retried")
	require.Equal(t, 1, one)
}

func TestReplicaMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := RegisterReplicaMetrics(reg)
	require.NoError(t, err)
	again, err := RegisterReplicaMetrics(reg)
	require.NoError(t, err)
	require.Same(t, m, again, "a new datasource instance reuses the gauges")
	gauges := func() map[string]float64 {
		mfs, err := reg.Gather()
		require.NoError(t, err)
		out := map[string]float64{}
		for _, mf := range mfs {
			out[mf.GetName()] = mf.GetMetric()[0].GetGauge().GetValue()
		}
		return out
	}
	require.Empty(t, gauges(), "nothing attached, nothing reported")

	old, err := NewReads(testenv.Pool(t), deadPool(t), FallbackPrimary)
	require.NoError(t, err)
	m.Attach(old)
	require.Equal(t, map[string]float64{"sview_read_replica_up": 0, "sview_read_replica_lag_seconds": 0,
		"sview_read_replica_fallback_active": 1}, gauges())
	current, err := NewReads(testenv.Pool(t), testenv.Pool(t), FallbackPrimary)
	require.NoError(t, err)
	m.Attach(current)
	m.Detach(old) // the replaced instance is disposed after its successor attached
	require.Equal(t, 1.0, gauges()["sview_read_replica_up"])
	m.Detach(current)
	require.Empty(t, gauges())
}
