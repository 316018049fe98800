package ingest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/ingest"
)

// feedRows lists feed_events as "time provider feed taxonomy type identifier ip country asn count".
const feedRows = `
	SELECT concat_ws(' ', to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), coalesce(provider, '-'), feed,
		taxonomy, type, coalesce(identifier, '-'), host(ip), coalesce(country, '-'), coalesce(asn::text, '-'), raw_count)
	FROM feed_events ORDER BY time, ip`

func TestIDEA(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	rep, err := ingest.Run(ctx, pool, ingest.Options{Format: "idea", Path: "testdata/idea.jsonl", Provider: "CESNET", BatchRows: 2})
	require.NoError(t, err)
	require.EqualValues(t, 13, rep.Lines)
	require.EqualValues(t, 5, rep.OK)
	require.EqualValues(t, 1, rep.Skipped)
	require.Equal(t, []int64{5, 6, 7, 8, 9, 10, 12}, badLines(rep))
	for i, reason := range []string{`Format "IDEA1"`, "ConnCount 0", "no single Source address (2 networks or ranges",
		"Node Name is missing", "DetectTime 1999-12-31T23:59:59Z is outside", `"not-an-ip" is not an address, network or range`, "invalid JSON"} {
		require.ErrorContains(t, rep.BadLines[i], reason)
	}
	require.Equal(t, ingest.Counts{FeedEvents: 6}, rep.Rows)
	require.Zero(t, rep.NewProbes, "feed events name no probe of ours")

	require.Equal(t, []string{
		"2024-11-22 09:10:00 CESNET cz.example.sshguard intrusion-attempts brute-force Attempt.Login 203.0.113.9 CN 64502 1",
		"2024-11-22 09:10:00 CESNET cz.example.sshguard intrusion-attempts brute-force Attempt.Login 2001:db8::5 DE 64503 1",
		"2024-11-22 10:00:00 CESNET cz.example.honeypot information-gathering scanner Recon.Scanning 198.51.100.7 CZ 64501 12",
		"2024-11-22 11:00:00 CESNET cz.example.honeypot malicious-code infected-system Malware.Worm 192.0.2.1 - - 3",
		"2024-11-22 12:00:00 CESNET cz.example.flowmon other undetermined Anomaly.Traffic 198.51.100.9 CZ 64501 1",
		"2024-11-22 13:00:00 CESNET cz.example.flowmon availability ddos Availability.DDoS 198.51.100.8 CZ 64501 250",
	}, queryStrings(t, pool, feedRows))

	// Without --provider the provider is NULL.
	pool2 := newDB(t)
	_, err = ingest.Run(ctx, pool2, ingest.Options{Format: "idea", Path: "testdata/idea.jsonl"})
	require.NoError(t, err)
	require.EqualValues(t, 6, count(t, pool2, "SELECT count(*) FROM feed_events WHERE provider IS NULL"))
}

func TestIntelMQ(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	rep, err := ingest.Run(ctx, pool, ingest.Options{Format: "intelmq", Path: "testdata/intelmq.jsonl"})
	require.NoError(t, err)
	require.EqualValues(t, 11, rep.Lines)
	require.EqualValues(t, 4, rep.OK)
	require.Equal(t, []int64{4, 5, 6, 7, 8, 9, 11}, badLines(rep))
	for i, reason := range []string{`classification.type "botnet drone" is not an IntelMQ type`,
		`classification.taxonomy "malware": want one of abusive-content, availability,`, "feed.name is missing",
		"time.source and time.observation are missing", `source.ip "scanner.example.com"`,
		"source.asn 4294967295 is out of range", `source.geolocation.cc "CZE"`} {
		require.ErrorContains(t, rep.BadLines[i], reason)
	}
	require.Equal(t, ingest.Counts{FeedEvents: 4}, rep.Rows)

	// The event's own ASN and country win over the prefixes (198.51.100.7 is CZ 64501 there);
	// an event with neither is enriched; one with only an ASN keeps its country NULL.
	require.Equal(t, []string{
		"2024-11-22 10:00:00 Example CERT SSH Brute Force intrusion-attempts brute-force ssh 198.51.100.7 NL 64999 1",
		"2024-11-22 10:01:00 - Open Scanners information-gathering scanner - 203.0.113.9 CN 64502 1",
		"2024-11-22 11:00:00 Example Sinkhole malicious-code infected-system mirai 2001:db8::5 DE 64503 1",
		"2024-11-22 12:00:00 Example CERT Test Feed test test - 192.0.2.1 - 64510 1",
	}, queryStrings(t, pool, feedRows))

	var sb strings.Builder
	rep.Summary(&sb)
	require.Contains(t, sb.String(), "rows: 0 incidents, 0 passwords, 0 ports, 4 feed events, 0 commands")
}

func TestHaaS(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	rep, err := ingest.Run(ctx, pool, ingest.Options{Format: "haas", Path: "testdata/haas.jsonl"})
	require.NoError(t, err)
	require.EqualValues(t, 8, rep.Lines)
	require.EqualValues(t, 3, rep.OK)
	require.Equal(t, []int64{3, 4, 6, 7, 8}, badLines(rep))
	for i, reason := range []string{"logins[0]: password is missing", "ip is missing", "ts is missing",
		"longer than 16", "not a JSON object"} {
		require.ErrorContains(t, rep.BadLines[i], reason)
	}
	require.Equal(t, ingest.Counts{Incidents: 3, Passwords: 3, Commands: 3}, rep.Rows)
	require.Equal(t, 2, rep.NewProbes)

	haas := ingest.HostProbe("haas")
	require.EqualValues(t, 1, count(t, pool, "SELECT count(*) FROM identity WHERE sn = 'haas' AND device_token = $1", haas.Token))
	require.Equal(t, []string{
		"10:00:00 haas haas login 198.51.100.7 CZ",
		"10:00:00 0000000A00000001 haas connect 203.0.113.9 CN",
		"10:30:00 haas haas login 2001:db8::5 DE",
	}, queryStrings(t, pool, `
		SELECT concat_ws(' ', to_char(time AT TIME ZONE 'UTC', 'HH24:MI:SS'), i.sn, trap, action, host(ip), country)
		FROM incidents JOIN identity i ON i.id = identity_id ORDER BY time, i.sn DESC`))
	require.Equal(t, []string{
		"root 123456 haas 198.51.100.7 haas CZ",
		"admin admin haas 198.51.100.7 haas CZ",
		" x haas 2001:db8::5 haas DE",
	}, queryStrings(t, pool, `
		SELECT concat_ws(' ', username, password, trap, host(ip), i.sn, country)
		FROM passwords JOIN identity i ON i.id = identity_id ORDER BY time, username DESC`))
	require.Equal(t, []string{
		"10:00:00 uname -a 198.51.100.7 haas CZ 64501 1",
		"10:00:00 cat /proc/cpuinfo | grep name 198.51.100.7 haas CZ 64501 1",
		"10:30:00 echo \uFFFDx 2001:db8::5 haas DE 64503 1",
	}, queryStrings(t, pool, `
		SELECT concat_ws(' ', to_char(time AT TIME ZONE 'UTC', 'HH24:MI:SS'), command, host(ip), i.sn, country, asn, raw_count)
		FROM commands JOIN identity i ON i.id = identity_id ORDER BY time, command DESC`))

	// --probe names the probe of sessions without an envelope; sessions with one keep theirs.
	pool2 := newDB(t)
	_, err = ingest.Run(ctx, pool2, ingest.Options{Format: "haas", Path: "testdata/haas.jsonl", Host: "HP-Prague"})
	require.NoError(t, err)
	require.Equal(t, []string{"0000000A00000001 1", "hp-prague 2"}, queryStrings(t, pool2, `
		SELECT concat_ws(' ', i.sn, count(*)) FROM incidents JOIN identity i ON i.id = identity_id GROUP BY i.sn ORDER BY i.sn`))
	require.EqualValues(t, 3, count(t, pool2, "SELECT count(*) FROM commands c JOIN identity i ON i.id = c.identity_id WHERE i.sn = 'hp-prague'"))

	// The same with --sn/--token.
	pool3 := newDB(t)
	probe := ingest.Probe{SN: "hp-7", Token: token1}
	_, err = ingest.Run(ctx, pool3, ingest.Options{Format: "haas", Path: "testdata/haas.jsonl", Probe: &probe})
	require.NoError(t, err)
	require.EqualValues(t, 2, count(t, pool3, "SELECT count(*) FROM incidents JOIN identity i ON i.id = identity_id WHERE i.sn = 'hp-7'"))
}

func TestEcosystemOptionsChecked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	for _, c := range []struct {
		o    ingest.Options
		want string
	}{
		{ingest.Options{Format: "intelmq", Provider: "X"}, "--provider is for the idea format"},
		{ingest.Options{Format: "idea", Host: "h"}, "--probe is for the haas format"},
		{ingest.Options{Format: "haas", Host: "h", Probe: &ingest.Probe{SN: "s", Token: token1}}, "give one"},
		{ingest.Options{Format: "intelmq", Probe: &ingest.Probe{SN: "s", Token: token1}}, "sshd and haas"},
		{ingest.Options{Format: "stix"}, "want minipot, fwlogs, faillogs, sshd, idea, intelmq, haas"},
	} {
		c.o.Path = "testdata/haas.jsonl"
		_, err := ingest.Run(ctx, pool, c.o)
		require.ErrorContains(t, err, c.want, c.o.Format)
	}
}

func TestEcosystemCountedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newDB(t)
	dir := t.TempDir()
	for _, format := range []string{"idea", "intelmq", "haas"} {
		path := "testdata/" + format + ".jsonl"
		rep, err := ingest.Run(ctx, pool, ingest.Options{Format: format, Path: path})
		require.NoError(t, err)
		require.False(t, rep.AlreadyIngested, format)

		// Again, and a copy under another name.
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		cp := filepath.Join(dir, format+"-copy.jsonl")
		require.NoError(t, os.WriteFile(cp, data, 0o644))
		for _, p := range []string{path, cp} {
			rep, err = ingest.Run(ctx, pool, ingest.Options{Format: format, Path: p})
			require.NoError(t, err)
			require.True(t, rep.AlreadyIngested, p)
			require.Zero(t, rep.Rows.Total(), p)
		}
	}
	require.EqualValues(t, 6+4, count(t, pool, "SELECT count(*) FROM feed_events"))
	require.EqualValues(t, 3, count(t, pool, "SELECT count(*) FROM incidents"))
	require.EqualValues(t, 3, count(t, pool, "SELECT count(*) FROM passwords"))
	require.EqualValues(t, 3, count(t, pool, "SELECT count(*) FROM commands"))
}

func TestFollowIntelMQ(t *testing.T) {
	t.Parallel()
	pool := newDB(t)
	path := filepath.Join(t.TempDir(), "events.jsonl")
	n := 0
	appendLines := func(k int) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
		require.NoError(t, err)
		for range k {
			n++
			_, err = fmt.Fprintf(f, `{"source.ip":"198.51.100.%d","classification.type":"brute-force","feed.name":"F","time.source":"2024-11-22T10:%02d:00Z"}`+"\n", n, n)
			require.NoError(t, err)
		}
		require.NoError(t, f.Close())
	}
	const q = "SELECT count(*) FROM feed_events"
	opts := ingest.Options{Format: "intelmq", Path: path}

	appendLines(3)
	fl := startFollow(t, pool, opts)
	waitCount(t, pool, 3, q)
	appendLines(2)
	waitCount(t, pool, 5, q)
	rep := fl.stop(t)
	require.EqualValues(t, 5, rep.OK)

	// A restart resumes after the lines already read.
	appendLines(1)
	fl = startFollow(t, pool, opts)
	waitCount(t, pool, 6, q)
	rep = fl.stop(t)
	require.EqualValues(t, 5, rep.StartLine)
	require.EqualValues(t, 1, rep.Lines)
	require.EqualValues(t, 6, count(t, pool, "SELECT count(DISTINCT ip) FROM feed_events WHERE taxonomy = 'intrusion-attempts'"))
}
