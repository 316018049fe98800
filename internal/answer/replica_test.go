package answer

import (
	"context"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/stats"
	"github.com/sview-project/sview/internal/store"
	"github.com/sview-project/sview/internal/testenv"
)

// fixedReplica reports a replica state, as store.Reads would.
type fixedReplica store.ReplicaStatus

func (f fixedReplica) Status(context.Context) store.ReplicaStatus { return store.ReplicaStatus(f) }

// TestLaggingReplica: a replica more than store.MaxReplicaLag behind is named on the stats
// answers; the status frames carry its state.
func TestLaggingReplica(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Pool(t)
	c, err := cache.Open(nil, cache.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	st := stats.New(stats.Config{DB: pool, Cache: c})
	q, err := query.Parse([]byte(`{"queryType":"stats","metric":"incidents","period":"1d"}`))
	require.NoError(t, err)
	status, err := query.Parse([]byte(`{"queryType":"status"}`))
	require.NoError(t, err)
	notices := func(frames data.Frames) []string {
		var out []string
		for _, n := range frames[0].Meta.Notices {
			out = append(out, n.Text)
		}
		return out
	}

	s := &Service{Stats: st, DB: pool, Replica: fixedReplica{Configured: true, Reachable: true, LagSeconds: 5}}
	frames, err := s.Frames(ctx, Request{Query: q, Range: period.Range{}})
	require.NoError(t, err)
	require.Empty(t, notices(frames), "a replica within MaxReplicaLag is not worth a notice")

	s.Replica = fixedReplica{Configured: true, Reachable: true, LagSeconds: 95}
	frames, err = s.Frames(ctx, Request{Query: q, Range: period.Range{}})
	require.NoError(t, err)
	require.Equal(t, []string{"Read from a replica 1m35s behind the primary: rows written since are not in this answer yet."}, notices(frames))

	frames, err = s.Frames(ctx, Request{Query: status, Range: period.Range{From: time.Now().Add(-time.Hour), To: time.Now()}})
	require.NoError(t, err)
	rf := frames[len(frames)-1]
	require.Equal(t, "read_replica", rf.Name)
	require.Equal(t, "up", rf.Fields[0].At(0), "replica_state")
	lag, ok := rf.Fields[1].ConcreteAt(0)
	require.True(t, ok)
	require.Equal(t, 95.0, lag)
	require.Equal(t, int64(1), rf.Fields[2].At(0), "replica_up")
	require.Equal(t, int64(0), rf.Fields[3].At(0), "reading_primary")

	s.Replica = fixedReplica{}
	frames, err = s.Frames(ctx, Request{Query: status, Range: period.Range{}})
	require.NoError(t, err)
	rf = frames[len(frames)-1]
	require.Equal(t, "not configured", rf.Fields[0].At(0), "System health says so rather than nothing")
	_, ok = rf.Fields[1].ConcreteAt(0)
	require.False(t, ok, "no lag without a replica")
	require.Equal(t, int64(1), rf.Fields[3].At(0), "every read goes to the primary")
}
