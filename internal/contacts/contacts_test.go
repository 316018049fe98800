package contacts

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/testenv"
)

func TestParseSpace(t *testing.T) {
	for _, tc := range []struct {
		in      string
		asn     int
		prefix  string
		wantErr bool
	}{
		{in: "AS2852", asn: 2852},
		{in: "as64500", asn: 64500},
		{in: " 25192 ", asn: 25192},
		{in: "147.32.0.0/15", prefix: "147.32.0.0/15"},
		{in: "2001:718::/29", prefix: "2001:718::/29"},
		{in: "192.0.2.7", prefix: "192.0.2.7/32"},
		{in: "::ffff:192.0.2.7", prefix: "192.0.2.7/32"},
		{in: "147.32.1.0/15", wantErr: true}, // host bits set
		{in: "AS0", wantErr: true},
		{in: "AS4294967296", wantErr: true},
		{in: "ASX", wantErr: true},
		{in: "10.0.0.0/33", wantErr: true},
		{in: "", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			asn, prefix, err := ParseSpace(tc.in)
			if tc.wantErr {
				require.ErrorIs(t, err, ErrInvalid)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.asn, asn)
			if tc.prefix == "" {
				require.False(t, prefix.IsValid())
			} else {
				require.Equal(t, netip.MustParsePrefix(tc.prefix), prefix)
			}
		})
	}
}

func TestCadenceWindow(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return v
	}
	for _, tc := range []struct {
		cadence                    Cadence
		now                        string
		from, to, prevFrom, prevTo string
	}{
		// Sunday 2026-12-06: yesterday; the week ending last Monday; November.
		{Daily, "2026-12-06T00:15:00Z", "2026-12-05T00:00:00Z", "2026-12-06T00:00:00Z", "2026-12-04T00:00:00Z", "2026-12-05T00:00:00Z"},
		{Daily, "2026-12-06T00:00:00Z", "2026-12-05T00:00:00Z", "2026-12-06T00:00:00Z", "2026-12-04T00:00:00Z", "2026-12-05T00:00:00Z"},
		{Weekly, "2026-12-06T23:59:00Z", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z", "2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z"},
		{Weekly, "2026-11-30T06:00:00Z", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z", "2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z"},
		{Monthly, "2026-12-06T06:00:00Z", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"},
		{Monthly, "2026-03-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"},
		{Monthly, "2027-01-15T00:00:00+05:00", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"},
	} {
		t.Run(string(tc.cadence)+" "+tc.now, func(t *testing.T) {
			from, to := tc.cadence.Window(at(tc.now))
			require.Equal(t, at(tc.from), from)
			require.Equal(t, at(tc.to), to)
			pf, pt := tc.cadence.Previous(from)
			require.Equal(t, at(tc.prevFrom), pf)
			require.Equal(t, at(tc.prevTo), pt)
		})
	}
}

func TestParse(t *testing.T) {
	in := strings.Join([]string{
		"# a comment",
		"Space, Emails, Language, Cadence, Webhook",
		"AS2852,a@x.example b@x.example,,,",         // 3: defaults
		"147.32.0.0/15,c@y.example,CS,1d,",          // 4
		"AS2852,d@x.example,en,1w,",                 // 5: duplicate
		"10.0.0.1/8,e@z.example,en,1w,",             // 6: host bits
		"AS64500,not an address,en,1w,",             // 7: bad e-mail
		"AS64501,,en,1w,",                           // 8: nowhere to send
		"AS64502,f@z.example,english,1w,",           // 9: bad language
		"AS64503,f@z.example,en,2w,",                // 10: bad cadence
		"AS64504,f@z.example,en,1w,ftp://h.example", // 11: bad webhook
		"AS64505,f@z.example,en",                    // 12: too few fields
		"",
		"2001:db8::/32,,en,1m,https://h.example/hook?token=1", // 14
	}, "\n")
	p, err := Parse(strings.NewReader(in))
	require.NoError(t, err)
	require.Equal(t, []Contact{
		{ASN: 2852, Emails: []string{"a@x.example", "b@x.example"}, Language: "en", Cadence: Weekly},
		{Prefix: netip.MustParsePrefix("147.32.0.0/15"), Emails: []string{"c@y.example"}, Language: "cs", Cadence: Daily},
		{Prefix: netip.MustParsePrefix("2001:db8::/32"), Emails: []string{}, Language: "en", Cadence: Monthly, Webhook: "https://h.example/hook?token=1"},
	}, p.Contacts)
	var lines []int64
	for _, l := range p.Bad.Lines() {
		lines = append(lines, l.Number)
		require.ErrorIs(t, l, ErrInvalid)
	}
	require.Equal(t, []int64{5, 6, 7, 8, 9, 10, 11, 12}, lines)
	require.Contains(t, p.Bad.Lines()[0].Error(), "on line 3 already")
	require.EqualValues(t, 14, p.Lines)

	_, err = Parse(strings.NewReader("asn,emails\nAS1,a@b.example\n"))
	require.ErrorIs(t, err, ErrNoHeader)
	_, err = Parse(strings.NewReader("# nothing\n"))
	require.ErrorIs(t, err, ErrNoHeader)
}

func TestParseDemoFile(t *testing.T) {
	f, err := os.Open("testdata/demo.csv")
	require.NoError(t, err)
	defer f.Close()
	p, err := Parse(f)
	require.NoError(t, err)
	require.Zero(t, p.Bad.Count(), p.Bad.Lines())
	require.Len(t, p.Contacts, 6)
}

func TestImportAndLookup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)

	res, err := Import(ctx, pool, strings.NewReader(`space,emails,language,cadence,webhook
AS2852,a@x.example,cs,1w,
147.32.0.0/15,b@y.example,en,1d,
147.32.8.0/22,c@y.example,en,1d,
AS64500,d@z.example,en,1m,
`))
	require.NoError(t, err)
	require.EqualValues(t, 4, res.Added)
	_, err = pool.Exec(ctx, `INSERT INTO geo_prefixes (network, asn, country) VALUES ('198.51.100.0/24', 64500, 'US')`)
	require.NoError(t, err)

	for _, tc := range []struct {
		addr string
		asn  int
		want string
	}{
		{"147.32.9.1", 2852, "147.32.8.0/22"}, // the longest prefix wins
		{"147.33.0.1", 2852, "147.32.0.0/15"}, // a prefix beats the ASN
		{"147.32.9.1", 0, "147.32.8.0/22"},    // no ASN known: the prefix still matches
		{"195.113.1.1", 2852, "AS2852"},
		{"::ffff:147.32.9.1", 2852, "147.32.8.0/22"},
		{"2001:718::1", 2852, "AS2852"},
		{"192.0.2.1", 64501, ""},
		{"198.51.100.7", 0, "AS64500"}, // the AS from geo_prefixes
		{"198.51.100.7", 64501, ""},
	} {
		c, ok, err := Lookup(ctx, pool, netip.MustParseAddr(tc.addr), tc.asn)
		require.NoError(t, err)
		require.Equal(t, tc.want != "", ok, tc.addr)
		if ok {
			require.Equal(t, tc.want, c.Key(), tc.addr)
		}
	}

	// The second file changes one contact, keeps one, drops two and adds one.
	second := `space,emails,language,cadence,webhook
AS2852,a@x.example,cs,1w,
147.32.0.0/15,b@y.example new@y.example,en,1d,
AS64501,e@z.example,en,1d,
`
	res, err = Import(ctx, pool, strings.NewReader(second))
	require.NoError(t, err)
	require.Equal(t, [4]int64{1, 1, 1, 2}, [4]int64{res.Added, res.Updated, res.Unchanged, res.Removed})
	list, err := List(ctx, pool)
	require.NoError(t, err)
	var keys []string
	for _, c := range list {
		keys = append(keys, c.Key())
	}
	require.Equal(t, []string{"AS2852", "AS64501", "147.32.0.0/15"}, keys)
	require.Equal(t, []string{"b@y.example", "new@y.example"}, list[2].Emails)

	// A file with a bad line adds and updates, but removes nothing.
	res, err = Import(ctx, pool, strings.NewReader("space,emails,language,cadence,webhook\nAS2852,a@x.example,en,1w,\nAS1,bad,en,1w,\n"))
	require.NoError(t, err)
	require.EqualValues(t, 1, res.Bad.Count())
	require.EqualValues(t, 1, res.Updated)
	require.Zero(t, res.Removed)
	list, err = List(ctx, pool)
	require.NoError(t, err)
	require.Len(t, list, 3)

	_, err = Import(ctx, pool, strings.NewReader("nonsense\n"))
	require.True(t, errors.Is(err, ErrNoHeader))
}
