package greylist

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/sentinel"
	"github.com/sview-project/sview/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestTagOfTrapCoversEveryTrap(t *testing.T) {
	var tags []string
	for _, trap := range sentinel.Traps {
		tag, ok := TagOfTrap(trap)
		require.True(t, ok, "trap %s has no tag", trap)
		tags = append(tags, tag)
	}
	require.ElementsMatch(t, Tags, tags)
	_, ok := TagOfTrap("nope")
	require.False(t, ok)
}

// now is the end of every build window in these tests.
var now = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// seed writes five probes, a geo prefix and crafted raw rows around the 7-day window
// [now-7d, now).
func seed(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	ctx := context.Background()
	for i := 1; i <= 5; i++ {
		_, err := pool.Exec(ctx, `INSERT INTO identity (id, sn, device_token) VALUES ($1, $2, repeat('a', 64))`, i, "sn"+string(rune('0'+i)))
		require.NoError(t, err)
	}
	_, err := pool.Exec(ctx, `INSERT INTO geo_prefixes (network, asn, country, as_name) VALUES
		('198.51.100.0/24', 64500, 'DE', 'EXAMPLE-A'), ('2001:db8::/32', 64501, 'NL', 'EXAMPLE-B')`)
	require.NoError(t, err)
	start := now.AddDate(0, 0, -7)
	type inc struct {
		at       time.Time
		probe    int
		trap, ip string
		count    int
		country  *string
		asn      *int
	}
	cz, sk, asn := "CZ", "SK", 65001
	rows := []inc{
		// A: three probes, telnet and port scans; newest country SK, no ASN in raw (geo gives 64500).
		{start, 1, "minipot_telnet", "198.51.100.1", 5, &cz, nil}, // exactly on the window start: inside
		{now.Add(-48 * time.Hour), 2, "fwlogs", "198.51.100.1", 1, nil, nil},
		{now.Add(-time.Hour), 3, "minipot_telnet", "198.51.100.1", 4, &sk, nil},
		{now, 4, "minipot_http", "198.51.100.1", 100, nil, nil}, // exactly at now: outside
		// B: two probes only.
		{now.Add(-2 * time.Hour), 1, "minipot_ftp", "198.51.100.2", 1, nil, &asn},
		{now.Add(-3 * time.Hour), 2, "minipot_smtp", "198.51.100.2", 2, nil, nil},
		{now.Add(-4 * time.Hour), 2, "minipot_smtp", "198.51.100.2", 2, nil, nil},
		// C: three probes, but one of them a microsecond before the window.
		{start.Add(-time.Microsecond), 1, "minipot_ftp", "203.0.113.5", 1, nil, nil},
		{now.Add(-5 * time.Hour), 2, "minipot_ftp", "203.0.113.5", 1, nil, nil},
		{now.Add(-6 * time.Hour), 3, "minipot_ftp", "203.0.113.5", 1, nil, nil},
		// D: IPv6, two probes by incidents (faillogs), the third from a haas login attempt.
		{now.Add(-30 * time.Hour), 1, "faillogs", "2001:db8::1", 3, nil, &asn},
		{now.Add(-20 * time.Hour), 5, "faillogs", "2001:db8::1", 3, nil, nil},
	}
	for _, r := range rows {
		_, err := pool.Exec(ctx, `INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
			VALUES ($1, $2, $3, $4, 'login', $5, $6, $7)`, r.at, r.count, r.probe, r.trap, r.ip, r.country, r.asn)
		require.NoError(t, err)
	}
	_, err = pool.Exec(ctx, `INSERT INTO passwords (time, raw_count, username, password, identity_id, trap, ip) VALUES
		($1, 1, 'root', 'toor', 4, 'haas', '2001:db8::1'),
		($2, 1, 'root', 'toor', NULL, 'minipot_telnet', '203.0.113.5')`, now.Add(-10*time.Hour), now.Add(-10*time.Hour))
	require.NoError(t, err)
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestBuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	seed(t, pool)

	res, err := Build(ctx, pool, Options{Now: now})
	require.NoError(t, err)
	require.Equal(t, 2, res.Entries)
	require.Equal(t, 2, res.Added)
	require.Equal(t, 0, res.Removed)
	require.Equal(t, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), res.Day)

	got, err := List(ctx, pool, Filter{})
	require.NoError(t, err)
	want := []Entry{
		{IP: addr("198.51.100.1"), Tags: []string{"port_scan", "telnet"}, Score: 3.124, Probes: 3, Incidents: 10,
			Country: "SK", ASN: 64500, FirstSeen: now.AddDate(0, 0, -7), LastSeen: now.Add(-time.Hour)},
		{IP: addr("2001:db8::1"), Tags: []string{"haas", "ssh"}, Score: 2.535, Probes: 3, Incidents: 6,
			Country: "NL", ASN: 65001, FirstSeen: now.Add(-30 * time.Hour), LastSeen: now.Add(-10 * time.Hour)},
	}
	require.Equal(t, want, got)

	// Thresholds: K=2 adds B; a 9-day window adds C (its third probe, and its passwords row
	// without a probe adds a trap but no probe).
	res, err = Build(ctx, pool, Options{Now: now, MinProbes: 2, Days: 9})
	require.NoError(t, err)
	require.Equal(t, Result{Day: res.Day, From: now.AddDate(0, 0, -9), To: now, Entries: 4, Added: 2, Removed: 0, Duration: res.Duration}, res)
	got, err = List(ctx, pool, Filter{Tags: []string{"ftp"}})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, addr("198.51.100.2"), got[0].IP)
	require.Equal(t, []string{"ftp", "smtp"}, got[0].Tags)
	require.Equal(t, 2, got[0].Probes)
	require.Equal(t, 65001, got[0].ASN)
	require.Equal(t, addr("203.0.113.5"), got[1].IP)
	require.Equal(t, []string{"ftp", "telnet"}, got[1].Tags)
	require.Equal(t, "", got[1].Country, "no raw country and no geo prefix")

	// Same day again with the defaults: B and C drop out, one snapshot for the day.
	res, err = Build(ctx, pool, Options{Now: now.Add(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, 2, res.Entries)
	require.Equal(t, 0, res.Added)
	require.Equal(t, 2, res.Removed)
	snap, err := Snapshot(ctx, pool, now, nil)
	require.NoError(t, err)
	require.Len(t, snap, 2)
	require.Equal(t, addr("198.51.100.1"), snap[0].IP)
	require.Equal(t, int64(0), snap[0].Incidents, "snapshots do not keep incidents")

	// The next day gets its own snapshot.
	_, err = Build(ctx, pool, Options{Now: now.AddDate(0, 0, 1), MinProbes: 1})
	require.NoError(t, err)
	sizes, err := Sizes(ctx, pool, Filter{}, now.AddDate(0, 0, -1), now.AddDate(0, 0, 5))
	require.NoError(t, err)
	require.Equal(t, []DaySize{
		{Day: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), Size: 2},
		{Day: time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC), Size: 4},
	}, sizes)
	// Filtered sizes count only the matching addresses of each day, and days without a match
	// still show as 0.
	ftp, err := Sizes(ctx, pool, Filter{Tags: []string{"ftp"}}, now.AddDate(0, 0, -1), now.AddDate(0, 0, 5))
	require.NoError(t, err)
	require.Len(t, ftp, 2)
	for i, s := range ftp {
		require.Equal(t, sizes[i].Day, s.Day)
		require.LessOrEqual(t, s.Size, sizes[i].Size)
	}
	snapDay1, err := Snapshot(ctx, pool, now.AddDate(0, 0, 1), nil)
	require.NoError(t, err)
	wantFTP := 0
	for _, e := range snapDay1 {
		if slices.Contains(e.Tags, "ftp") {
			wantFTP++
		}
	}
	require.Equal(t, wantFTP, ftp[1].Size)
	_, err = Sizes(ctx, pool, Filter{Countries: []string{"czech"}}, now, now)
	require.ErrorIs(t, err, ErrInvalid)
	empty, err := Snapshot(ctx, pool, now.AddDate(0, 0, -3), nil)
	require.NoError(t, err)
	require.Empty(t, empty)
}

func TestBuildRejectsBadOptions(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t)
	for _, o := range []Options{{MinProbes: -1}, {Days: -2}, {Days: MaxDays + 1}} {
		_, err := Build(context.Background(), pool, o)
		require.ErrorIs(t, err, ErrInvalid)
	}
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	seed(t, pool)
	_, err := Build(ctx, pool, Options{Now: now, MinProbes: 1, Days: 9})
	require.NoError(t, err)

	ips := func(es []Entry) []string {
		out := []string{}
		for _, e := range es {
			out = append(out, e.IP.String())
		}
		return out
	}
	cases := []struct {
		name string
		f    Filter
		want []string
	}{
		{"all", Filter{}, []string{"198.51.100.1", "198.51.100.2", "203.0.113.5", "2001:db8::1"}},
		{"tag", Filter{Tags: []string{"ssh", "port_scan"}}, []string{"198.51.100.1", "2001:db8::1"}},
		{"country lower case", Filter{Countries: []string{"sk", "nl"}}, []string{"198.51.100.1", "2001:db8::1"}},
		{"asn", Filter{ASNs: []int{65001}}, []string{"198.51.100.2", "2001:db8::1"}},
		{"min score", Filter{MinScore: 3}, []string{"198.51.100.1"}},
		{"by score, limited", Filter{Order: OrderScore, Limit: 2}, []string{"198.51.100.1", "2001:db8::1"}},
		{"combined", Filter{Tags: []string{"ftp"}, ASNs: []int{65001}}, []string{"198.51.100.2"}},
		{"prefixes", Filter{Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.2/32"), netip.MustParsePrefix("2001:db8::/32")}},
			[]string{"198.51.100.2", "2001:db8::1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := List(ctx, pool, c.f)
			require.NoError(t, err)
			require.Equal(t, c.want, ips(got))
		})
	}
	for _, f := range []Filter{{Tags: []string{"Bad Tag"}}, {Countries: []string{"CZE"}}, {ASNs: []int{0}}, {Limit: -1}, {Order: "name"}} {
		_, err := List(ctx, pool, f)
		require.ErrorIs(t, err, ErrInvalid)
	}
}

func TestExportGolden(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	seed(t, pool)
	_, err := Build(ctx, pool, Options{Now: now, MinProbes: 1, Days: 9})
	require.NoError(t, err)
	entries, err := List(ctx, pool, Filter{Order: OrderScore}) // WriteCSV must sort by address itself
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, WriteCSV(&buf, entries))
	golden(t, "export.golden.csv", buf.Bytes())
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create %s", path)
	require.Equal(t, string(want), string(got))
}

func TestImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	_, err := pool.Exec(ctx, `INSERT INTO geo_prefixes (network, asn, country) VALUES ('192.0.2.0/24', 64496, 'CZ')`)
	require.NoError(t, err)

	cases := []struct {
		name    string
		file    string
		layout  Layout
		badAt   []int
		badText []string
		want    map[string]Entry // by address: tags, country, ASN
	}{
		{
			name:   "current",
			file:   "import_current.csv",
			layout: LayoutCurrent,
			badAt:  []int{5, 6, 7, 9},
			badText: []string{
				`address "300.1.1.1": want an IPv4 or IPv6 address`,
				`3 fields: want 2 (Address,Tags)`,
				`tag "bad tag!": want`,
				`not valid CSV`,
			},
			want: map[string]Entry{
				"192.0.2.1":    {Tags: []string{"ftp", "http", "port_scan"}, Country: "CZ", ASN: 64496},
				"192.0.2.2":    {Tags: []string{"telnet"}, Country: "CZ", ASN: 64496},
				"198.51.100.7": {Tags: []string{"smtp"}},
				"2001:db8::5":  {Tags: []string{}},
			},
		},
		{
			name:   "legacy",
			file:   "import_legacy.csv",
			layout: LayoutLegacy,
			badAt:  []int{4, 5, 6},
			badText: []string{
				`country "CZE": want a two-letter ISO code or nothing`,
				`ASN "x12": want an AS number`,
				`3 fields: want 4 (Address,Country,Tags,ASN)`,
			},
			want: map[string]Entry{
				"1.9.165.178": {Tags: []string{"samba", "torrent"}, Country: "MY", ASN: 4788},
				"192.0.2.9":   {Tags: []string{"dns", "telnet"}, Country: "CZ", ASN: 64496},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := pool.Exec(ctx, `DELETE FROM greylist`)
			require.NoError(t, err)
			f, err := os.Open(filepath.Join("testdata", c.file))
			require.NoError(t, err)
			defer f.Close()
			res, err := Import(ctx, pool, f, c.file, nil)
			require.NoError(t, err)
			require.Equal(t, c.layout, res.Layout)
			require.EqualValues(t, len(c.badAt), res.Bad)
			for i, b := range res.BadLines {
				require.EqualValues(t, c.badAt[i], b.Number, b.Error())
				require.Contains(t, b.Error(), c.badText[i])
			}
			got, err := List(ctx, pool, Filter{})
			require.NoError(t, err)
			require.Len(t, got, len(c.want))
			for _, e := range got {
				w, ok := c.want[e.IP.String()]
				require.True(t, ok, "unexpected %s", e.IP)
				require.Equal(t, w.Tags, e.Tags, e.IP.String())
				require.Equal(t, w.Country, e.Country, e.IP.String())
				require.Equal(t, w.ASN, e.ASN, e.IP.String())
			}
		})
	}
}

func TestImportWithoutHeader(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t)
	for _, in := range []string{"1.2.3.4,ftp\n", "# only a comment\n\n"} {
		_, err := Import(context.Background(), pool, strings.NewReader(in), "x.csv", nil)
		require.ErrorIs(t, err, ErrNoHeader)
	}
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM greylist`).Scan(&n))
	require.Zero(t, n)
}

func TestScannerRoundTrip(t *testing.T) {
	in := []Entry{
		{IP: addr("10.0.0.2"), Tags: []string{"ftp"}},
		{IP: addr("10.0.0.1"), Tags: []string{"ftp", "http", "port_scan"}},
		{IP: addr("::1"), Tags: []string{}},
	}
	var buf bytes.Buffer
	require.NoError(t, WriteCSV(&buf, in))
	require.Equal(t, Comment+"\nAddress,Tags\n10.0.0.1,\"ftp,http,port_scan\"\n10.0.0.2,ftp\n::1,\n", buf.String())
	sc := NewScanner(&buf)
	var got []Entry
	for sc.Scan() {
		got = append(got, sc.Entry())
	}
	require.NoError(t, sc.Err())
	require.Equal(t, []Entry{in[1], in[0], in[2]}, got)
	require.True(t, errors.Is(NewScannerErr("Address,Nope\n"), ErrNoHeader))
}

// NewScannerErr scans s to the end and returns the scanner's error.
func NewScannerErr(s string) error {
	sc := NewScanner(strings.NewReader(s))
	for sc.Scan() {
	}
	return sc.Err()
}

// TestChanges: entries and exits between consecutive snapshots, against the snapshot before
// the range, narrowed by prefixes and ASNs.
func TestChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	d := func(i int) time.Time { return time.Date(2026, 11, i, 0, 0, 0, 0, time.UTC) }
	// A: days 1-2 and 4-5; B: days 2-5; C: day 1 only; D (another ASN): days 3-5. Day 6 has
	// no build at all, so nothing leaves on it.
	for ip, days := range map[string][]int{"192.0.2.1": {1, 2, 4, 5}, "192.0.2.2": {2, 3, 4, 5}, "192.0.2.3": {1}, "198.51.100.9": {3, 4, 5}} {
		asn := 64500
		if ip == "198.51.100.9" {
			asn = 64501
		}
		for _, day := range days {
			_, err := pool.Exec(ctx, `INSERT INTO greylist_history (day, ip, tags, score, probes, asn) VALUES ($1, $2, '{telnet}', $3, 2, $4)`,
				d(day).Format(time.DateOnly), ip, float64(day), asn)
			require.NoError(t, err)
		}
	}
	type change struct {
		day     int
		ip      string
		entered bool
	}
	list := func(cs []Change) []change {
		out := []change{}
		for _, c := range cs {
			out = append(out, change{c.Day.Day(), c.IP, c.Entered})
		}
		return out
	}
	got, err := Changes(ctx, pool, Filter{}, d(2), d(6))
	require.NoError(t, err)
	require.Equal(t, []change{
		{2, "192.0.2.2", true}, {2, "192.0.2.3", false},
		{3, "192.0.2.1", false}, {3, "198.51.100.9", true},
		{4, "192.0.2.1", true},
	}, list(got), "day 1 is the reference for day 2")

	got, err = Changes(ctx, pool, Filter{}, d(1), d(3))
	require.NoError(t, err)
	require.Equal(t, []change{{2, "192.0.2.2", true}, {2, "192.0.2.3", false}, {3, "192.0.2.1", false}, {3, "198.51.100.9", true}},
		list(got), "no snapshot before day 1: nothing on day 1 is an entry")

	got, err = Changes(ctx, pool, Filter{Prefixes: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32")}}, d(1), d(6))
	require.NoError(t, err)
	require.Equal(t, []change{{3, "192.0.2.1", false}, {4, "192.0.2.1", true}}, list(got))
	require.Equal(t, 2.0, got[0].Score, "an exit carries the last snapshot that held the address")
	require.Equal(t, 4.0, got[1].Score)

	got, err = Changes(ctx, pool, Filter{ASNs: []int{64501}, Limit: 1}, d(1), d(6))
	require.NoError(t, err)
	require.Equal(t, []change{{3, "198.51.100.9", true}}, list(got))
	require.Equal(t, int64(64501), got[0].ASN)
}
