package answer

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/period"
	"github.com/sview-project/sview/internal/query"
	"github.com/sview-project/sview/internal/testenv"
)

var eventsFrom = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// seedEvents writes raw rows for the events tests:
//   - incidents: 30 telnet logins from 192.0.2.1 (CZ, AS64500) on probe 1, in ten instants of
//     three rows each (minute m of eventsFrom, m = 1…10), then 6 rows at minute 20, and one
//     connect from 198.51.100.7 (DE, AS64501) on probe 2 at minute 30; each row's raw_count
//     (≥ 2) tells it apart;
//   - logins: root/123456 from 192.0.2.1 on probe 1 (minute 5) and admin/admin from
//     198.51.100.7 on probe 2 (minute 6), and an original-schema row with no attacker;
//   - scans: TCP/22 from 198.51.100.7 on probe 2, UDP/53 from 192.0.2.1 on probe 1;
//   - feeds: an SSH scanner 192.0.2.1 from Shadowserver (minute 11), a Mirai bot 198.51.100.7
//     from a feed without provider (minute 12, 4 times);
//   - commands: "uname -a" from 192.0.2.1 on probe 1 (minute 13).
func seedEvents(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := testenv.Pool(t)
	for i, s := range []string{
		`INSERT INTO identity (id, sn, device_token) VALUES (1, '0000000000000001', repeat('ab', 32)), (2, '0000000000000002', repeat('cd', 32))`,
		`INSERT INTO geo_prefixes (network, asn, country, as_name) VALUES ('192.0.2.0/24', 64500, 'CZ', 'EXAMPLE-NET'), ('198.51.100.0/24', 64501, 'DE', NULL)`,
		`INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
			SELECT $1::timestamptz + m * interval '1 minute', 10 * m + k, 1, 'minipot_telnet', 'login', '192.0.2.1', 'CZ', 64500
			FROM generate_series(1, 10) AS m, generate_series(0, 2) AS k`,
		`INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
			SELECT $1::timestamptz + interval '20 minutes', 200 + k, 1, 'minipot_telnet', 'login', '192.0.2.1', 'CZ', 64500 FROM generate_series(0, 5) AS k`,
		`INSERT INTO incidents (time, raw_count, identity_id, trap, action, ip, country, asn)
			VALUES ($1::timestamptz + interval '30 minutes', 300, 2, 'minipot_http', 'connect', '198.51.100.7', 'DE', 64501)`,
		`INSERT INTO passwords (time, raw_count, username, password, identity_id, trap, ip, country, asn) VALUES
			($1::timestamptz + interval '5 minutes', 1, 'root', '123456', 1, 'minipot_telnet', '192.0.2.1', 'CZ', 64500),
			($1::timestamptz + interval '6 minutes', 3, 'admin', 'admin', 2, 'minipot_ftp', '198.51.100.7', 'DE', 64501),
			($1::timestamptz + interval '7 minutes', 1, 'guest', 'guest', NULL, NULL, NULL, NULL, NULL)`,
		`INSERT INTO ports (time, raw_count, port, protocol, identity_id, ip, country, asn) VALUES
			($1::timestamptz + interval '8 minutes', 1, 22, 'TCP', 2, '198.51.100.7', 'DE', 64501),
			($1::timestamptz + interval '9 minutes', 1, 53, 'UDP', 1, '192.0.2.1', 'CZ', 64500)`,
		`INSERT INTO feed_events (time, raw_count, provider, feed, taxonomy, type, identifier, ip, country, asn) VALUES
			($1::timestamptz + interval '11 minutes', 1, 'Shadowserver', 'Scan-SSH', 'information-gathering', 'scanner', 'ssh', '192.0.2.1', 'CZ', 64500),
			($1::timestamptz + interval '12 minutes', 4, NULL, 'warden.dionaea', 'malicious-code', 'infected-system', NULL, '198.51.100.7', 'DE', 64501)`,
		`INSERT INTO commands (time, raw_count, command, identity_id, ip, country, asn) VALUES
			($1::timestamptz + interval '13 minutes', 1, 'uname -a', 1, '192.0.2.1', 'CZ', 64500)`,
	} {
		var args []any
		if strings.Contains(s, "$1") {
			args = append(args, eventsFrom)
		}
		_, err := pool.Exec(context.Background(), s, args...)
		require.NoError(t, err, "seed statement %d", i+1)
	}
	return pool
}

// events answers js for scope over the hour from eventsFrom.
func events(t *testing.T, s *Service, scope query.Scope, js string) *data.Frame {
	t.Helper()
	q, err := query.Parse([]byte(js))
	require.NoError(t, err)
	q, err = scope.Apply(q)
	require.NoError(t, err)
	frames, err := s.Frames(context.Background(), Request{Query: q, Range: period.Range{From: eventsFrom, To: eventsFrom.Add(time.Hour), Interval: time.Minute}})
	require.NoError(t, err)
	require.Len(t, frames, 1)
	f := frames[0]
	require.Equal(t, data.FrameTypeLogLines, f.Meta.Type)
	require.Equal(t, data.VisTypeLogs, string(f.Meta.PreferredVisualization))
	require.Equal(t, []string{"timestamp", "body", "labels"}, []string{f.Fields[0].Name, f.Fields[1].Name, f.Fields[2].Name})
	return f
}

type logLine struct {
	time   time.Time
	body   string
	labels map[string]string
}

func lines(t *testing.T, f *data.Frame) []logLine {
	t.Helper()
	out := make([]logLine, f.Rows())
	for i := range out {
		out[i].time = f.Fields[0].At(i).(time.Time)
		out[i].body = f.Fields[1].At(i).(string)
		require.NoError(t, json.Unmarshal(f.Fields[2].At(i).(json.RawMessage), &out[i].labels))
	}
	return out
}

func meta(f *data.Frame) map[string]any { return f.Meta.Custom.(map[string]any) }

func TestEventsKinds(t *testing.T) {
	t.Parallel()
	s := &Service{DB: seedEvents(t)}
	all := query.Scope{All: true}

	inc := lines(t, events(t, s, all, `{"queryType":"events","events":"incidents","limit":2}`))
	require.Len(t, inc, 1, "the newest row, alone: the next instant's six rows do not fit a page of 2 beside it")
	require.Equal(t, eventsFrom.Add(30*time.Minute), inc[0].time)
	require.Equal(t, "198.51.100.7 (DE, AS64501) minipot_http connect on probe 0000000000000002 (300 times)", inc[0].body)
	require.Equal(t, map[string]string{"ip": "198.51.100.7", "country": "DE", "asn": "64501", "probe_id": "2", "probe": "0000000000000002",
		"trap": "minipot_http", "action": "connect", "count": "300"}, inc[0].labels)

	logins := lines(t, events(t, s, all, `{"queryType":"events","events":"logins"}`))
	require.Len(t, logins, 3)
	require.Equal(t, "guest / guest from an unknown address", logins[0].body, "the original schema kept no attacker of a login")
	require.Equal(t, "admin / admin from 198.51.100.7 (DE, AS64501) on minipot_ftp, probe 0000000000000002 (3 times)", logins[1].body)
	require.Equal(t, "root / 123456 from 192.0.2.1 (CZ, AS64500 EXAMPLE-NET) on minipot_telnet, probe 0000000000000001", logins[2].body)
	require.Equal(t, map[string]string{"ip": "192.0.2.1", "country": "CZ", "asn": "64500", "asn_name": "EXAMPLE-NET", "probe_id": "1",
		"probe": "0000000000000001", "trap": "minipot_telnet", "username": "root", "password": "123456"}, logins[2].labels)

	scans := lines(t, events(t, s, all, `{"queryType":"events","events":"scans"}`))
	require.Len(t, scans, 2)
	require.Equal(t, "UDP/53 scanned from 192.0.2.1 (CZ, AS64500 EXAMPLE-NET) on probe 0000000000000001", scans[0].body)
	require.Equal(t, "TCP/22", scans[1].labels["port"])

	feeds := lines(t, events(t, s, all, `{"queryType":"events","events":"feeds"}`))
	require.Len(t, feeds, 2)
	require.Equal(t, "198.51.100.7 (DE, AS64501) malicious-code/infected-system reported by warden.dionaea (4 times)", feeds[0].body)
	require.Equal(t, "192.0.2.1 (CZ, AS64500 EXAMPLE-NET) information-gathering/scanner (ssh) reported by Shadowserver Scan-SSH", feeds[1].body)
	require.Equal(t, map[string]string{"ip": "192.0.2.1", "country": "CZ", "asn": "64500", "asn_name": "EXAMPLE-NET",
		"taxonomy": "information-gathering", "type": "scanner", "identifier": "ssh", "provider": "Shadowserver", "feed": "Scan-SSH"}, feeds[1].labels)
	require.Len(t, lines(t, events(t, s, all, `{"queryType":"events","events":"feeds","filters":{"taxonomy":["malicious-code"]}}`)), 1)
	require.Empty(t, lines(t, events(t, s, query.Scope{Probes: []int64{1, 2}}, `{"queryType":"events","events":"feeds"}`)),
		"a probe owner sees no feed event: none is a probe's")

	commands := lines(t, events(t, s, all, `{"queryType":"events","events":"commands"}`))
	require.Len(t, commands, 1)
	require.Equal(t, `"uname -a" typed from 192.0.2.1 (CZ, AS64500 EXAMPLE-NET) on probe 0000000000000001`, commands[0].body)
}

func TestEventsFilters(t *testing.T) {
	t.Parallel()
	s := &Service{DB: seedEvents(t)}
	all := query.Scope{All: true}

	byIP := lines(t, events(t, s, all, `{"queryType":"events","events":"incidents","filters":{"ip":"198.51.100.0/24"}}`))
	require.Len(t, byIP, 1)
	require.Equal(t, "198.51.100.7", byIP[0].labels["ip"])

	byPassword := lines(t, events(t, s, all, `{"queryType":"events","events":"logins","filters":{"password":"123456"}}`))
	require.Len(t, byPassword, 1)
	require.Equal(t, "root", byPassword[0].labels["username"])

	byPort := lines(t, events(t, s, all, `{"queryType":"events","events":"scans","filters":{"port":22}}`))
	require.Len(t, byPort, 1)
	require.Equal(t, "198.51.100.7", byPort[0].labels["ip"])

	excluded := lines(t, events(t, s, all, `{"queryType":"events","events":"logins","exclude":{"country":["DE"]}}`))
	require.Len(t, excluded, 2, "the row with no country stays: NULL matches no excluded value")
	for _, l := range excluded {
		require.NotEqual(t, "DE", l.labels["country"])
	}

	limited := events(t, s, all, `{"queryType":"events","events":"incidents","filters":{"trap":"minipot_telnet"},"limit":7}`)
	require.Equal(t, 6, limited.Rows(), "the six rows of minute 20 fill the page; the seventh row's instant is left whole for the next")
	require.Equal(t, true, meta(limited)["more"])
	require.Equal(t, eventsFrom.Add(20*time.Minute).Format(time.RFC3339Nano), meta(limited)["nextBefore"])

	instant := events(t, s, all, `{"queryType":"events","events":"incidents","limit":2,"before":"`+eventsFrom.Add(30*time.Minute).Format(time.RFC3339)+`"}`)
	require.Equal(t, 6, instant.Rows(), "a page that would be one instant only holds the whole instant")
	require.Equal(t, true, meta(instant)["more"])
	last := events(t, s, all, `{"queryType":"events","events":"incidents","limit":2,"before":"`+eventsFrom.Add(2*time.Minute).Format(time.RFC3339)+`"}`)
	require.Equal(t, 3, last.Rows(), "the oldest instant, whole")
	require.Equal(t, map[string]any{"more": false}, meta(last), "nothing older: no next page")

	outside := events(t, s, all, `{"queryType":"events","events":"incidents","before":"`+eventsFrom.Format(time.RFC3339)+`"}`)
	require.Zero(t, outside.Rows(), "before the dashboard range there is nothing to read")
	require.Equal(t, map[string]any{"more": false}, meta(outside))
}

// TestEventsPaging pages through every incident with before: each row once, none lost, whatever
// the page size, though rows share instants.
func TestEventsPaging(t *testing.T) {
	t.Parallel()
	s := &Service{DB: seedEvents(t)}
	for _, limit := range []int{1, 2, 3, 4, 5, 7, 100} {
		seen := map[string]bool{}
		before, pages := "", 0
		for {
			js := `{"queryType":"events","events":"incidents","limit":` + strconv.Itoa(limit) + `,"before":"` + before + `"}`
			f := events(t, s, query.Scope{All: true}, js)
			pages++
			require.Less(t, pages, 40, "paging ends")
			var last time.Time
			for _, l := range lines(t, f) {
				require.False(t, seen[l.labels["count"]], "limit %d: row %s returned twice", limit, l.labels["count"])
				seen[l.labels["count"]] = true
				if !last.IsZero() {
					require.False(t, l.time.After(last), "newest first")
				}
				last = l.time
			}
			if meta(f)["more"] == false {
				break
			}
			before = meta(f)["nextBefore"].(string)
			require.Equal(t, last.Format(time.RFC3339Nano), before, "the next page starts below the oldest row shown")
		}
		require.Len(t, seen, 37, "limit %d: every incident, once", limit)
	}
}

func TestEventsScope(t *testing.T) {
	t.Parallel()
	s := &Service{DB: seedEvents(t)}

	public := lines(t, events(t, s, query.Scope{Public: true, Probes: []int64{1}}, `{"queryType":"events","events":"logins"}`))
	require.Len(t, public, 3, "public callers see every row")
	require.Equal(t, "0000000000000001", public[2].labels["probe"], "their own probe is named")
	require.NotContains(t, public[1].labels, "probe", "another probe is not")
	require.NotContains(t, public[1].labels, "probe_id")
	require.NotContains(t, public[1].body, "0000000000000002")

	anonymous := lines(t, events(t, s, query.Scope{Public: true}, `{"queryType":"events","events":"scans"}`))
	require.Len(t, anonymous, 2)
	for _, l := range anonymous {
		require.NotContains(t, l.labels, "probe")
		require.NotContains(t, l.body, "probe")
	}

	operator := lines(t, events(t, s, query.Scope{ASNs: []int64{64501}}, `{"queryType":"events","events":"incidents"}`))
	require.Len(t, operator, 1, "a network operator sees the rows of its networks only")
	require.Equal(t, "64501", operator[0].labels["asn"])
	require.NotContains(t, operator[0].labels, "probe")

	owner := lines(t, events(t, s, query.Scope{Probes: []int64{2}}, `{"queryType":"events","events":"scans"}`))
	require.Len(t, owner, 1, "a probe owner sees its probe's rows")
	require.Equal(t, "0000000000000002", owner[0].labels["probe"])
}
