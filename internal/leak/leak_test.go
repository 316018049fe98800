package leak

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/testenv"
)

func mustHash(t *testing.T, s string) Hash {
	t.Helper()
	h, err := ParseHash(s)
	require.NoError(t, err)
	return h
}

func insertHashes(t *testing.T, pool *pgxpool.Pool, recs []Record) {
	t.Helper()
	for _, r := range recs {
		_, err := pool.Exec(context.Background(), `INSERT INTO passwords_pwned (hash, count, sources) VALUES ($1, $2, $3::text[]::data_source[])`,
			r.Hash[:], r.Count, r.Sources)
		require.NoError(t, err)
	}
}

func TestLookups(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	// Edge hashes around the 00000 and fffff prefixes, plus random ones.
	edges := []string{
		strings.Repeat("0", 40),
		"00000" + strings.Repeat("f", 35),
		"00001" + strings.Repeat("0", 35),
		"0000f" + strings.Repeat("f", 35),
		"ffffe" + strings.Repeat("f", 35),
		"fffff" + strings.Repeat("0", 35),
		strings.Repeat("f", 40),
		"abcde" + strings.Repeat("1", 35),
		"abcdf" + strings.Repeat("2", 35),
	}
	var recs []Record
	for i, e := range edges {
		recs = append(recs, Record{Hash: mustHash(t, e), Count: int64(i + 1), Sources: []string{}})
	}
	rnd := rand.New(rand.NewPCG(7, 8))
	for i := range 300 {
		var h Hash
		for j := range h {
			h[j] = byte(rnd.IntN(256))
		}
		recs = append(recs, Record{Hash: h, Count: int64(i + 1), Sources: []string{"telnet", "http"}})
	}
	insertHashes(t, pool, recs)
	slices.SortFunc(recs, func(a, b Record) int { return bytes.Compare(a.Hash[:], b.Hash[:]) })

	brute := func(prefix string) []Record {
		out := []Record{}
		for _, r := range recs {
			if strings.HasPrefix(r.Hash.String(), strings.ToLower(prefix)) {
				out = append(out, r)
			}
		}
		return out
	}
	prefixes := []string{"0", "00000", "0000", "00001", "0000F", "f", "ff", "fffff", "ffffe", "fffff" + strings.Repeat("0", 35),
		strings.Repeat("f", 40), "abcde", "abcd", "ABCDF", "7", "7f", "80"}
	for range 40 {
		prefixes = append(prefixes, recs[rnd.IntN(len(recs))].Hash.String()[:1+rnd.IntN(8)])
	}
	for _, p := range prefixes {
		got, err := ByPrefix(ctx, pool, p)
		require.NoError(t, err, p)
		want := brute(p)
		// The database hands sources back in enum order (telnet before http).
		for i := range want {
			if len(want[i].Sources) == 2 {
				want[i].Sources = []string{"telnet", "http"}
			}
		}
		if len(want) == 0 {
			want = nil
		}
		require.Equal(t, want, got, "prefix %s", p)
	}
	for _, p := range []string{"", "xyz", strings.Repeat("0", 41)} {
		_, err := ByPrefix(ctx, pool, p)
		require.ErrorIs(t, err, ErrInvalidPrefix, p)
	}

	lines, err := Range(ctx, pool, "FFFFF")
	require.NoError(t, err)
	require.Equal(t, []string{strings.Repeat("0", 35) + ":6", strings.Repeat("F", 35) + ":7"}, lines)
	lines, err = Range(ctx, pool, "12345")
	require.NoError(t, err)
	require.Empty(t, lines)
	for _, p := range []string{"1234", "123456", "1234g"} {
		_, err := Range(ctx, pool, p)
		require.ErrorIs(t, err, ErrInvalidPrefix, p)
	}

	rec, found, err := BySHA1(ctx, pool, "ABCDE"+strings.Repeat("1", 35))
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, int64(8), rec.Count)
	_, found, err = BySHA1(ctx, pool, "abcde"+strings.Repeat("3", 35))
	require.NoError(t, err)
	require.False(t, found)
	_, _, err = BySHA1(ctx, pool, "abc")
	require.ErrorIs(t, err, ErrInvalidHash)

	insertHashes(t, pool, []Record{{Hash: HashPassword("hunter2"), Count: 42, Sources: []string{"smtp"}}})
	rec, found, err = ByPassword(ctx, pool, "hunter2")
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, Record{Hash: HashPassword("hunter2"), Count: 42, Sources: []string{"smtp"}}, rec)
}

// captured inserts raw passwords rows: password, trap ("" = NULL), raw_count, time.
func captured(t *testing.T, pool *pgxpool.Pool, rows ...any) {
	t.Helper()
	for i := 0; i < len(rows); i += 4 {
		var trap *string
		if s := rows[i+1].(string); s != "" {
			trap = &s
		}
		_, err := pool.Exec(context.Background(), `INSERT INTO passwords (time, raw_count, username, password, trap) VALUES ($1, $2, 'root', $3, $4)`,
			rows[i+3], rows[i+2], rows[i], trap)
		require.NoError(t, err)
	}
}

func lookup(t *testing.T, pool *pgxpool.Pool, password string) Record {
	t.Helper()
	rec, found, err := ByPassword(context.Background(), pool, password)
	require.NoError(t, err)
	require.True(t, found, password)
	return rec
}

func TestBuildIncremental(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	opts := Options{Now: now, Step: 6 * time.Hour}

	res, err := Build(ctx, pool, opts)
	require.NoError(t, err)
	require.Zero(t, res.Rows, "no passwords captured yet")

	captured(t, pool,
		"123456", "minipot_telnet", 3, now.Add(-48*time.Hour),
		"123456", "minipot_ftp", 2, now.Add(-47*time.Hour),
		"123456", "minipot_telnet", 1, now.Add(-time.Hour),
		"admin", "", 5, now.Add(-30*time.Hour), // no trap: no source
		"admin", "fwlogs", 1, now.Add(-29*time.Hour), // trap without a source
		"x", "haas", 4, now.Add(-2*time.Minute), // inside the grace: waits
	)
	res, err = Build(ctx, pool, opts)
	require.NoError(t, err)
	require.Equal(t, int64(5), res.Rows)
	require.Equal(t, now.Add(-48*time.Hour), res.From)
	require.Equal(t, now.Add(-DefaultGrace), res.To)
	require.Equal(t, Record{Hash: HashPassword("123456"), Count: 6, Sources: []string{"ftp", "telnet"}}, normalise(lookup(t, pool, "123456")))
	require.Equal(t, Record{Hash: HashPassword("admin"), Count: 6, Sources: []string{}}, lookup(t, pool, "admin"))
	_, found, err := ByPassword(ctx, pool, "x")
	require.NoError(t, err)
	require.False(t, found)

	// Again at the same time: nothing counted twice.
	res, err = Build(ctx, pool, opts)
	require.NoError(t, err)
	require.Zero(t, res.Rows)
	require.Equal(t, int64(6), lookup(t, pool, "123456").Count)

	// Later: the row that was in the grace and new rows are added, old ones are not re-added.
	captured(t, pool, "123456", "minipot_http", 10, now.Add(time.Minute), "admin", "haas", 1, now.Add(2*time.Minute))
	opts.Now = now.Add(time.Hour + 1234*time.Nanosecond) // finer than PostgreSQL keeps: must still finish
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	res, err = Build(tctx, pool, opts)
	require.NoError(t, err)
	require.Equal(t, int64(3), res.Rows)
	require.Equal(t, Record{Hash: HashPassword("123456"), Count: 16, Sources: []string{"ftp", "http", "telnet"}}, normalise(lookup(t, pool, "123456")))
	require.Equal(t, Record{Hash: HashPassword("admin"), Count: 7, Sources: []string{"haas"}}, lookup(t, pool, "admin"))
	require.Equal(t, Record{Hash: HashPassword("x"), Count: 4, Sources: []string{"haas"}}, lookup(t, pool, "x"))

	var total int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT rows FROM leak_watermark`).Scan(&total))
	require.Equal(t, int64(8), total)
}

func TestBuildLateRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	captured(t, pool, "late", "minipot_smtp", 1, now.Add(-time.Hour))
	_, err := Build(ctx, pool, Options{Now: now})
	require.NoError(t, err)

	// Far below the mark, in one statement and one by one.
	_, err = pool.Exec(ctx, `INSERT INTO passwords (time, raw_count, username, password, trap) VALUES
		($1, 2, 'u', 'late', 'minipot_http'), ($1, 3, 'u', 'late', 'minipot_http'), ($1, 0, 'u', 'zero', NULL)`, now.AddDate(0, -1, 0))
	require.NoError(t, err)
	captured(t, pool, "late", "", 4, now.Add(-2*time.Hour))
	res, err := Build(ctx, pool, Options{Now: now})
	require.NoError(t, err)
	require.Equal(t, int64(2), res.Late)
	require.Zero(t, res.Rows)
	require.Equal(t, Record{Hash: HashPassword("late"), Count: 10, Sources: []string{"smtp", "http"}}, lookup(t, pool, "late"))
	_, found, err := ByPassword(ctx, pool, "zero")
	require.NoError(t, err)
	require.False(t, found, "rows with raw_count 0 add nothing")

	res, err = Build(ctx, pool, Options{Now: now})
	require.NoError(t, err)
	require.Zero(t, res.Late, "drained once")
	require.Equal(t, int64(10), lookup(t, pool, "late").Count)
}

// Late passwords written into old chunks, compressed ones on TimescaleDB, by INSERT and by
// COPY (the path of sview ingest), are hashed by the next build like any late row.
func TestBuildLateRowsIntoOldChunks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	old := now.AddDate(0, 0, -30)
	captured(t, pool, "early", "minipot_ftp", 1, old, "recent", "minipot_ftp", 1, now.Add(-time.Hour))
	_, err := Build(ctx, pool, Options{Now: now})
	require.NoError(t, err)
	if compressed := testenv.CompressChunks(t, pool, "passwords", now.AddDate(0, 0, -7)); compressed >= 0 {
		require.Positive(t, compressed, "TimescaleDB compressed no chunk of passwords")
	}

	captured(t, pool, "late", "minipot_telnet", 3, old.Add(time.Minute))
	_, err = pool.CopyFrom(ctx, pgx.Identifier{"passwords"}, []string{"time", "raw_count", "username", "password"},
		pgx.CopyFromRows([][]any{{old.Add(2 * time.Minute), int64(4), "root", "late"}, {old.Add(3 * time.Minute), int64(2), "root", "copied"}}))
	require.NoError(t, err)
	res, err := Build(ctx, pool, Options{Now: now})
	require.NoError(t, err)
	require.Equal(t, int64(3), res.Late, "(late, telnet), (late, none) and (copied, none)")
	require.Equal(t, int64(7), lookup(t, pool, "late").Count)
	require.Equal(t, int64(2), lookup(t, pool, "copied").Count)
}

// TestBuildWhileWriting runs builders while writers insert rows at random times around the mark,
// some far in the past; after a final build every raw_count is in passwords_pwned exactly once.
func TestBuildWhileWriting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	base := time.Now().Add(-time.Hour)
	const inserts = 150
	writers := make(chan error, 2)
	for w := range 2 {
		go func() {
			rnd := rand.New(rand.NewPCG(uint64(w), 99))
			for range inserts {
				n := 1 + rnd.IntN(5)
				_, err := pool.Exec(ctx, `INSERT INTO passwords (time, raw_count, username, password, trap)
					SELECT $1::timestamptz - interval '1 second' * (random() * 7200), 1 + g % 3, 'u', 'pw' || (g % 11), 'minipot_telnet'
					FROM generate_series(1, $2::int) g`, base.Add(time.Duration(rnd.IntN(3600))*time.Second), n)
				if err != nil {
					writers <- err
					return
				}
				time.Sleep(time.Duration(rnd.IntN(4)) * time.Millisecond)
			}
			writers <- nil
		}()
	}
	builds, done := 0, 0
	for done < 2 {
		select {
		case err := <-writers:
			require.NoError(t, err)
			done++
		default:
			_, err := Build(ctx, pool, Options{Grace: time.Nanosecond, Step: time.Duration(30+builds) * time.Minute})
			require.NoError(t, err)
			builds++
		}
	}
	t.Logf("%d builds ran while %d statements were written", builds, 2*inserts)
	_, err := Build(ctx, pool, Options{Now: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	var raw, hashed int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT sum(raw_count) FROM passwords`).Scan(&raw))
	require.NoError(t, pool.QueryRow(ctx, `SELECT sum(count) FROM passwords_pwned`).Scan(&hashed))
	require.Positive(t, raw)
	require.Equal(t, raw, hashed)
}

// normalise sorts sources by name, so expectations don't depend on enum order.
func normalise(r Record) Record {
	slices.Sort(r.Sources)
	return r
}

func TestBuildConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range 50 {
		captured(t, pool, fmt.Sprint("pw", i%7), "minipot_smtp", 1, now.Add(-time.Duration(i+1)*time.Hour))
	}
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			_, err := Build(ctx, pool, Options{Now: now, Step: 5 * time.Hour})
			errs <- err
		}()
	}
	for range 3 {
		require.NoError(t, <-errs)
	}
	var sum int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT sum(count) FROM passwords_pwned`).Scan(&sum))
	require.Equal(t, int64(50), sum, "three builders at once count every row exactly once")
}

func TestImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	insertHashes(t, pool, []Record{{Hash: HashPassword("password"), Count: 100, Sources: []string{"haas"}}})

	cases := []struct {
		file    string
		opts    ScanOptions
		format  Format
		badAt   []int
		badText []string
		padding int
		check   map[Hash]Record
	}{
		{
			file:   "import.csv",
			format: FormatCSV,
			badAt:  []int{5, 6, 7, 8, 9},
			badText: []string{
				`count "0": want a whole number of 1 or more`,
				`count "many": want a whole number of 1 or more`,
				`source "ssh": want one of telnet, smtp, ftp, http, haas`,
				`not valid CSV`,
				`4 fields: want count,password,sources`,
			},
			check: map[Hash]Record{
				HashPassword("password"): {Count: 105, Sources: []string{"telnet", "ftp", "haas"}},
				HashPassword("a,b"):      {Count: 7, Sources: []string{"smtp", "http"}},
				HashPassword(" spaced "): {Count: 2, Sources: []string{}},
				HashPassword("123456"):   {Count: 4, Sources: []string{"telnet"}},
			},
		},
		{
			file:   "0A1B2.txt",
			opts:   ScanOptions{Prefix: "0A1B2"},
			format: FormatHIBP,
			badAt:  []int{3, 4, 5},
			badText: []string{
				`suffix "0A1B": want 35 hexadecimal characters`,
				`count "-1": want a whole number of 0 or more`,
				`want SUFFIX:COUNT`,
			},
			padding: 1,
			check: map[Hash]Record{
				mustHash(t, "0a1b2"+"00D4F6E8FA6EECAD2A3AA415EEC418D38EC"): {Count: 5, Sources: []string{}},
				mustHash(t, "0a1b2"+"011053FD0102E94D6AE2F8B83D76FAF94F6"): {Count: 1, Sources: []string{}},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", c.file))
			require.NoError(t, err)
			res, err := Import(ctx, pool, bytes.NewReader(body), ImportOptions{ScanOptions: c.opts, Source: c.file})
			require.NoError(t, err)
			require.Equal(t, c.format, res.Format)
			require.Equal(t, c.padding, res.Padding)
			require.EqualValues(t, len(c.badAt), res.Bad)
			for i, b := range res.BadLines {
				require.EqualValues(t, c.badAt[i], b.Number, b.Error())
				require.ErrorContains(t, b, c.badText[i])
			}
			for h, want := range c.check {
				got, found, err := BySHA1(ctx, pool, h.String())
				require.NoError(t, err)
				require.True(t, found, h.String())
				require.Equal(t, want.Count, got.Count, h.String())
				require.Equal(t, want.Sources, got.Sources, h.String())
			}

			// The same content again is refused and adds nothing.
			_, err = Import(ctx, pool, bytes.NewReader(body), ImportOptions{ScanOptions: c.opts, Source: "copy-of-" + c.file})
			require.ErrorIs(t, err, ErrAlreadyImported)
			for h, want := range c.check {
				got, _, err := BySHA1(ctx, pool, h.String())
				require.NoError(t, err)
				require.Equal(t, want.Count, got.Count)
			}
		})
	}
}

func TestScannerErrors(t *testing.T) {
	_, err := NewScanner(strings.NewReader(strings.Repeat("A", 35)+":1\n"), ScanOptions{})
	require.ErrorContains(t, err, "needs its 5-hex prefix")
	_, err = NewScanner(strings.NewReader(""), ScanOptions{Format: FormatHIBP, Prefix: "zzzzz"})
	require.ErrorIs(t, err, ErrInvalidPrefix)

	long := "1," + strings.Repeat("p", MaxLineBytes+1) + ",telnet\n"
	sc, err := NewScanner(strings.NewReader("1,ok,\n"+long), ScanOptions{Format: FormatCSV})
	require.NoError(t, err)
	require.True(t, sc.Scan())
	require.False(t, sc.Scan())
	require.ErrorContains(t, sc.Err(), "line 2: longer than")

	p, ok := PrefixFromFileName("/tmp/range/ABCDE.txt")
	require.True(t, ok)
	require.Equal(t, "abcde", p)
	_, ok = PrefixFromFileName("passwords.csv")
	require.False(t, ok)
	_, err = ParseFormat("xml")
	require.ErrorContains(t, err, "want auto, csv or hibp")
}

func TestHashHexRoundTrip(t *testing.T) {
	h := HashPassword("x")
	require.Equal(t, hex.EncodeToString(h[:]), h.String())
}
