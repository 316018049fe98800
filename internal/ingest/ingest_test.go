package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/geo"
	"github.com/sview-project/sview/internal/ingest"
	"github.com/sview-project/sview/internal/testenv"
)

var token1 = strings.Repeat("ab", 32)

// newDB is a migrated database with the test prefixes of testdata/geo.tsv loaded.
func newDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := testenv.Pool(t)
	f, err := os.Open("testdata/geo.tsv")
	require.NoError(t, err)
	defer f.Close()
	rep, err := geo.Import(context.Background(), pool, f, geo.ImportOptions{})
	require.NoError(t, err)
	require.Zero(t, rep.Bad)
	return pool
}

func badLines(r *ingest.Report) []int64 {
	var out []int64
	for _, b := range r.BadLines {
		out = append(out, b.Number)
	}
	return out
}

func queryStrings(t *testing.T, pool *pgxpool.Pool, sql string) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), sql)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func TestMinipot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	rep, err := ingest.Run(ctx, pool, ingest.Options{Format: "minipot", Path: "testdata/minipot.jsonl", BatchRows: 2})
	require.NoError(t, err)
	require.EqualValues(t, 14, rep.Lines)
	require.EqualValues(t, 7, rep.OK)
	require.EqualValues(t, 1, rep.Skipped)
	require.EqualValues(t, 6, rep.Bad)
	require.Equal(t, []int64{3, 5, 7, 9, 13, 14}, badLines(rep))
	require.ErrorContains(t, rep.BadLines[1], `type "gopher"`)
	require.ErrorContains(t, rep.BadLines[2], "device_token")
	require.ErrorContains(t, rep.BadLines[4], "ts is missing")
	require.ErrorContains(t, rep.BadLines[5], "longer than 16")
	require.Equal(t, ingest.Counts{Incidents: 7, Passwords: 3}, rep.Rows)
	require.Equal(t, 2, rep.NewProbes)

	require.Equal(t, []string{
		"22:13:20 0000000A00000001 minipot_telnet connect 198.51.100.7 CZ 64501 1",
		"22:13:21 0000000A00000001 minipot_telnet login 198.51.100.7 CZ 64501 1",
		"22:13:23 0000000A00000002 minipot_http message 203.0.113.9 CN 64502 1",
		"22:13:24.25 0000000A00000002 minipot_smtp login 2001:db8::5 DE 64503 1",
		"22:13:26 0000000A00000001 minipot_ftp invalid 192.0.2.1 - - 1",
		"22:13:27 0000000A00000001 minipot_telnet login 198.51.100.8 CZ 64501 1",
		"22:13:28 0000000A00000002 minipot_http login 203.0.113.9 CN 64502 1",
	}, queryStrings(t, pool, `
		SELECT concat_ws(' ', rtrim(rtrim(to_char(time AT TIME ZONE 'UTC', 'HH24:MI:SS.US'), '0'), '.'), i.sn, trap, action,
			host(ip), coalesce(country, '-'), coalesce(asn::text, '-'), raw_count)
		FROM incidents JOIN identity i ON i.id = identity_id ORDER BY time`))
	require.Equal(t, []string{
		"root xc3511 minipot_telnet 198.51.100.7 0000000A00000001 CZ 64501",
		"admin pa\uFFFDss minipot_smtp 2001:db8::5 0000000A00000002 DE 64503",
		"admin admin minipot_http 203.0.113.9 0000000A00000002 CN 64502",
	}, queryStrings(t, pool, `
		SELECT concat_ws(' ', username, password, trap, host(ip), i.sn, country, asn)
		FROM passwords JOIN identity i ON i.id = identity_id ORDER BY time`))

	var sb strings.Builder
	rep.Summary(&sb)
	require.Contains(t, sb.String(), "14 lines (7 ok, 6 bad, 1 skipped)")
	require.Contains(t, sb.String(), "bad line 3: invalid JSON")
}

func TestFwlogsPortScans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	rep, err := ingest.Run(ctx, pool, ingest.Options{Format: "fwlogs", Path: "testdata/fwlogs.jsonl", BatchRows: 5})
	require.NoError(t, err)
	require.EqualValues(t, 23, rep.Lines)
	require.EqualValues(t, 19, rep.OK)
	require.Equal(t, []int64{17, 18, 19, 20}, badLines(rep))
	require.Equal(t, ingest.Counts{Incidents: 6, Ports: 19}, rep.Rows)

	require.Equal(t, []string{
		"22:13:20 0000000A00000001 big_port_scan 203.0.113.50 CN",
		"22:13:40 0000000A00000001 small_port_scan 198.51.100.20 CZ",
		"22:13:42 0000000A00000002 small_port_scan 198.51.100.20 CZ",
		"22:14:00 0000000A00000002 small_port_scan 2001:db8::9 DE",
		"22:14:10 0000000A00000001 small_port_scan 192.0.2.77 -",
		"23:13:20 0000000A00000001 small_port_scan 198.51.100.20 CZ",
	}, queryStrings(t, pool, `
		SELECT concat_ws(' ', to_char(time AT TIME ZONE 'UTC', 'HH24:MI:SS'), i.sn, action, host(ip), coalesce(country, '-'))
		FROM incidents JOIN identity i ON i.id = identity_id WHERE trap = 'fwlogs' ORDER BY time, i.sn`))
	require.Equal(t, []string{"0 other 1", "22 TCP 2", "23 TCP 1", "53 UDP 1", "445 TCP 1"},
		queryStrings(t, pool, `SELECT concat_ws(' ', port, protocol, count(*)) FROM ports
			WHERE port IN (0, 22, 23, 53, 445) GROUP BY port, protocol ORDER BY port`))
	require.EqualValues(t, 19, count(t, pool, "SELECT count(*) FROM ports WHERE identity_id IS NOT NULL AND ip IS NOT NULL"))
	require.EqualValues(t, 13, count(t, pool, "SELECT count(*) FROM ports WHERE country = 'CN' AND asn = 64502"))
}

func TestFaillogs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	rep, err := ingest.Run(ctx, pool, ingest.Options{Format: "faillogs", Path: "testdata/faillogs.jsonl"})
	require.NoError(t, err)
	require.EqualValues(t, 4, rep.OK)
	require.Equal(t, []int64{3, 5, 6, 7}, badLines(rep))
	require.Equal(t, ingest.Counts{Incidents: 4}, rep.Rows)
	require.Equal(t, []string{
		"faillogs login 198.51.100.7 CZ",
		"faillogs login 203.0.113.9 CN",
		"faillogs login 2001:db8::5 DE",
		"faillogs login 192.0.2.1 -",
	}, queryStrings(t, pool, `SELECT concat_ws(' ', trap, action, host(ip), coalesce(country, '-'))
		FROM incidents ORDER BY time`))
}

func TestSSHD(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	rep, err := ingest.Run(ctx, pool, ingest.Options{Format: "sshd", Path: "testdata/auth.log", Year: 2024})
	require.NoError(t, err)
	require.EqualValues(t, 14, rep.Lines)
	require.EqualValues(t, 7, rep.OK)
	require.EqualValues(t, 4, rep.Skipped)
	require.Equal(t, []int64{6, 9, 13}, badLines(rep))
	require.ErrorContains(t, rep.BadLines[1], "scanner.example.com")
	require.Equal(t, ingest.Counts{Incidents: 7}, rep.Rows)
	require.Equal(t, 2, rep.NewProbes)

	gw := ingest.HostProbe("gw")
	require.True(t, ingest.TokenCRCValid(gw.Token))
	require.Equal(t, []string{
		"2024-11-02 10:00:07 gw invalid 2001:db8::77 1 DE",
		"2024-11-22 09:00:09 gw login 198.51.100.8 1 CZ",
		"2024-11-22 10:00:01 gw login 198.51.100.7 1 CZ",
		"2024-11-22 10:00:02 gw login 203.0.113.9 1 CN",
		"2024-11-22 10:00:06 gw login 198.51.100.7 5 CZ",
		"2024-11-22 10:00:11 gw invalid 203.0.113.10 1 CN",
		"2024-11-22 10:00:13 other-host login 198.51.100.9 1 CZ",
	}, queryStrings(t, pool, `
		SELECT concat_ws(' ', to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), i.sn, action, host(ip), raw_count, country)
		FROM incidents JOIN identity i ON i.id = identity_id WHERE trap = 'faillogs' ORDER BY time`))
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM identity WHERE sn = 'gw' AND device_token = $1", gw.Token))

	// With --sn/--token every line belongs to that probe, whatever host wrote it.
	pool2 := newDB(t)
	probe := ingest.Probe{SN: "router-7", Token: token1}
	rep, err = ingest.Run(ctx, pool2, ingest.Options{Format: "sshd", Path: "testdata/auth.log", Year: 2024, Probe: &probe})
	require.NoError(t, err)
	require.Equal(t, 1, rep.NewProbes)
	require.EqualValues(t, 7, count(t, pool2, "SELECT count(*) FROM incidents JOIN identity i ON i.id = identity_id WHERE i.sn = 'router-7'"))

	_, err = ingest.Run(ctx, pool2, ingest.Options{Format: "sshd", Path: "testdata/auth.log",
		Probe: &ingest.Probe{SN: "x", Token: "nothex"}})
	require.ErrorContains(t, err, "device_token")
}

func TestSSHDYearInference(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.log")
	require.NoError(t, os.WriteFile(path, []byte(
		"Dec 31 23:59:59 h sshd[1]: Failed password for root from 198.51.100.1 port 1 ssh2\n"+
			"Jan  1 00:00:01 h sshd[1]: Failed password for root from 198.51.100.1 port 1 ssh2"), 0o644))
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	rep, err := ingest.Run(ctx, pool, ingest.Options{Format: "sshd", Path: path, Now: func() time.Time { return now }})
	require.NoError(t, err)
	require.EqualValues(t, 2, rep.OK, "a last line without a newline is read at the end of a file")
	require.Equal(t, []string{"2024-12-31", "2025-01-01"},
		queryStrings(t, pool, "SELECT to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM incidents ORDER BY time"))
}

func TestSameContentCountedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	rep, err := ingest.Run(ctx, pool, ingest.Options{Format: "minipot", Path: "testdata/minipot.jsonl"})
	require.NoError(t, err)
	require.False(t, rep.AlreadyIngested)

	// The same file again, a copy under another name, and the same bytes on standard input.
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/minipot.jsonl")
	require.NoError(t, err)
	cp := filepath.Join(dir, "copy.jsonl")
	require.NoError(t, os.WriteFile(cp, data, 0o644))
	for _, o := range []ingest.Options{
		{Format: "minipot", Path: "testdata/minipot.jsonl"},
		{Format: "minipot", Path: cp},
		{Format: "minipot", Path: "-", Stdin: bytes.NewReader(data)},
	} {
		rep, err = ingest.Run(ctx, pool, o)
		require.NoError(t, err)
		require.True(t, rep.AlreadyIngested, o.Path)
		var sb strings.Builder
		rep.Summary(&sb)
		require.Contains(t, sb.String(), "already ingested")
	}
	require.EqualValues(t, 7, count(t, pool, "SELECT count(*) FROM incidents"))
	require.EqualValues(t, 3, count(t, pool, "SELECT count(*) FROM passwords"))

	// The same bytes as another format are another ingest (all bad lines here).
	rep, err = ingest.Run(ctx, pool, ingest.Options{Format: "faillogs", Path: cp})
	require.NoError(t, err)
	require.False(t, rep.AlreadyIngested)
}

func TestAppendedFileContinues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "faillogs.jsonl")
	line := func(i int) string {
		return fmt.Sprintf(`{"ts":%d,"service":"sshd","user":"u","ip":"198.51.100.%d","sn":"P1","device_token":"%s"}`+"\n",
			1700000000+i, i, token1)
	}
	var content string
	for i := 1; i <= 3; i++ {
		content += line(i)
	}
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	rep, err := ingest.Run(ctx, pool, ingest.Options{Format: "faillogs", Path: path})
	require.NoError(t, err)
	require.EqualValues(t, 3, rep.OK)

	content += line(4) + "garbage\n" + line(6)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	rep, err = ingest.Run(ctx, pool, ingest.Options{Format: "faillogs", Path: path})
	require.NoError(t, err)
	require.EqualValues(t, 3, rep.StartLine)
	require.EqualValues(t, 3, rep.Lines)
	require.EqualValues(t, 2, rep.OK)
	require.Equal(t, []int64{5}, badLines(rep), "line numbers count from the start of the file")
	require.EqualValues(t, 5, count(t, pool, "SELECT count(*) FROM incidents"))
}

// waitCount polls until the query returns want or the deadline passes.
func waitCount(t *testing.T, pool *pgxpool.Pool, want int64, sql string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var got int64
	for time.Now().Before(deadline) {
		got = count(t, pool, sql)
		if got == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: got %d, want %d", sql, got, want)
}

type follower struct {
	cancel context.CancelFunc
	done   chan struct{}
	rep    *ingest.Report
	err    error
}

func startFollow(t *testing.T, pool *pgxpool.Pool, o ingest.Options) *follower {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &follower{cancel: cancel, done: make(chan struct{})}
	o.Follow, o.Poll, o.FlushEvery = true, 10*time.Millisecond, 10*time.Millisecond
	go func() {
		defer close(f.done)
		f.rep, f.err = ingest.Run(ctx, pool, o)
	}()
	t.Cleanup(func() { cancel(); <-f.done })
	return f
}

func (f *follower) stop(t *testing.T) *ingest.Report {
	t.Helper()
	f.cancel()
	<-f.done
	require.NoError(t, f.err)
	return f.rep
}

func TestFollowResumesAndHandlesTruncationAndRotation(t *testing.T) {
	t.Parallel()
	pool := newDB(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.log")
	n := 0
	lines := func(k int) string {
		var s string
		for range k {
			n++
			s += fmt.Sprintf("Nov 22 10:%02d:%02d gw sshd[1]: Failed password for root from 198.51.100.%d port 22 ssh2\n",
				n/60, n%60, n%250+1)
		}
		return s
	}
	appendTo := func(s string) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
		require.NoError(t, err)
		_, err = f.WriteString(s)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	const q = "SELECT count(*) FROM incidents"
	opts := ingest.Options{Format: "sshd", Path: path, Year: 2024}

	appendTo(lines(3))
	fl := startFollow(t, pool, opts)
	waitCount(t, pool, 3, q)
	appendTo(lines(2))
	waitCount(t, pool, 5, q)
	// A line still being written is not read until its newline arrives.
	partial := lines(1)
	appendTo(partial[:20])
	time.Sleep(100 * time.Millisecond)
	require.EqualValues(t, 5, count(t, pool, q))
	appendTo(partial[20:])
	waitCount(t, pool, 6, q)
	rep := fl.stop(t)
	require.EqualValues(t, 6, rep.OK)

	// Restarted, it resumes at its offset: nothing is read twice, lines written meanwhile are read.
	appendTo(lines(2))
	fl = startFollow(t, pool, opts)
	waitCount(t, pool, 8, q)
	time.Sleep(100 * time.Millisecond)
	rep = fl.stop(t)
	require.EqualValues(t, 6, rep.StartLine)
	require.EqualValues(t, 2, rep.Lines)
	require.EqualValues(t, 8, count(t, pool, q))

	// Truncated in place while followed: read again from the start.
	fl = startFollow(t, pool, opts)
	time.Sleep(50 * time.Millisecond)
	require.NoError(t, os.WriteFile(path, []byte(lines(2)), 0o644))
	waitCount(t, pool, 10, q)
	// Rotated: the old file is renamed and a new one created under the path.
	appendTo(lines(1))
	waitCount(t, pool, 11, q)
	require.NoError(t, os.Rename(path, path+".1"))
	appendTo(lines(4))
	waitCount(t, pool, 15, q)
	rep = fl.stop(t)
	require.Equal(t, 1, rep.Truncations)
	require.Equal(t, 1, rep.Rotations)

	// Replaced while stopped by a file at least as long: the fingerprint tells it apart.
	require.NoError(t, os.Rename(path, path+".2"))
	appendTo(lines(6))
	fl = startFollow(t, pool, opts)
	waitCount(t, pool, 21, q)
	rep = fl.stop(t)
	require.Equal(t, 1, rep.Rotations)
	require.EqualValues(t, 0, rep.StartLine)

	// Truncated while stopped.
	require.NoError(t, os.WriteFile(path, []byte(lines(1)), 0o644))
	fl = startFollow(t, pool, opts)
	waitCount(t, pool, 22, q)
	rep = fl.stop(t)
	require.Equal(t, 1, rep.Truncations)
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM ingest_ledger"))
}

func TestFollowKeepsOpenScanWindowsAcrossRestarts(t *testing.T) {
	t.Parallel()
	pool := newDB(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "fwlogs.jsonl")
	pkt := func(ts, port int) string {
		return fmt.Sprintf(`{"ts":%d,"protocol":"TCP","ip":"203.0.113.5","port":1,"local_port":%d,"sn":"P","device_token":"%s"}`+"\n",
			ts, port, token1)
	}
	var content string
	for p := 1; p <= 6; p++ {
		content += pkt(1700000000+p, p)
	}
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	// The clock stands still at the packets' time, so the window stays open.
	now := time.Unix(1700000010, 0)
	opts := ingest.Options{Format: "fwlogs", Path: path, Now: func() time.Time { return now }}
	fl := startFollow(t, pool, opts)
	waitCount(t, pool, 6, "SELECT count(*) FROM ports")
	fl.stop(t)
	require.EqualValues(t, 0, count(t, pool, "SELECT count(*) FROM incidents"))
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM ingest_ledger WHERE state IS NOT NULL"))

	// More ports in the same window after a restart make it a big scan; a packet 20 minutes
	// later closes it.
	content = ""
	for p := 7; p <= 12; p++ {
		content += pkt(1700000000+p, p)
	}
	content += pkt(1700001200, 80)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(content)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	fl = startFollow(t, pool, opts)
	waitCount(t, pool, 1, "SELECT count(*) FROM incidents")
	fl.stop(t)
	require.Equal(t, []string{"big_port_scan 22:13:21"}, queryStrings(t, pool,
		"SELECT action || ' ' || to_char(time AT TIME ZONE 'UTC', 'HH24:MI:SS') FROM incidents"))
	require.EqualValues(t, 13, count(t, pool, "SELECT count(*) FROM ports"))
}

func TestLongAndOddLines(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.jsonl")
	long := strings.Repeat("x", 2<<20)
	good := func(pw string) string {
		return fmt.Sprintf(`{"ts":1700000000,"type":"telnet","ip":"198.51.100.1","action":"login","data":{"username":"u","password":%q},"sn":"P","device_token":"%s"}`+"\r\n",
			pw, token1)
	}
	content := good("a") + `{"pad":"` + long + `"}` + "\n" + good(strings.Repeat("€", 300)) + good("b")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	rep, err := ingest.Run(ctx, pool, ingest.Options{Format: "minipot", Path: path})
	require.NoError(t, err)
	require.EqualValues(t, 3, rep.OK)
	require.Equal(t, []int64{2}, badLines(rep))
	require.ErrorContains(t, rep.BadLines[0], "longer than")
	require.EqualValues(t, ingest.MaxCredentialBytes-1, count(t, pool,
		"SELECT max(octet_length(password)) FROM passwords"), "cut at a character boundary")
}

func TestTokens(t *testing.T) {
	t.Parallel()
	require.True(t, ingest.ValidToken(token1))
	require.False(t, ingest.ValidToken(strings.ToUpper(token1)))
	require.False(t, ingest.ValidToken(token1[:63]))
	var r [28]byte
	copy(r[:], "0123456789012345678901234567")
	tok := ingest.TokenFrom(r)
	require.True(t, ingest.ValidToken(tok))
	require.True(t, ingest.TokenCRCValid(tok))
	require.False(t, ingest.TokenCRCValid(token1))
	require.Equal(t, ingest.HostProbe("GW"), ingest.HostProbe("gw"))
	long := ingest.HostProbe("a-very-long-hostname.example.org")
	require.Equal(t, "a-very-long-host", long.SN)
	require.NotEqual(t, long.Token, ingest.HostProbe("a-very-long-hostname.example.net").Token)
}

func TestInterruptedImportResumes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "faillogs.jsonl")
	var content string
	offsets := []int{0}
	for i := 1; i <= 10; i++ {
		content += fmt.Sprintf(`{"ts":%d,"service":"sshd","user":"u","ip":"198.51.100.%d","sn":"P1","device_token":"%s"}`+"\n",
			1700000000+i, i, token1)
		offsets = append(offsets, len(content))
	}
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	_, err := ingest.Run(ctx, pool, ingest.Options{Format: "faillogs", Path: path})
	require.NoError(t, err)

	// Make it look like a run that died after committing its first 4 lines.
	_, err = pool.Exec(ctx, "UPDATE ingest_ledger SET finished_at = NULL, offset_bytes = $1, lines = 4", offsets[4])
	require.NoError(t, err)
	_, err = pool.Exec(ctx, "DELETE FROM incidents WHERE time > to_timestamp(1700000004)")
	require.NoError(t, err)

	rep, err := ingest.Run(ctx, pool, ingest.Options{Format: "faillogs", Path: path})
	require.NoError(t, err)
	require.False(t, rep.AlreadyIngested)
	require.EqualValues(t, 4, rep.StartLine)
	require.EqualValues(t, 6, rep.OK)
	require.EqualValues(t, 10, count(t, pool, "SELECT count(*) FROM incidents"))
	require.EqualValues(t, 10, count(t, pool, "SELECT count(DISTINCT ip) FROM incidents"))
	rep, err = ingest.Run(ctx, pool, ingest.Options{Format: "faillogs", Path: path})
	require.NoError(t, err)
	require.True(t, rep.AlreadyIngested)
}
