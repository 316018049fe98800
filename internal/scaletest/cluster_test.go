package scaletest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/devserver"
	"github.com/sview-project/sview/internal/pluginharness"
	"github.com/sview-project/sview/internal/testenv"
	"github.com/sview-project/sview/plugin/pkg/plugin"
)

// clusterNode is one redis-server in cluster mode; its directory keeps nodes.conf, so a
// restarted node rejoins with its slots.
type clusterNode struct {
	port int
	dir  string
	proc *process
}

func (n *clusterNode) addr() string { return "127.0.0.1:" + strconv.Itoa(n.port) }

func (n *clusterNode) start(t *testing.T) {
	n.proc = start(t, filepath.Join(n.dir, "stdout.log"), nil, "redis-server",
		"--bind", "127.0.0.1", "--port", strconv.Itoa(n.port), "--dir", n.dir,
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000",
		"--save", "", "--appendonly", "no", "--logfile", filepath.Join(n.dir, "redis.log"))
	deadline := time.Now().Add(20 * time.Second)
	for !devserver.Answers(n.addr()) {
		require.True(t, time.Now().Before(deadline), "redis-server on %s did not start:\n%s", n.addr(), n.proc.Tail())
		time.Sleep(50 * time.Millisecond)
	}
}

// startCluster starts three masters on free loopback ports and joins them with redis-cli.
func startCluster(t *testing.T) []*clusterNode {
	var nodes []*clusterNode
	var addrs []string
	for i := range 3 {
		port, err := devserver.FreePort()
		require.NoError(t, err)
		n := &clusterNode{port: port, dir: filepath.Join(t.TempDir(), fmt.Sprintf("node%d", i))}
		require.NoError(t, mkdir(n.dir))
		n.start(t)
		nodes = append(nodes, n)
		addrs = append(addrs, n.addr())
	}
	out, err := exec.Command("redis-cli", append([]string{"--cluster", "create"}, append(addrs, "--cluster-replicas", "0", "--cluster-yes")...)...).CombinedOutput() // #nosec G204 -- the system's redis-cli on our own nodes
	require.NoError(t, err, "%s", out)
	waitClusterOK(t, nodes, 30*time.Second)
	return nodes
}

// waitClusterOK waits until every running node reports cluster_state:ok and returns how long
// that took.
func waitClusterOK(t *testing.T, nodes []*clusterNode, limit time.Duration) time.Duration {
	t0 := time.Now()
	for {
		ok := true
		for _, n := range nodes {
			c := redis.NewClient(&redis.Options{Addr: n.addr(), DialTimeout: time.Second})
			info, err := c.ClusterInfo(context.Background()).Result()
			_ = c.Close()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				ok = false
			}
		}
		if ok {
			return time.Since(t0)
		}
		require.Less(t, time.Since(t0), limit, "the Redis Cluster did not reach cluster_state:ok")
		time.Sleep(100 * time.Millisecond)
	}
}

// counterValue reads a counter (summed over labels) from a registry.
func counterValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	mfs, err := g.Gather()
	require.NoError(t, err)
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += counterOf(m)
		}
	}
	return sum
}

func counterOf(m *dto.Metric) float64 {
	if m.GetCounter() != nil {
		return m.GetCounter().GetValue()
	}
	return 0
}

const clusterQuery = `{"queryType":"stats","preset":"top_countries_by_attackers_graph","period":"1y"}`

// TestRedisCluster: four plugin instances and one `sview serve` share a three-master Redis
// Cluster. 100 identical cold queries spread over them cost one database computation; with a
// master killed they keep answering (degraded, from the in-process fallback or PostgreSQL) and
// recover when it is back, with no failed query.
func TestRedisCluster(t *testing.T) {
	enabled(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	nodes := startCluster(t)
	var seeds []string
	for _, n := range nodes {
		seeds = append(seeds, n.addr())
	}
	dbURL := testenv.DatabaseURL(t)
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, pluginharness.Seed(ctx, pool))
	dbCfg := pool.Config().ConnConfig
	prefix := testenv.KeyPrefix(t)

	// Four plugin instances, as four Grafana servers would run them.
	jsonData, err := json.Marshal(map[string]any{"host": dbCfg.Host, "port": dbCfg.Port, "database": dbCfg.Database,
		"user": dbCfg.User, "sslMode": "disable", "redisAddress": strings.Join(seeds, ","), "redisMode": "cluster",
		"redisKeyPrefix": prefix})
	require.NoError(t, err)
	set, err := plugin.LoadSettings(ctx, backend.DataSourceInstanceSettings{JSONData: jsonData})
	require.NoError(t, err)
	var instances []*plugin.Datasource
	var regs []*prometheus.Registry
	for range 4 {
		reg := prometheus.NewRegistry()
		d, err := plugin.New(set, log.DefaultLogger, reg)
		require.NoError(t, err)
		t.Cleanup(d.Dispose)
		instances, regs = append(instances, d), append(regs, reg)
	}
	// And `sview serve` on the same cluster.
	port, err := devserver.FreePort()
	require.NoError(t, err)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	serve := start(t, filepath.Join(t.TempDir(), "serve.log"), []string{"SVIEW_DATABASE_URL=" + dbURL,
		"SVIEW_REDIS_URL=redis://" + seeds[0] + "?mode=cluster&addr=" + seeds[1] + "&addr=" + seeds[2] + "&key_prefix=" + prefix},
		sviewBinary(t), "serve", "--listen", "127.0.0.1:"+strconv.Itoa(port), "--rate", "-1")
	waitHTTP(t, base+"/healthz", serve)

	computations := func() float64 {
		n := metric(t, base+"/metrics", "sview_cache_computations_total")
		for _, r := range regs {
			n += counterValue(t, r, "sview_cache_computations_total")
		}
		return n
	}
	// ask sends the query to client i of 5 (four plugins, then serve) and returns whether it
	// was answered with frames and the cache state it reports.
	ask := func(i int) (string, error) {
		if i%5 < 4 {
			resp, err := instances[i%5].QueryData(ctx, &backend.QueryDataRequest{Queries: []backend.DataQuery{{RefID: "A",
				JSON: json.RawMessage(clusterQuery), Interval: time.Hour, TimeRange: backend.TimeRange{From: pluginharness.SeedFrom, To: pluginharness.SeedTo}}}})
			if err != nil {
				return "", err
			}
			dr := resp.Responses["A"]
			if dr.Error != nil {
				return "", dr.Error
			}
			if len(dr.Frames) == 0 {
				return "", fmt.Errorf("plugin %d: no frames", i%5)
			}
			state := ""
			if m, ok := dr.Frames[0].Meta.Custom.(map[string]any); ok {
				state, _ = m["cache"].(string)
			}
			return state, nil
		}
		resp, err := http.Post(base+"/api/query", "application/json", strings.NewReader(`{"queries":[`+
			strings.TrimSuffix(clusterQuery, "}")+`,"refId":"A"}]}`))
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"frames"`) {
			return "", fmt.Errorf("serve: %d %s", resp.StatusCode, body)
		}
		return "", nil
	}
	burst := func(n int) (failed int64, states map[string]int) {
		var wg sync.WaitGroup
		var f atomic.Int64
		var mu sync.Mutex
		states = map[string]int{}
		for i := range n {
			wg.Go(func() {
				s, err := ask(i)
				if err != nil {
					f.Add(1)
					t.Logf("query %d failed: %v", i, err)
					return
				}
				mu.Lock()
				states[s]++
				mu.Unlock()
			})
		}
		wg.Wait()
		return f.Load(), states
	}

	before := computations()
	t0 := time.Now()
	failed, _ := burst(100)
	cold := computations() - before
	require.Zero(t, failed)
	require.Equal(t, 1.0, cold, "100 identical cold queries over 4 plugins and serve cost one computation")
	figure(t, "cold stampede", "100 identical cold queries over 4 plugin instances + sview serve: %.0f database computation(s), %s wall", cold, time.Since(t0).Round(time.Millisecond))

	// Kill the master that holds the query's slot, so the outage meets it.
	slotOwner := ownerOfPrefix(t, nodes, prefix)
	victim := nodes[slotOwner]
	victim.proc.Kill()
	killed := time.Now()
	before = computations()
	var total, fails int64
	degraded := 0
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f, states := burst(25)
		total += 25
		fails += f
		degraded += states["degraded"]
		time.Sleep(100 * time.Millisecond)
	}
	outage := computations() - before
	require.Zero(t, fails, "no panel query fails while a master is down")
	require.Positive(t, degraded, "the plugins say they answer degraded")
	figure(t, "master killed", "%d queries in the 5 s after killing master %s: %d failed, %d answered degraded by the plugins, %.0f database computation(s) (in-process fallback)",
		total, victim.addr(), fails, degraded, outage)

	victim.start(t)
	rejoin := waitClusterOK(t, nodes, time.Minute)
	var recovered time.Duration
	for time.Since(killed) < 2*time.Minute {
		f, states := burst(5)
		require.Zero(t, f)
		if states["degraded"] == 0 {
			recovered = time.Since(killed)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.NotZero(t, recovered, "the plugins leave degraded mode once the master is back")
	figure(t, "master restarted", "cluster_state ok %s after the restart; plugins answered from the cluster again %s after the kill; 0 failed queries throughout",
		rejoin.Round(time.Millisecond), recovered.Round(time.Millisecond))
}

// ownerOfPrefix finds the node serving the slot of a key under prefix: every answer's key
// carries a hash tag of its own, so any one key stands for "a slot we use"; the test kills the
// node of the stampede query's slot, found from the keys the cluster holds.
func ownerOfPrefix(t *testing.T, nodes []*clusterNode, prefix string) int {
	for i, n := range nodes {
		c := redis.NewClient(&redis.Options{Addr: n.addr()})
		keys, err := c.Keys(context.Background(), prefix+"*").Result()
		_ = c.Close()
		require.NoError(t, err)
		if len(keys) > 0 {
			return i
		}
	}
	t.Fatal("no node holds the query's key")
	return 0
}
