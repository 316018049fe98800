package demo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/demo"
	"github.com/sview-project/sview/internal/geo"
	"github.com/sview-project/sview/internal/ingest"
	"github.com/sview-project/sview/internal/testenv"
)

var end = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func digest(t *testing.T, opts demo.Options) ([]byte, ingest.Counts) {
	t.Helper()
	hi, hp, hr, hc, hf := sha256.New(), sha256.New(), sha256.New(), sha256.New(), sha256.New()
	var c ingest.Counts
	_, err := demo.Generate(opts, func(b *ingest.Batch) error {
		for _, r := range b.Incidents {
			fmt.Fprintf(hi, "i%d|%d|%s|%s|%s|%s|%d\n", r.Time.UnixMicro(), r.Identity, r.Trap, r.Action, r.IP, r.Country, r.ASN)
		}
		for _, r := range b.Passwords {
			fmt.Fprintf(hp, "p%d|%d|%q|%q|%s|%s\n", r.Time.UnixMicro(), r.Identity, r.Username, r.Password, r.Trap, r.IP)
		}
		for _, r := range b.Ports {
			fmt.Fprintf(hr, "r%d|%d|%d|%s|%s\n", r.Time.UnixMicro(), r.Identity, r.Port, r.Protocol, r.IP)
		}
		for _, r := range b.Commands {
			fmt.Fprintf(hc, "c%d|%d|%q|%s\n", r.Time.UnixMicro(), r.Identity, r.Command, r.IP)
		}
		for _, r := range b.FeedEvents {
			fmt.Fprintf(hf, "f%d|%d|%s|%s|%s|%s|%s|%s|%s|%d\n", r.Time.UnixMicro(), r.Count, r.Provider, r.Feed,
				r.Taxonomy, r.Type, r.Identifier, r.IP, r.Country, r.ASN)
		}
		c = c.Add(ingest.Counts{Incidents: int64(len(b.Incidents)), Passwords: int64(len(b.Passwords)), Ports: int64(len(b.Ports)),
			Commands: int64(len(b.Commands)), FeedEvents: int64(len(b.FeedEvents))})
		return nil
	})
	require.NoError(t, err)
	return slices.Concat(hi.Sum(nil), hp.Sum(nil), hr.Sum(nil), hc.Sum(nil), hf.Sum(nil)), c
}

func TestGenerateIsDeterministic(t *testing.T) {
	t.Parallel()
	opts := demo.Options{Days: 2, PerDay: 5000, Seed: 42, End: end}
	a, ca := digest(t, opts)
	opts.Batch = 777 // batching changes nothing but the cut points
	b, cb := digest(t, opts)
	require.Equal(t, a, b)
	require.Equal(t, ca, cb)
	require.EqualValues(t, 10000, ca.Incidents, "per-day counts incidents exactly")
	require.EqualValues(t, 10000/demo.FeedEventsPer, ca.FeedEvents, "one feed event per FeedEventsPer incidents")
	require.Positive(t, ca.Commands)
	opts.Seed = 43
	c, _ := digest(t, opts)
	require.NotEqual(t, a, c)
}

func TestShape(t *testing.T) {
	t.Parallel()
	opts := demo.Options{Days: 7, PerDay: 20000, Seed: 7, End: end}
	perIP := map[netip.Addr]int{}
	probesOf := map[netip.Addr]map[int64]bool{}
	seen := map[string]bool{}
	hours := make([]int, 24)
	ports := map[int32]int{}
	passwords := map[string]int{}
	type sessKey struct {
		ip    netip.Addr
		probe int64
		slot  int64 // 30-minute slot
	}
	logins := map[sessKey]int{}
	var incidents []ingest.Incident
	var feedEvents []ingest.FeedEvent
	haasSessions := map[sessKey]bool{} // HaaS logins by IP, probe and half hour
	var commands []ingest.Command
	n, err := demo.Generate(opts, func(b *ingest.Batch) error {
		for _, r := range b.Incidents {
			perIP[r.IP]++
			if probesOf[r.IP] == nil {
				probesOf[r.IP] = map[int64]bool{}
			}
			probesOf[r.IP][r.Identity] = true
			seen[r.Trap+"/"+r.Action] = true
			seen[r.Trap] = true
			seen[r.Action] = true
			hours[r.Time.UTC().Hour()]++
			if r.Action == "login" {
				logins[sessKey{r.IP, r.Identity, r.Time.Unix() / 1800}]++
				if r.Trap == "haas" {
					haasSessions[sessKey{r.IP, r.Identity, r.Time.Unix() / 1800}] = true
				}
			}
			require.True(t, !r.Time.Before(end.Add(-7*24*time.Hour)) && r.Time.Before(end), r.Time)
			incidents = append(incidents, r)
		}
		for _, r := range b.Ports {
			ports[r.Port]++
		}
		for _, r := range b.Passwords {
			passwords[r.Password]++
			require.NotEmpty(t, r.Trap)
			require.True(t, r.IP.IsValid())
		}
		feedEvents = append(feedEvents, b.FeedEvents...)
		commands = append(commands, b.Commands...)
		return nil
	})
	require.NoError(t, err)

	// Commands follow HaaS logins of the same attacker on the same probe (in that half hour or
	// the next), and are what bots type, the reconnaissance script first.
	require.NotEmpty(t, commands)
	typed := map[string]int{}
	for _, c := range commands {
		slot := c.Time.Unix() / 1800
		require.True(t, haasSessions[sessKey{c.IP, c.Identity, slot}] || haasSessions[sessKey{c.IP, c.Identity, slot - 1}], c)
		require.LessOrEqual(t, len(c.Command), ingest.MaxCredentialBytes)
		typed[c.Command]++
	}
	require.Greater(t, typed["uname -a"], typed["/ip cloud print"])

	// Feed events: about one per FeedEventsPer incidents, classified as IntelMQ does, over the
	// attackers the probes see, in several feeds and taxonomies.
	require.Len(t, feedEvents, 7*20000/demo.FeedEventsPer)
	taxonomies, feedNames := map[string]bool{}, map[string]bool{}
	seenByProbes := 0
	for _, f := range feedEvents {
		tax, ok := ingest.TaxonomyOf(f.Type)
		require.True(t, ok, f.Type)
		require.Equal(t, tax, f.Taxonomy, f.Type)
		require.Positive(t, f.Count)
		require.True(t, !f.Time.Before(end.Add(-7*24*time.Hour)) && f.Time.Before(end), f.Time)
		if perIP[f.IP] > 0 {
			seenByProbes++
		}
		taxonomies[f.Taxonomy] = true
		feedNames[f.Provider+"/"+f.Feed] = true
	}
	t.Logf("%d of %d feed events report an attacker the probes saw", seenByProbes, len(feedEvents))
	require.Greater(t, seenByProbes, len(feedEvents)*8/10, "feeds report the attackers the probes see")
	require.GreaterOrEqual(t, len(taxonomies), 5)
	require.GreaterOrEqual(t, len(feedNames), 5)

	// Every trap and action.
	for _, s := range []string{"minipot_telnet", "minipot_ftp", "minipot_smtp", "minipot_http", "fwlogs", "faillogs", "haas",
		"connect", "login", "message", "invalid", "small_port_scan", "big_port_scan"} {
		require.True(t, seen[s], s)
	}

	// A few IPs do most of the work.
	counts := make([]int, 0, len(perIP))
	total := 0
	for _, c := range perIP {
		counts = append(counts, c)
		total += c
	}
	sort.Sort(sort.Reverse(sort.IntSlice(counts)))
	top := 0
	for _, c := range counts[:max(1, len(counts)/100)] {
		top += c
	}
	share := float64(top) / float64(total)
	t.Logf("%d attacker IPs; the top 1%% did %.0f%% of %d incidents", len(counts), 100*share, total)
	require.Greater(t, share, 0.25)

	// Busy attackers reach many probes.
	type ipc struct {
		ip netip.Addr
		n  int
	}
	var busy []ipc
	for ip, c := range perIP {
		busy = append(busy, ipc{ip, c})
	}
	sort.Slice(busy, func(i, j int) bool { return busy[i].n > busy[j].n })
	busy = busy[:len(busy)/10]
	var reach []int
	for _, b := range busy {
		reach = append(reach, len(probesOf[b.ip]))
	}
	slices.Sort(reach)
	t.Logf("the busiest 10%% of attackers reach a median of %d probes", reach[len(reach)/2])
	require.GreaterOrEqual(t, reach[len(reach)/2], 10)

	// Sessions: one IP hammering one probe with dozens of logins within half an hour.
	hammer := 0
	for _, c := range logins {
		if c >= 50 {
			hammer++
		}
	}
	require.Greater(t, hammer, 20)

	// A daily cycle.
	lo, hi := slices.Min(hours), slices.Max(hours)
	t.Logf("busiest hour %d incidents, quietest %d", hi, lo)
	require.Greater(t, float64(hi)/float64(lo), 1.5)

	// Realistic ports and long-tailed passwords.
	for _, p := range []int32{22, 23, 80, 443, 445, 3389, 8080} {
		require.Positive(t, ports[p], p)
	}
	require.Greater(t, ports[23], ports[3389])
	var pw []int
	for _, c := range passwords {
		pw = append(pw, c)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(pw)))
	require.Greater(t, pw[0], 50*pw[len(pw)/2], "the most popular password dwarfs the median one")
	ones := 0
	for _, c := range pw {
		if c == 1 {
			ones++
		}
	}
	require.Greater(t, ones, len(pw)/3, "a long tail of passwords seen once")

	// Probes carry valid device tokens; countries and ASNs match the bundled prefixes.
	require.Len(t, n.Probes, demo.DefaultProbes)
	for _, p := range n.Probes {
		require.True(t, ingest.TokenCRCValid(p.Token), p.Token)
		require.Len(t, p.SN, 16)
	}
	var prefixes []geo.Prefix
	_, err = geo.Parse(bytes.NewReader(demo.GeoTSV), 1, func(_ int64, r geo.Record) error {
		for _, p := range geo.RangeToPrefixes(r.Start, r.End) {
			prefixes = append(prefixes, geo.Prefix{Network: p, Info: geo.Info{ASN: r.ASN, Country: r.Country}})
		}
		return nil
	})
	require.NoError(t, err)
	tab := geo.NewTable(prefixes)
	v6 := 0
	for _, r := range incidents[:5000] {
		info, ok := tab.Lookup(r.IP)
		require.True(t, ok, r.IP)
		require.Equal(t, geo.Info{ASN: r.ASN, Country: r.Country}, info, r.IP)
	}
	for ip := range perIP {
		if ip.Is6() {
			v6++
		}
	}
	require.Positive(t, v6, "a few attackers use IPv6")
}

func TestSeedIntoDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	opts := demo.Options{Days: 2, PerDay: 3000, Seed: 5, End: end, Batch: 1000}
	var sums [2]string
	for i := range sums {
		pool := testenv.Pool(t)
		res, err := demo.Seed(ctx, pool, opts)
		require.NoError(t, err)
		require.EqualValues(t, 6000, res.Rows.Incidents)
		require.Positive(t, res.Rows.Passwords)
		require.Positive(t, res.Rows.Ports)
		require.Positive(t, res.Rows.Commands)
		require.EqualValues(t, 6000/demo.FeedEventsPer, res.Rows.FeedEvents)
		require.Positive(t, res.GeoPrefixes)
		var n int64
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM identity").Scan(&n))
		require.EqualValues(t, demo.DefaultProbes, n)
		var perDay []int64
		rows, err := pool.Query(ctx, `SELECT count(*) FROM incidents
			GROUP BY floor(extract(epoch FROM $1::timestamptz - time) / 86400) ORDER BY 1`, end)
		require.NoError(t, err)
		for rows.Next() {
			var c int64
			require.NoError(t, rows.Scan(&c))
			perDay = append(perDay, c)
		}
		require.NoError(t, rows.Err())
		require.Equal(t, []int64{3000, 3000}, perDay)
		// Enrichment agrees with the geo prefixes the seed loaded.
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM incidents i
			WHERE i.asn IS DISTINCT FROM (SELECT asn FROM geo_lookup(i.ip))`).Scan(&n))
		require.Zero(t, n)
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM feed_events").Scan(&n))
		require.Equal(t, res.Rows.FeedEvents, n)
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM commands c JOIN identity s ON s.id = c.identity_id").Scan(&n))
		require.Equal(t, res.Rows.Commands, n)
		require.NoError(t, pool.QueryRow(ctx, `SELECT md5(string_agg(concat_ws('|', time, s.sn, trap, action, ip, country, asn), ',' ORDER BY time, s.sn, ip, trap, action))
			|| (SELECT md5(string_agg(concat_ws('|', time, command, ip), ',' ORDER BY time, command, ip)) FROM commands)
			|| (SELECT md5(string_agg(concat_ws('|', time, feed, type, identifier, ip, raw_count), ',' ORDER BY time, feed, ip, identifier)) FROM feed_events)
			FROM incidents JOIN identity s ON s.id = identity_id`).Scan(&sums[i]))

		// Seeding again adds to the data and reuses the probes.
		res, err = demo.Seed(ctx, pool, demo.Options{Days: 1, PerDay: 100, Seed: 5, End: end.Add(24 * time.Hour)})
		require.NoError(t, err)
		require.Zero(t, res.GeoPrefixes)
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM identity").Scan(&n))
		require.EqualValues(t, demo.DefaultProbes, n)
	}
	require.Equal(t, sums[0], sums[1], "the same seed gives the same rows")
}

func TestLive(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t)
	_, err := demo.LoadGeoIfEmpty(context.Background(), pool)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	var out bytes.Buffer
	start := time.Now()
	res, err := demo.Live(ctx, pool, demo.LiveOptions{Rate: 400, Seed: 1, Tick: 100 * time.Millisecond,
		ReportEvery: time.Second, Progress: &out})
	require.NoError(t, err)
	el := res.Duration.Seconds()
	t.Logf("%s; %s", res, out.String())
	require.Contains(t, out.String(), "demo live:")
	// About the rate (sessions make it lumpy over a couple of seconds).
	require.Greater(t, float64(res.Rows.Incidents), 400*el*0.2)
	require.Less(t, float64(res.Rows.Incidents), 400*el*3)
	var minT, maxT time.Time
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT min(time), max(time) FROM incidents").Scan(&minT, &maxT))
	require.False(t, minT.Before(start.Add(-time.Second)), "no rows from before the start")
	require.False(t, maxT.After(time.Now()), "no rows from the future")
	var n int64
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM incidents").Scan(&n))
	require.Equal(t, res.Rows.Incidents, n)
	// Feed events at one per FeedEventsPer incidents: a handful at 400/s over four seconds.
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM feed_events WHERE time >= $1 AND time <= now()", start.Add(-time.Second)).Scan(&n))
	require.Equal(t, res.Rows.FeedEvents, n)
	require.Greater(t, float64(n), 400*el/demo.FeedEventsPer*0.2)
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT count(*) FROM commands").Scan(&n))
	require.Equal(t, res.Rows.Commands, n)
}

func TestTokensOfProbes(t *testing.T) {
	t.Parallel()
	n, err := demo.NewNetwork(9, 50, 100)
	require.NoError(t, err)
	sns := map[string]bool{}
	for _, p := range n.Probes {
		require.True(t, ingest.ValidToken(p.Token))
		b := []byte(p.Token)
		require.Len(t, b, 64)
		sns[p.SN] = true
	}
	require.Len(t, sns, 50)
	_ = binary.BigEndian
	_ = math.Pi
}
