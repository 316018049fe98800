package report

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/contacts"
	"github.com/sview-project/sview/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o600))
		return
	}
	want, err := os.ReadFile(path) // #nosec G304 -- a golden file of this package
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}

// The week 2026-11-23 to 2026-11-30 of AS2852 against the week before: only rows of the
// contact's own space count; the prefix contact 147.32.0.0/15 takes its addresses away from
// AS2852, and another network's rows never show.
func TestBuild(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testenv.Pool(t)
	importContacts(t, pool, at(t, "2026-01-01T00:00:00Z"),
		"AS2852,abuse@cesnet.example,cs,1w,",
		"147.32.0.0/15,abuse@cvut.example,en,1d,",
		"AS64500,abuse@other.example,en,1w,")
	seedHourly(t, pool, at(t, "2026-12-01T00:00:00Z"),
		row{"2026-11-24T10:00:00Z", 10, 1, "minipot_telnet", "login", "195.113.1.1", 2852},
		row{"2026-11-24T10:00:00Z", 1, 1, "minipot_telnet", "connect", "195.113.1.1", 2852},
		row{"2026-11-26T03:00:00Z", 5, 2, "fwlogs", "small_port_scan", "195.113.1.1", 2852},
		row{"2026-11-17T08:00:00Z", 4, 1, "minipot_telnet", "login", "195.113.1.1", 2852}, // week before
		row{"2026-11-18T08:00:00Z", 2, 3, "minipot_http", "message", "195.113.1.2", 2852}, // week before only
		row{"2026-11-29T23:00:00Z", 1, 3, "haas", "login", "2001:718::5", 2852},
		row{"2026-11-30T00:00:00Z", 7, 1, "minipot_telnet", "login", "195.113.1.1", 2852},    // the week after
		row{"2026-11-25T12:00:00Z", 50, 1, "minipot_telnet", "login", "147.32.1.1", 2852},    // the prefix contact's
		row{"2026-11-25T12:00:00Z", 30, 1, "minipot_telnet", "login", "198.51.100.1", 64500}, // another network
		row{"2026-11-25T12:00:00Z", 20, 1, "minipot_telnet", "login", "203.0.113.9", 64501},  // nobody's
	)
	_, err := pool.Exec(ctx, `INSERT INTO greylist (ip, tags, score, probes, asn) VALUES ('2001:718::5', '{ssh}', 3.5, 12, 2852)`)
	require.NoError(t, err)
	list, err := contacts.List(ctx, pool)
	require.NoError(t, err)
	as2852, prefix := list[0], list[2]
	require.Equal(t, "AS2852", as2852.Key())
	require.Equal(t, "147.32.0.0/15", prefix.Key())

	generated := at(t, "2026-12-01T06:00:00Z")
	r, err := Build(ctx, pool, as2852, at(t, "2026-11-23T00:00:00Z"), at(t, "2026-11-30T00:00:00Z"), generated)
	require.NoError(t, err)
	require.Equal(t, at(t, "2026-11-16T00:00:00Z"), r.PrevFrom)
	require.EqualValues(t, 17, r.Incidents)
	require.EqualValues(t, 6, r.Prev)
	require.Equal(t, 2, r.Addresses)
	require.Equal(t, 2, r.PrevAddresses)
	require.Equal(t, 1, r.Greylisted)
	require.Equal(t, []Kind{
		{"minipot_telnet", "login", 10, 4},
		{"fwlogs", "small_port_scan", 5, 0},
		{"haas", "login", 1, 0},
		{"minipot_telnet", "connect", 1, 0},
		{"minipot_http", "message", 0, 2},
	}, r.Kinds)
	require.Equal(t, []Host{
		{IP: netip.MustParseAddr("195.113.1.1"), FirstSeen: at(t, "2026-11-24T10:00:00Z"), LastSeen: at(t, "2026-11-26T04:00:00Z"),
			Incidents: 16, Prev: 4, Probes: 2, Traps: []string{"fwlogs", "minipot_telnet"},
			Actions: []string{"connect", "login", "small_port_scan"}, Tags: []string{}},
		{IP: netip.MustParseAddr("2001:718::5"), FirstSeen: at(t, "2026-11-29T23:00:00Z"), LastSeen: at(t, "2026-11-30T00:00:00Z"),
			Incidents: 1, Probes: 1, Traps: []string{"haas"}, Actions: []string{"login"},
			Greylisted: true, Score: 3.5, Tags: []string{"ssh"}},
	}, r.Hosts)

	var text, table, idea bytes.Buffer
	require.NoError(t, WriteText(&text, r))
	require.NoError(t, WriteCSV(&table, r))
	require.NoError(t, WriteIDEA(&idea, r))
	golden(t, "as2852.txt", text.Bytes())
	golden(t, "as2852.csv", table.Bytes())
	golden(t, "as2852.idea.json", idea.Bytes())
	var events []map[string]any
	require.NoError(t, json.Unmarshal(idea.Bytes(), &events))
	require.Len(t, events, 2)
	require.Equal(t, "IDEA0", events[0]["Format"])
	require.Equal(t, []any{"2001:718::5"}, events[1]["Source"].([]any)[0].(map[string]any)["IP6"])

	// The same report built again carries the same event IDs.
	again, err := Build(ctx, pool, as2852, r.From, r.To, generated)
	require.NoError(t, err)
	require.Equal(t, Events(r)[0].ID, Events(again)[0].ID)

	// The prefix contact sees its own address only, in English.
	r, err = Build(ctx, pool, prefix, at(t, "2026-11-25T00:00:00Z"), at(t, "2026-11-26T00:00:00Z"), generated)
	require.NoError(t, err)
	require.Len(t, r.Hosts, 1)
	require.Equal(t, "147.32.1.1", r.Hosts[0].IP.String())
	text.Reset()
	require.NoError(t, WriteText(&text, r))
	golden(t, "prefix.txt", text.Bytes())

	// A window without activity is empty.
	r, err = Build(ctx, pool, list[1], at(t, "2026-11-02T00:00:00Z"), at(t, "2026-11-09T00:00:00Z"), generated)
	require.NoError(t, err)
	require.True(t, r.Empty())
	require.Empty(t, r.Hosts)
}

// Every language a contact may ask for has its words, and each has every phrase.
func TestLanguages(t *testing.T) {
	for _, l := range contacts.Languages {
		w, ok := languages[l]
		require.True(t, ok, l)
		require.Len(t, w.cadence, len(contacts.Cadences), l)
		require.Len(t, w.columnsKind, 5, l)
		require.Len(t, w.columnsHost, 8, l)
		for _, phrase := range []string{w.subject, w.title, w.window, w.previous, w.summary, w.incidents, w.addresses,
			w.greylisted, w.byKind, w.hosts, w.more, w.yes, w.no, w.new, w.footer} {
			require.NotEmpty(t, phrase, l)
		}
	}
	require.Len(t, languages, len(contacts.Languages))
	require.Equal(t, languages["en"].title, wordsOf("de").title, "other languages get English")
}

// The text lists the busiest MaxTextHosts addresses and says how many more the CSV holds.
func TestTextListsTheBusiestAddresses(t *testing.T) {
	r := &Report{Contact: contacts.Contact{ASN: 64500, Language: "en", Cadence: contacts.Daily},
		From: at(t, "2026-12-05T00:00:00Z"), To: at(t, "2026-12-06T00:00:00Z")}
	for i := range MaxTextHosts + 2 {
		r.Hosts = append(r.Hosts, Host{IP: netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), Incidents: int64(100 - i)})
	}
	var text, table bytes.Buffer
	require.NoError(t, WriteText(&text, r))
	require.Contains(t, text.String(), "192.0.2.49 ")
	require.NotContains(t, text.String(), "192.0.2.50 ")
	require.Contains(t, text.String(), "… and 2 more addresses, all of them in the attached CSV.")
	require.NoError(t, WriteCSV(&table, r))
	require.Contains(t, table.String(), "192.0.2.51,")
}

func TestWebhookHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.example/sview?token=x": "hooks.example",
		"http://user:pw@hooks.example:8080/a": "hooks.example:8080",
		"https://[2001:db8::1]/h#frag":        "[2001:db8::1]",
	} {
		require.Equal(t, want, webhookHost(in), in)
	}
}
