package geo_test

import (
	"context"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/geo"
	"github.com/sview-project/sview/internal/testenv"
)

func TestRangeToPrefixes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		start, end string
		want       []string
	}{
		{"single address", "192.0.2.7", "192.0.2.7", []string{"192.0.2.7/32"}},
		{"aligned /24", "192.0.2.0", "192.0.2.255", []string{"192.0.2.0/24"}},
		{"unaligned", "1.0.4.0", "1.0.6.10", []string{"1.0.4.0/23", "1.0.6.0/29", "1.0.6.8/31", "1.0.6.10/32"}},
		{"odd start", "10.0.0.1", "10.0.0.4", []string{"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/32"}},
		{"whole v4", "0.0.0.0", "255.255.255.255", []string{"0.0.0.0/0"}},
		{"top of v4", "255.255.255.254", "255.255.255.255", []string{"255.255.255.254/31"}},
		{"v6 /32", "2a00:1028::", "2a00:1028:ffff:ffff:ffff:ffff:ffff:ffff", []string{"2a00:1028::/32"}},
		{"v6 top", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
			[]string{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"}},
		{"whole v6", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", []string{"::/0"}},
		{"v6 across 64 bits", "2001:db8::ffff:ffff:ffff:ffff", "2001:db8:0:1::",
			[]string{"2001:db8::ffff:ffff:ffff:ffff/128", "2001:db8:0:1::/128"}},
		{"backwards", "10.0.0.5", "10.0.0.1", nil},
		{"mixed", "10.0.0.1", "::1", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := geo.RangeToPrefixes(netip.MustParseAddr(c.start), netip.MustParseAddr(c.end))
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			require.Equal(t, c.want, s)
		})
	}
}

func TestTableMostSpecificWins(t *testing.T) {
	t.Parallel()
	p := func(s string, asn int32, cc string) geo.Prefix {
		return geo.Prefix{Network: netip.MustParsePrefix(s), Info: geo.Info{ASN: asn, Country: cc}}
	}
	tab := geo.NewTable([]geo.Prefix{
		p("10.0.0.0/8", 1, "AA"),
		p("10.1.0.0/16", 2, "BB"),
		p("10.1.2.0/24", 3, "CC"),
		p("10.200.0.0/16", 4, "DD"),
		p("192.0.2.0/24", 5, "EE"),
		p("2001:db8::/32", 6, "FF"),
		p("2001:db8:1::/48", 7, "GG"),
		p("255.255.255.0/24", 8, "HH"),
		p("::ffff:172.16.0.0/108", 9, "II"), // IPv4-mapped form of 172.16.0.0/12
		p("10.1.0.0/16", 99, "ZZ"),          // duplicate: the first one wins
	})
	cases := []struct {
		ip      string
		asn     int32
		country string
		found   bool
	}{
		{"10.0.0.1", 1, "AA", true},
		{"10.1.0.1", 2, "BB", true},
		{"10.1.2.3", 3, "CC", true},
		{"10.1.3.0", 2, "BB", true},
		{"10.2.0.0", 1, "AA", true},
		{"10.200.5.5", 4, "DD", true},
		{"10.255.255.255", 1, "AA", true},
		{"11.0.0.0", 0, "", false},
		{"9.255.255.255", 0, "", false},
		{"192.0.2.200", 5, "EE", true},
		{"::ffff:192.0.2.1", 5, "EE", true},
		{"2001:db8::1", 6, "FF", true},
		{"2001:db8:1::1", 7, "GG", true},
		{"2001:db8:2::1", 6, "FF", true},
		{"2001:db9::", 0, "", false},
		{"255.255.255.255", 8, "HH", true},
		{"172.20.1.1", 9, "II", true},
	}
	for _, c := range cases {
		info, ok := tab.Lookup(netip.MustParseAddr(c.ip))
		require.Equal(t, c.found, ok, c.ip)
		require.Equal(t, geo.Info{ASN: c.asn, Country: c.country}, info, c.ip)
	}
	var empty *geo.Table
	_, ok := empty.Lookup(netip.MustParseAddr("10.0.0.1"))
	require.False(t, ok)
}

func TestImportWithBadLines(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	_, err := pool.Exec(ctx, "INSERT INTO geo_prefixes (network, asn) VALUES ('203.0.113.0/24', 1)")
	require.NoError(t, err)

	f, err := os.Open("testdata/mixed.tsv")
	require.NoError(t, err)
	defer f.Close()
	rep, err := geo.Import(ctx, pool, f, geo.ImportOptions{BatchRows: 3})
	require.NoError(t, err)
	require.EqualValues(t, 15, rep.Lines)
	require.EqualValues(t, 6, rep.OK)
	require.EqualValues(t, 1, rep.NotRouted)
	require.EqualValues(t, 7, rep.Bad)
	var lines []int64
	for _, b := range rep.BadLines {
		lines = append(lines, b.Number)
	}
	require.Equal(t, []int64{4, 7, 9, 12, 13, 14, 15}, lines)
	require.ErrorContains(t, rep.BadLines[1], "already given on line 6")
	require.EqualValues(t, 9, rep.Prefixes)

	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM geo_prefixes").Scan(&n))
	require.Equal(t, 9, n, "the old contents are replaced")
	var asn int32
	var cc *string
	var name string
	require.NoError(t, pool.QueryRow(ctx,
		"SELECT asn, country, as_name FROM geo_lookup('9.9.9.9')").Scan(&asn, &cc, &name))
	require.Equal(t, int32(19281), asn)
	require.Nil(t, cc, "country None is NULL")
	require.Equal(t, "QUAD9-AS-1", name)

	tab, err := geo.Load(ctx, pool)
	require.NoError(t, err)
	info, ok := tab.Lookup(netip.MustParseAddr("1.0.6.9"))
	require.True(t, ok)
	require.Equal(t, geo.Info{ASN: 38803, Country: "AU"}, info)
	_, ok = tab.Lookup(netip.MustParseAddr("1.0.6.11"))
	require.False(t, ok)
	info, ok = tab.Lookup(netip.MustParseAddr("2a00:1028:1234::1"))
	require.True(t, ok)
	require.Equal(t, geo.Info{ASN: 5610, Country: "CZ"}, info)

	var sb strings.Builder
	rep.Summary(&sb)
	require.Contains(t, sb.String(), "bad line 4:")
}

func TestImportFailureKeepsOldContents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	_, err := pool.Exec(ctx, "INSERT INTO geo_prefixes (network, asn) VALUES ('203.0.113.0/24', 1)")
	require.NoError(t, err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = geo.Import(cctx, pool, strings.NewReader("1.0.0.0\t1.0.0.255\t13335\tUS\tX\n"), geo.ImportOptions{})
	require.Error(t, err)
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM geo_prefixes").Scan(&n))
	require.Equal(t, 1, n)
}
