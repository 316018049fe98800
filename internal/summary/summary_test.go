package summary

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sview-project/sview/aggregator"
	"github.com/sview-project/sview/internal/cache"
	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/stats"
	"github.com/sview-project/sview/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fact is one raw row of the seed.
type fact struct {
	table        string // incidents, passwords or ports
	at           time.Time
	n            int64
	ip           string
	trap, action string // incidents
	user, pass   string // passwords
	proto        string // ports
	port         int
}

// attackers: address → country and ASN, as geo_prefixes says.
var attackers = map[string]struct {
	country string
	asn     int64
}{
	"192.0.2.1": {"CZ", 64500}, "192.0.2.2": {"CZ", 64500}, "198.51.100.7": {"DE", 64501},
	"203.0.113.9": {"US", 64502}, "2001:db8::1": {"NL", 64503},
}

func date(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }

// facts is the seed: data from 20 August 2026, all of September and October, and the first
// hours of November (rolled up only to the hour), with rows on both edges of October.
func facts() []fact {
	out := []fact{{table: "incidents", at: date(time.August, 20).Add(6 * time.Hour), n: 1, ip: "203.0.113.9", trap: "minipot_http", action: "connect"}}
	for d := 1; d <= 30; d++ {
		out = append(out, fact{table: "incidents", at: date(time.September, d).Add(12 * time.Hour), n: 2, ip: "192.0.2.1", trap: "minipot_telnet", action: "login"})
	}
	out = append(out, fact{table: "incidents", at: date(time.October, 1).Add(-time.Second), n: 7, ip: "192.0.2.2", trap: "minipot_telnet", action: "connect"})
	for d := 1; d <= 31; d++ {
		at := date(time.October, d).Add(time.Duration(d%24) * time.Hour)
		out = append(out,
			fact{table: "incidents", at: at, n: int64(d), ip: "192.0.2.1", trap: "minipot_telnet", action: "login"},
			fact{table: "passwords", at: at, n: int64(d), ip: "192.0.2.1", trap: "minipot_telnet", user: "root", pass: "123456"},
			fact{table: "passwords", at: at, n: 2, ip: "198.51.100.7", trap: "minipot_ftp", user: "admin", pass: "admin"},
			fact{table: "ports", at: at, n: 2, ip: "198.51.100.7", proto: "TCP", port: 22},
		)
		if d%2 == 0 {
			out = append(out,
				fact{table: "incidents", at: at, n: 3, ip: "198.51.100.7", trap: "fwlogs", action: "small_port_scan"},
				fact{table: "ports", at: at, n: 5, ip: "198.51.100.7", proto: "TCP", port: 23})
		}
		if d%5 == 0 {
			out = append(out, fact{table: "incidents", at: at, n: 1, ip: "203.0.113.9", trap: "minipot_http", action: "message"})
		}
	}
	out = append(out,
		fact{table: "passwords", at: date(time.October, 1), n: 1, ip: "192.0.2.2", trap: "minipot_http", user: "root", pass: "<b>|x"},
		fact{table: "incidents", at: date(time.November, 1).Add(-time.Second), n: 10, ip: "2001:db8::1", trap: "minipot_ftp", action: "connect"},
		fact{table: "ports", at: date(time.November, 1).Add(-time.Second), n: 1, ip: "2001:db8::1", proto: "UDP", port: 53},
		fact{table: "incidents", at: date(time.November, 1), n: 100, ip: "192.0.2.2", trap: "minipot_telnet", action: "login"},
		fact{table: "incidents", at: date(time.November, 1).Add(5 * time.Hour), n: 4, ip: "192.0.2.1", trap: "minipot_telnet", action: "login"},
	)
	return out
}

// aggregatedAt is the aggregator's clock: October is final, 1 November is not.
var aggregatedAt = date(time.November, 1).Add(12 * time.Hour)

// seeded is a database holding facts(), rolled up by the aggregator as `sview run` would.
func seeded(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool := testenv.Pool(t)
	for _, s := range []string{
		`INSERT INTO identity (id, sn, device_token) VALUES (1, '0000000000000001', repeat('ab', 32))`,
		`INSERT INTO geo_prefixes (network, asn, country, as_name) VALUES ('192.0.2.0/24', 64500, 'CZ', 'EXAMPLE-CZ'),
			('198.51.100.0/24', 64501, 'DE', 'EXAMPLE-DE'), ('203.0.113.0/24', 64502, 'US', NULL), ('2001:db8::/32', 64503, 'NL', 'EXAMPLE-V6')`,
	} {
		_, err := pool.Exec(ctx, s)
		require.NoError(t, err)
	}
	for _, f := range facts() {
		geo := attackers[f.ip]
		var err error
		switch f.table {
		case "incidents":
			_, err = pool.Exec(ctx, `INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
				VALUES ($1, $2, 1, $3, $4, $5, $6, $7)`, f.at, f.n, f.trap, f.action, f.ip, geo.country, geo.asn)
		case "passwords":
			_, err = pool.Exec(ctx, `INSERT INTO passwords (time, raw_count, username, password, identity_id, trap, ip, country, asn)
				VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8)`, f.at, f.n, f.user, f.pass, f.trap, f.ip, geo.country, geo.asn)
		case "ports":
			_, err = pool.Exec(ctx, `INSERT INTO ports (time, raw_count, port, protocol, identity_id, ip, country, asn)
				VALUES ($1, $2, $3, $4, 1, $5, $6, $7)`, f.at, f.n, f.port, f.proto, f.ip, geo.country, geo.asn)
		}
		require.NoError(t, err)
	}
	agg, err := aggregator.New(pool, aggregator.Config{Now: func() time.Time { return aggregatedAt }})
	require.NoError(t, err)
	require.NoError(t, agg.CatchUp(ctx, period.Quarterly))
	return pool
}

func service(t *testing.T, pool *pgxpool.Pool) *stats.Service {
	t.Helper()
	mem, err := cache.NewMemory(100)
	require.NoError(t, err)
	c, err := cache.New(cache.Options{Backend: mem})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return stats.New(stats.Config{DB: pool, Cache: c})
}

// oracle sums the facts of [from, to) from table by key.
func oracle(table string, from, to time.Time, key func(fact) string) map[string]int64 {
	out := map[string]int64{}
	for _, f := range facts() {
		if f.table == table && !f.at.Before(from) && f.at.Before(to) {
			out[key(f)] += f.n
		}
	}
	return out
}

func sum(m map[string]int64) (n int64) {
	for _, v := range m {
		n += v
	}
	return n
}

// ranking orders an oracle's keys as the lists do: largest first (the seed has no ties).
func ranking(m map[string]int64) []Row {
	var rows []Row
	for k, v := range m {
		rows = append(rows, Row{Key: k, Value: v})
	}
	slices.SortFunc(rows, func(a, b Row) int { return cmp.Compare(b.Value, a.Value) })
	for i := range rows {
		rows[i].Rank = i + 1
	}
	return rows[:min(len(rows), 15)]
}

func TestSummaryOfASeededMonth(t *testing.T) {
	pool := seeded(t)
	ctx := context.Background()
	a, err := ReadAvailability(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, Availability{From: date(time.August, 20), Through: date(time.November, 1)}, a)

	oct, err := ParseMonth("2026-10")
	require.NoError(t, err)
	s, err := Build(ctx, service(t, pool), oct, a.From)
	require.NoError(t, err)

	from, to := oct.Start(), oct.End()
	whole := func(fact) string { return "" }
	ips := func(f fact) string { return f.ip }
	sep, prevTo := oct.Prev().Start(), oct.Start()
	ptr := func(n int64) *int64 { return &n }
	require.Equal(t, []Total{
		{Key: "incidents", Title: "Incidents", Value: sum(oracle("incidents", from, to, whole)), Previous: ptr(sum(oracle("incidents", sep, prevTo, whole)))},
		{Key: "attackers", Title: "Distinct attackers", Value: int64(len(oracle("incidents", from, to, ips))), Previous: ptr(int64(len(oracle("incidents", sep, prevTo, ips))))},
		{Key: "login_attempts", Title: "Login attempts", Value: sum(oracle("passwords", from, to, whole)), Previous: ptr(0)},
		{Key: "scans", Title: "Port scans", Value: sum(oracle("ports", from, to, whole)), Previous: ptr(0)},
	}, s.Totals)
	require.False(t, s.Partial())
	require.True(t, s.Compared())

	require.Len(t, s.PerDay, 31)
	for i, d := range s.PerDay {
		day := from.AddDate(0, 0, i)
		require.Equal(t, day, d.Date)
		require.Equal(t, sum(oracle("incidents", day, day.AddDate(0, 0, 1), whole)), d.Incidents, "incidents on %s", day.Format(time.DateOnly))
	}

	want := map[string][]Row{
		"top_countries":  ranking(oracle("incidents", from, to, func(f fact) string { return attackers[f.ip].country })),
		"top_asns":       ranking(oracle("incidents", from, to, func(f fact) string { return fmt.Sprint(attackers[f.ip].asn) })),
		"top_passwords":  ranking(oracle("passwords", from, to, func(f fact) string { return f.pass })),
		"top_usernames":  ranking(oracle("passwords", from, to, func(f fact) string { return f.user })),
		"top_ports":      ranking(oracle("ports", from, to, func(f fact) string { return f.proto + "/" + fmt.Sprint(f.port) })),
		"incident_types": ranking(oracle("incidents", from, to, func(f fact) string { return f.trap + "/" + f.action })),
	}
	asNames := map[string]string{"64500": "EXAMPLE-CZ", "64501": "EXAMPLE-DE", "64503": "EXAMPLE-V6"}
	for i := range want["top_asns"] {
		want["top_asns"][i].Name = asNames[want["top_asns"][i].Key]
	}
	require.Len(t, s.Lists, len(Lists))
	for _, l := range s.Lists {
		require.Equal(t, want[l.Spec.Section], l.Rows, l.Spec.Section)
		require.Equal(t, s.Totals[slices.IndexFunc(s.Totals, func(t Total) bool { return t.Key == l.Spec.Total })].Value, l.Total)
	}

	golden(t, "2026-10.md", s.Markdown())
	golden(t, "2026-10.csv", s.CSV())

	// September is whole, but the month before it is not: no change is given.
	sept, err := Build(ctx, service(t, pool), oct.Prev(), a.From)
	require.NoError(t, err)
	require.False(t, sept.Partial())
	require.False(t, sept.Compared())
	for _, tot := range sept.Totals {
		require.Nil(t, tot.Previous, tot.Key)
	}
	require.Contains(t, string(sept.Markdown()), "August 2026 is not compared: the data starts on 2026-08-20.")

	// The first month: its data starts inside it.
	aug, err := Build(ctx, service(t, pool), oct.Prev().Prev(), a.From)
	require.NoError(t, err)
	require.True(t, aug.Partial())
	require.Equal(t, int64(1), aug.Totals[0].Value)
	golden(t, "2026-08.md", aug.Markdown())
	golden(t, "2026-08.csv", aug.CSV())

	charts(t, s)
	charts(t, aug)
}

// charts checks that every chart decodes as a PNG of the promised size and renders to the same
// bytes twice.
func charts(t *testing.T, s Summary) {
	t.Helper()
	for _, name := range Charts {
		b, err := s.Chart(name)
		require.NoError(t, err, name)
		img, err := png.Decode(bytes.NewReader(b))
		require.NoError(t, err, name)
		require.Equal(t, ChartWidth, img.Bounds().Dx(), name)
		require.Equal(t, ChartHeight, img.Bounds().Dy(), name)
		again, err := s.Chart(name)
		require.NoError(t, err)
		require.True(t, bytes.Equal(b, again), "%s renders differently twice", name)
	}
	_, err := s.Chart("pie")
	require.ErrorIs(t, err, ErrNoChart)
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	require.Equal(t, string(want), string(got), name)
}

func TestPublisher(t *testing.T) {
	pool := seeded(t)
	ctx := context.Background()
	p := NewPublisher(pool, service(t, pool))
	a, err := p.Availability(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"2026-10", "2026-09", "2026-08"}, monthNames(a.Months()))

	for month, want := range map[string]error{"2026-07": ErrBeforeData, "2026-11": ErrNotFinal, "2027-01": ErrNotFinal} {
		m, err := ParseMonth(month)
		require.NoError(t, err)
		_, err = p.Report(ctx, m)
		require.ErrorIs(t, err, want, month)
	}

	oct, _ := ParseMonth("2026-10")
	r, err := p.Report(ctx, oct)
	require.NoError(t, err)
	var names []string
	for _, f := range r.Files {
		names = append(names, f.Name)
		require.NotEmpty(t, f.Body, f.Name)
		require.Regexp(t, `^"[0-9a-f]{32}"$`, f.ETag)
	}
	require.Equal(t, FileNames(), names)
	md, ok := r.File("summary.md")
	require.True(t, ok)
	want, err := os.ReadFile(filepath.Join("testdata", "2026-10.md"))
	require.NoError(t, err)
	require.Equal(t, string(want), string(md.Body))
	_, ok = r.File("summary.pdf")
	require.False(t, ok)

	again, err := p.Report(ctx, oct)
	require.NoError(t, err)
	require.Same(t, r, again, "a report is kept, not rebuilt")

	later := time.Now().Add(reportTTL)
	p.now = func() time.Time { return later }
	rebuilt, err := p.Report(ctx, oct)
	require.NoError(t, err)
	require.NotSame(t, r, rebuilt, "a report older than reportTTL is built again")
	require.Equal(t, r.Files, rebuilt.Files, "from the same numbers, to the same bytes")
	require.Equal(t, later, rebuilt.Built)
}

func monthNames(ms []Month) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.String()
	}
	return out
}

func TestParseMonth(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{in: "2026-11", want: "2026-11"}, {in: "1999-01", want: "1999-01"},
		{in: "2026-13", err: true}, {in: "2026-1", err: true}, {in: "2026-11-01", err: true},
		{in: "nov", err: true}, {in: "", err: true}, {in: "202611", err: true},
	} {
		m, err := ParseMonth(tc.in)
		if tc.err {
			require.ErrorIs(t, err, ErrMonth, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, m.String())
	}
	m, _ := ParseMonth("2024-02")
	require.Equal(t, 29, m.Days())
	require.Equal(t, "2024-01", m.Prev().String())
	require.Equal(t, "2024-03", m.Next().String())
	require.Equal(t, "February 2024", m.Title())
	require.Equal(t, m, MonthOf(time.Date(2024, 2, 29, 23, 59, 0, 0, time.FixedZone("X", -3600)).Add(-time.Hour)))
}

// staleSource answers like a cache holding an answer from before the month was final, then
// like a fresh computation.
type staleSource struct {
	skipped []bool
}

func (s *staleSource) Query(_ context.Context, q query.Query, r period.Range, skipRead bool) (stats.Result, error) {
	s.skipped = append(s.skipped, skipRead)
	wm := r.To.Add(-time.Hour)
	if skipRead {
		wm = r.To
	}
	return stats.Result{Watermark: wm}, nil
}

func TestAnswersFromBeforeTheMonthWasFinalAreRecomputed(t *testing.T) {
	src := &staleSource{}
	_, err := ask(context.Background(), src, `{"metric":"incidents","format":"table","groupBy":[]}`, monthRange(MonthOf(date(time.October, 1))))
	require.NoError(t, err)
	require.Equal(t, []bool{false, true}, src.skipped)
}

func TestMarkdownEscapesAttackerStrings(t *testing.T) {
	for in, want := range map[string]string{
		"<script>":   `\<script\>`,
		"a|b":        `a\|b`,
		"**x**":      `\*\*x\*\*`,
		"line\nfeed": "lineU+000Afeed",
		"":           "(empty)",
		"plain":      "plain",
	} {
		require.Equal(t, want, mdText(in), in)
	}
	require.Equal(t, "1,234,567", thousands(1234567))
	require.Equal(t, "-1,000", thousands(-1000))
	require.Equal(t, "999", thousands(999))
	prev := int64(200)
	require.Equal(t, "+50.0%", change(300, &prev))
	require.Equal(t, "n/a", change(300, nil))
	zero := int64(0)
	require.Equal(t, "new", change(3, &zero))
}

func TestChartsOfAnEmptyMonth(t *testing.T) {
	m, err := ParseMonth("2026-02")
	require.NoError(t, err)
	s := Summary{Month: m}
	for _, spec := range Lists {
		s.Lists = append(s.Lists, List{Spec: spec})
	}
	charts(t, s)
	require.Contains(t, string(s.Markdown()), "No data.")
}

func TestAvailability(t *testing.T) {
	oct, _ := ParseMonth("2026-10")
	for _, tc := range []struct {
		name   string
		a      Availability
		months []string
		check  error // of October
	}{
		{"no data", Availability{}, nil, ErrBeforeData},
		{"data but nothing closed", Availability{From: date(time.October, 3)}, nil, ErrNotFinal},
		{"first month not over", Availability{From: date(time.October, 3), Through: date(time.October, 20)}, nil, ErrNotFinal},
		{"closed to the day", Availability{From: date(time.October, 3), Through: date(time.November, 1)}, []string{"2026-10"}, nil},
		{"later data", Availability{From: date(time.November, 1), Through: date(time.December, 5)}, []string{"2026-11"}, ErrBeforeData},
		{"months later", Availability{From: date(time.August, 31), Through: date(time.December, 1)}, []string{"2026-11", "2026-10", "2026-09", "2026-08"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.months == nil {
				require.Empty(t, tc.a.Months())
			} else {
				require.Equal(t, tc.months, monthNames(tc.a.Months()))
			}
			err := tc.a.Check(oct)
			if tc.check == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.check)
		})
	}
}

func FuzzParseMonth(f *testing.F) {
	for _, s := range []string{"2026-11", "2026-13", "2026-1", "0000-00", "9999-12", "2026-11-01", "", "-2026-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMonth(s)
		if err != nil {
			require.ErrorIs(t, err, ErrMonth)
			return
		}
		require.Equal(t, s, m.String(), "a month has one spelling")
		require.Equal(t, m, MonthOf(m.Start()))
		require.True(t, m.Prev().Before(m) && m.Before(m.Next()))
	})
}

// countingSource counts the queries a build asks.
type countingSource struct {
	Source
	n atomic.Int32
}

func (c *countingSource) Query(ctx context.Context, q query.Query, r period.Range, skipRead bool) (stats.Result, error) {
	c.n.Add(1)
	return c.Source.Query(ctx, q, r, skipRead)
}

func TestConcurrentRequestsBuildOnce(t *testing.T) {
	pool := seeded(t)
	ctx := context.Background()
	oct, _ := ParseMonth("2026-10")
	one := &countingSource{Source: service(t, pool)}
	_, err := NewPublisher(pool, one).Report(ctx, oct)
	require.NoError(t, err)
	require.Positive(t, one.n.Load())

	many := &countingSource{Source: service(t, pool)}
	p := NewPublisher(pool, many)
	var wg sync.WaitGroup
	reports := make([]*Report, 8)
	for i := range reports {
		wg.Go(func() {
			r, err := p.Report(ctx, oct)
			assert.NoError(t, err)
			reports[i] = r
		})
	}
	wg.Wait()
	require.Equal(t, one.n.Load(), many.n.Load(), "eight requests, the queries of one build")
	for _, r := range reports {
		require.Same(t, reports[0], r)
	}
}
