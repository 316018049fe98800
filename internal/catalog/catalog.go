// Package catalog holds the 29 resources of the original Sentinel View as presets, and the few
// sview adds for the CSIRT ecosystem's events: each names a stats query (metric, grouping,
// format, limit) that internal/query expands.
package catalog

import "slices"

// The original's limits (queries/limits.py).
const (
	LimitDashboard = 15
	LimitLong      = 30
	LimitPlot      = 7
)

// Preset is one resource of the original catalog.
type Preset struct {
	Name    string
	Title   string
	Metric  string // incidents | attackers | usages | scans | events | commands
	GroupBy string // "" or a groupBy value of the query model
	Format  string // timeseries | table | map
	Limit   int    // top-N; 0 for all (maps) or when nothing is grouped
	// Requires names the filter the resource is about (probe for my_*, ip or password for the
	// selected_* and detail resources); a query without it is rejected.
	Requires string
	// Precached marks the 23 resources the original kept warm for every period, and the
	// additions kept warm likewise.
	Precached bool
	// Added marks a preset the original did not have.
	Added bool
}

// All is the catalog in the original's order.
var All = []Preset{
	{Name: "all_incidents_graph", Title: "Incidents", Metric: "incidents", Format: "timeseries", Precached: true},
	{Name: "all_attackers_graph", Title: "Attackers", Metric: "attackers", Format: "timeseries", Precached: true},
	{Name: "top_incident_types_by_incidents_list", Title: "Top incident types", Metric: "incidents", GroupBy: "combination", Format: "table", Limit: LimitDashboard, Precached: true},
	{Name: "top_traps_by_incidents_graph", Title: "Incidents by trap", Metric: "incidents", GroupBy: "trap", Format: "timeseries", Limit: LimitPlot, Precached: true},
	{Name: "top_actions_by_incidents_graph", Title: "Incidents by action", Metric: "incidents", GroupBy: "action", Format: "timeseries", Limit: LimitPlot, Precached: true},
	{Name: "top_attackers_by_incidents_list_long", Title: "Top attackers", Metric: "incidents", GroupBy: "ip", Format: "table", Limit: LimitLong, Precached: true},
	{Name: "top_countries_by_incidents_list", Title: "Top countries by incidents", Metric: "incidents", GroupBy: "country", Format: "table", Limit: LimitDashboard, Precached: true},
	{Name: "top_countries_by_incidents_list_long", Title: "Top countries by incidents", Metric: "incidents", GroupBy: "country", Format: "table", Limit: LimitLong, Precached: true},
	{Name: "top_countries_by_attackers_list", Title: "Top countries by attackers", Metric: "attackers", GroupBy: "country", Format: "table", Limit: LimitDashboard, Precached: true},
	{Name: "top_countries_by_attackers_list_long", Title: "Top countries by attackers", Metric: "attackers", GroupBy: "country", Format: "table", Limit: LimitLong, Precached: true},
	{Name: "all_countries_by_incidents_list", Title: "Incidents by country", Metric: "incidents", GroupBy: "country", Format: "map", Precached: true},
	{Name: "all_countries_by_attackers_list", Title: "Attackers by country", Metric: "attackers", GroupBy: "country", Format: "map", Precached: true},
	{Name: "top_countries_by_incidents_graph", Title: "Incidents by country", Metric: "incidents", GroupBy: "country", Format: "timeseries", Limit: LimitPlot, Precached: true},
	{Name: "top_countries_by_attackers_graph", Title: "Attackers by country", Metric: "attackers", GroupBy: "country", Format: "timeseries", Limit: LimitPlot, Precached: true},
	{Name: "selected_attacker_incidents_graph", Title: "Incidents of the attacker", Metric: "incidents", Format: "timeseries", Requires: "ip"},
	{Name: "my_all_incidents_graph", Title: "Incidents on my devices", Metric: "incidents", Format: "timeseries", Requires: "probe"},
	{Name: "my_top_countries_by_incidents_graph", Title: "Incidents on my devices by country", Metric: "incidents", GroupBy: "country", Format: "timeseries", Limit: LimitPlot, Requires: "probe"},
	{Name: "my_top_traps_by_incidents_graph", Title: "Incidents on my devices by trap", Metric: "incidents", GroupBy: "trap", Format: "timeseries", Limit: LimitPlot, Requires: "probe"},
	{Name: "top_passwords_by_usages_list", Title: "Top passwords", Metric: "usages", GroupBy: "password", Format: "table", Limit: LimitDashboard, Precached: true},
	{Name: "top_passwords_by_usages_list_long", Title: "Top passwords", Metric: "usages", GroupBy: "password", Format: "table", Limit: LimitLong, Precached: true},
	{Name: "top_usernames_by_usages_list", Title: "Top usernames", Metric: "usages", GroupBy: "username", Format: "table", Limit: LimitDashboard, Precached: true},
	{Name: "top_usernames_by_usages_list_long", Title: "Top usernames", Metric: "usages", GroupBy: "username", Format: "table", Limit: LimitLong, Precached: true},
	{Name: "top_combinations_by_usages_list_long", Title: "Top username and password combinations", Metric: "usages", GroupBy: "combination", Format: "table", Limit: LimitLong, Precached: true},
	{Name: "top_passwords_by_usages_graph", Title: "Password usages", Metric: "usages", GroupBy: "password", Format: "timeseries", Limit: LimitPlot, Precached: true},
	{Name: "selected_password_by_usages_graph", Title: "Usages of the password", Metric: "usages", Format: "timeseries", Requires: "password"},
	{Name: "logins_of_password_by_usages_list", Title: "Usernames used with the password", Metric: "usages", GroupBy: "username", Format: "table", Limit: LimitLong, Requires: "password"},
	{Name: "all_ports_by_scans_graph", Title: "Port scans", Metric: "scans", Format: "timeseries", Precached: true},
	{Name: "top_ports_by_scans_list_long", Title: "Top scanned ports", Metric: "scans", GroupBy: "port", Format: "table", Limit: LimitLong, Precached: true},
	{Name: "top_ports_by_scans_graph", Title: "Scans by port", Metric: "scans", GroupBy: "port", Format: "timeseries", Limit: LimitPlot, Precached: true},

	// The stats portal's questions about the events of other systems' feeds (IDEA, IntelMQ)
	// and the commands typed in HaaS sessions.
	{Name: "top_taxonomies_by_events_graph", Title: "Events by taxonomy", Metric: "events", GroupBy: "taxonomy", Format: "timeseries", Limit: LimitPlot, Precached: true, Added: true},
	{Name: "top_feeds_by_events_list", Title: "Top feeds", Metric: "events", GroupBy: "feed", Format: "table", Limit: LimitDashboard, Precached: true, Added: true},
	{Name: "top_asns_by_events_list", Title: "Top ASNs by events", Metric: "events", GroupBy: "asn", Format: "table", Limit: LimitDashboard, Precached: true, Added: true},
	{Name: "top_commands_by_commands_list_long", Title: "Top commands", Metric: "commands", GroupBy: "command", Format: "table", Limit: LimitLong, Precached: true, Added: true},
}

// Lookup finds a preset by name.
func Lookup(name string) (Preset, bool) {
	i := slices.IndexFunc(All, func(p Preset) bool { return p.Name == name })
	if i < 0 {
		return Preset{}, false
	}
	return All[i], true
}

// Names lists every preset name in catalog order.
func Names() []string {
	names := make([]string, len(All))
	for i, p := range All {
		names[i] = p.Name
	}
	return names
}
