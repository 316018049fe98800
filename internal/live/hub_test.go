package live

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sview-project/sview/internal/demo"
	"github.com/sview-project/sview/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// listenerApp names the listener's session, so a test can find and kill it.
const listenerApp = "sview-live-test"

// setup makes a migrated database with two probes and a hub on it.
func setup(t *testing.T, cfg Config) (*pgxpool.Pool, *Hub) {
	t.Helper()
	url := testenv.DatabaseURL(t)
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = pool.Exec(context.Background(), `INSERT INTO identity (id, sn, device_token)
		VALUES (1, 'probe-one', repeat('a', 64)), (2, 'probe-two', repeat('b', 64))`)
	require.NoError(t, err)
	_, err = pool.Exec(context.Background(), `SELECT setval('identity_id_seq', 2)`) // for writers that add probes
	require.NoError(t, err)
	cfg.Conn, err = pgx.ParseConfig(url)
	require.NoError(t, err)
	cfg.Conn.RuntimeParams["application_name"] = listenerApp
	return pool, NewHub(cfg)
}

// started waits until the listener has made its first read, so rows inserted next are news.
func started(t *testing.T, h *Hub) {
	t.Helper()
	require.Eventually(t, func() bool { return h.Reads() > 0 }, 10*time.Second, 5*time.Millisecond)
}

// receive collects events from s until it has n or wait passes.
func receive(s *Subscription, n int, wait time.Duration) []Event {
	var got []Event
	deadline := time.After(wait)
	for len(got) < n {
		select {
		case b, ok := <-s.Events():
			if !ok {
				return got
			}
			got = append(got, b...)
		case <-deadline:
			return got
		}
	}
	return got
}

func insert(t *testing.T, pool *pgxpool.Pool, values string) {
	t.Helper()
	_, err := pool.Exec(context.Background(),
		`INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn) VALUES `+values)
	require.NoError(t, err)
}

func TestNotifiedRowsReachEverySubscriberOnce(t *testing.T) {
	// A poll far beyond the test: only the trigger's notifications can deliver in time.
	pool, h := setup(t, Config{Poll: time.Minute})
	_, err := pool.Exec(context.Background(), `INSERT INTO geo_prefixes (network, asn, country, as_name)
		VALUES ('192.0.2.0/24', 64500, 'CZ', 'EXAMPLE-NET')`)
	require.NoError(t, err)
	a, b := h.Subscribe(), h.Subscribe()
	defer a.Close()
	defer b.Close()
	started(t, h)

	insert(t, pool, `(now(), 1, 1, 'minipot_telnet', 'login', '192.0.2.1', 'CZ', 64500),
		(now(), 1, 1, 'minipot_telnet', 'login', '192.0.2.1', 'CZ', 64500),
		(now() + interval '1 ms', 3, 2, 'minipot_http', 'connect', '2001:db8::1', NULL, NULL)`)
	for _, s := range []*Subscription{a, b} {
		got := receive(s, 4, 1500*time.Millisecond) // one more than inserted: a duplicate would show
		require.Len(t, got, 3)
		require.Equal(t, "probe-one", got[0].Serial)
		require.Equal(t, "EXAMPLE-NET", got[0].ASName)
		require.Equal(t, "192.0.2.1", got[0].IP.String())
		require.Equal(t, got[0], got[1], "identical rows are each delivered")
		require.Equal(t, Event{Time: got[2].Time, IP: got[2].IP, Probe: 2, Serial: "probe-two",
			Trap: "minipot_http", Action: "connect", Count: 3}, got[2])
		require.Equal(t, "2001:db8::1", got[2].IP.String())
	}

	// COPY, as ingest writes: one notification for the statement, every row delivered.
	now := time.Now()
	rows := make([][]any, 500)
	for i := range rows {
		rows[i] = []any{now.Add(time.Duration(i) * time.Microsecond), int64(1), int64(1), "minipot_ftp", "login",
			fmt.Sprintf("198.51.100.%d", i%250), "DE", int64(64501)}
	}
	n, err := pool.CopyFrom(context.Background(), pgx.Identifier{"incidents"},
		[]string{"time", "raw_count", "identity_id", "trap", "action", "ip", "country", "asn"}, pgx.CopyFromRows(rows))
	require.NoError(t, err)
	require.EqualValues(t, 500, n)
	got := receive(a, 501, 1500*time.Millisecond)
	require.Len(t, got, 500)
	for i := 1; i < len(got); i++ {
		require.False(t, got[i].Time.Before(got[i-1].Time), "oldest first")
	}
	require.Len(t, receive(b, 501, 1500*time.Millisecond), 500)
	require.Equal(t, 1, countListeners(t, pool), "one listener for two subscribers")
}

func TestRowsOlderThanTheStartAreHistory(t *testing.T) {
	pool, h := setup(t, Config{Poll: 50 * time.Millisecond})
	insert(t, pool, `(now() - interval '1 second', 1, 1, 'minipot_telnet', 'login', '192.0.2.1', 'CZ', 64500)`)
	s := h.Subscribe()
	defer s.Close()
	started(t, h)
	require.Empty(t, receive(s, 1, 300*time.Millisecond))
}

func TestPollDeliversWithoutTheTrigger(t *testing.T) {
	pool, h := setup(t, Config{Poll: 100 * time.Millisecond})
	_, err := pool.Exec(context.Background(), `ALTER TABLE incidents DISABLE TRIGGER incidents_live_notify`)
	require.NoError(t, err)
	s := h.Subscribe()
	defer s.Close()
	started(t, h)
	insert(t, pool, `(now(), 1, 1, 'minipot_smtp', 'message', '203.0.113.7', 'FR', 64502)`)
	got := receive(s, 2, 2*time.Second)
	require.Len(t, got, 1)
	require.Equal(t, "203.0.113.7", got[0].IP.String())
	require.Greater(t, h.Reads(), int64(3), "a read every poll")
	require.EqualValues(t, 1, h.Connects(), "a wait that times out keeps the connection")
}

func TestListenerReconnectsAfterItsConnectionIsKilled(t *testing.T) {
	pool, h := setup(t, Config{Poll: time.Minute})
	s := h.Subscribe()
	defer s.Close()
	started(t, h)
	var killed int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM (SELECT pg_terminate_backend(pid)
		FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()) k`, listenerApp).Scan(&killed))
	require.Equal(t, 1, killed)
	// Written while the listener is down: its cursor survives, so the row arrives after reconnecting.
	insert(t, pool, `(now(), 1, 2, 'fwlogs', 'small_port_scan', '192.0.2.99', 'US', 64503)`)
	require.Eventually(t, func() bool { return h.Connects() >= 2 }, 10*time.Second, 10*time.Millisecond)
	insert(t, pool, `(now(), 1, 2, 'fwlogs', 'big_port_scan', '192.0.2.100', 'US', 64503)`)
	got := receive(s, 3, 5*time.Second)
	require.Len(t, got, 2)
	require.Equal(t, []string{"small_port_scan", "big_port_scan"}, []string{got[0].Action, got[1].Action})
}

func TestLastSubscriberStopsTheListener(t *testing.T) {
	pool, h := setup(t, Config{Poll: time.Minute})
	for round := range 3 { // each round starts and stops a listener again
		subs := []*Subscription{h.Subscribe(), h.Subscribe(), h.Subscribe()}
		// The server lists the connection before pgx hands it over and the hub counts it:
		// wait for both, or closing now would cancel a connect the count never saw.
		require.Eventually(t, func() bool { return countListeners(t, pool) == 1 && h.Connects() == int64(round+1) },
			5*time.Second, 10*time.Millisecond)
		for _, s := range subs {
			s.Close()
			s.Close() // twice is harmless
		}
		require.Equal(t, 0, h.Subscribers())
		require.Eventually(t, func() bool { return countListeners(t, pool) == 0 }, 5*time.Second, 10*time.Millisecond)
		_, open := <-subs[0].Events()
		require.False(t, open, "a closed subscription's channel is closed")
	}
	require.EqualValues(t, 3, h.Connects())
	// goleak (TestMain) checks that no listener goroutine is left.
}

func TestSlowSubscriberLosesBatchesNotTheOthers(t *testing.T) {
	pool, h := setup(t, Config{Poll: time.Minute})
	slow, fast := h.Subscribe(), h.Subscribe()
	defer slow.Close()
	defer fast.Close()
	started(t, h)
	var got []Event
	for i := range queued + 10 {
		insert(t, pool, fmt.Sprintf(`(now(), 1, 1, 'minipot_telnet', 'connect', '192.0.2.%d', 'CZ', 64500)`, i%250))
		got = append(got, receive(fast, 1, 3*time.Second)...) // one statement, one read, one batch
	}
	require.Len(t, got, queued+10)
	require.EqualValues(t, 10, slow.Lost())
	require.Zero(t, fast.Lost())
}

func countListeners(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, listenerApp).Scan(&n))
	return n
}

func TestDemoLiveReachesTheStream(t *testing.T) {
	pool, h := setup(t, Config{Poll: time.Minute})
	s := h.Subscribe()
	defer s.Close()
	started(t, h)

	ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
	defer cancel()
	res, err := demo.Live(ctx, pool, demo.LiveOptions{Rate: 300, Seed: 1, Probes: 20, Attackers: 200, Tick: 200 * time.Millisecond})
	require.NoError(t, err)
	require.Positive(t, res.Rows.Incidents)
	got := receive(s, int(res.Rows.Incidents)+1, 3*time.Second)
	require.Len(t, got, int(res.Rows.Incidents), "every incident demo live wrote, once")
	named := 0
	for _, e := range got {
		if e.ASName != "" {
			named++
		}
	}
	require.Positive(t, named, "the demo's geo prefixes name ASNs")
}
