// What the editors offer: the closed lists of the query model with labels, the original
// resource catalog as presets, and which dimensions each metric's table has.
import { SelectableValue } from '@grafana/data';

import { Format, GroupBy, Metric, Period, QueryType, TextFilterKey, VariableRef } from './types';

/** The value itself, or undefined while it is a $variable (only known at query time). */
export function known<T extends string>(value: T | VariableRef | undefined): T | undefined {
  return value === undefined || value.startsWith('$') ? undefined : (value as T);
}

export const QUERY_TYPE_OPTIONS: Array<SelectableValue<QueryType>> = [
  { value: 'stats', label: 'Statistics', description: 'Incidents, attackers, password usages and port scans' },
  { value: 'greylist', label: 'Greylist', description: 'Addresses that attack many probes, with score and tags' },
  { value: 'leak', label: 'Leaked passwords', description: 'Look a password or SHA-1 up in the leak database' },
  { value: 'status', label: 'Status', description: 'Aggregation lag per table and precision, cache state' },
];

export const METRIC_OPTIONS: Array<SelectableValue<Metric>> = [
  { value: 'incidents', label: 'Incidents', description: 'Sum of reported incidents' },
  { value: 'attackers', label: 'Attackers', description: 'Distinct attacking IP addresses' },
  { value: 'usages', label: 'Password usages', description: 'Login attempts with a username and password' },
  { value: 'scans', label: 'Port scans', description: 'Connections to ports seen by the firewall logs' },
];

export const GROUP_BY_LABELS: Record<GroupBy, string> = {
  '': 'Nothing (one series)',
  country: 'Country',
  asn: 'Autonomous system',
  trap: 'Trap',
  action: 'Action',
  ip: 'Attacker IP',
  probe: 'Probe',
  password: 'Password',
  username: 'Username',
  combination: 'Combination',
  port: 'Port',
};

/**
 * The dimensions each metric's table holds (migrations/000001; internal/query GroupBysOf):
 * incidents and attackers read incidents, usages passwords, scans ports.
 */
export const METRIC_DIMENSIONS: Record<Metric, GroupBy[]> = {
  incidents: ['', 'country', 'asn', 'trap', 'action', 'ip', 'probe', 'combination'],
  attackers: ['', 'country', 'asn', 'trap', 'action', 'ip', 'probe', 'combination'],
  usages: ['', 'password', 'username', 'combination', 'probe', 'trap', 'ip', 'country', 'asn'],
  scans: ['', 'port', 'probe', 'ip', 'country', 'asn'],
};

/** What "combination" groups by depends on the table. */
export function groupByLabel(groupBy: GroupBy, metric: Metric | undefined): string {
  if (groupBy !== 'combination') {
    return GROUP_BY_LABELS[groupBy] ?? groupBy;
  }
  return metric === 'usages' ? 'Username + password' : 'Trap + action';
}

/** Which filters narrow each metric (internal/query FiltersOf: a table lacking the column cannot). */
export const METRIC_FILTERS: Record<Metric, string[]> = {
  incidents: ['probe', 'asn', 'country', 'trap', 'action', 'ip'],
  attackers: ['probe', 'asn', 'country', 'trap', 'action', 'ip'],
  usages: ['probe', 'asn', 'country', 'trap', 'ip', 'password', 'username'],
  scans: ['probe', 'asn', 'country', 'ip', 'port'],
};

export const FORMAT_OPTIONS: Array<SelectableValue<Format>> = [
  { value: 'timeseries', label: 'Time series', description: 'One series per group, for graphs and alert rules' },
  { value: 'table', label: 'Table', description: 'Totals over the range, top N rows' },
  { value: 'map', label: 'Map', description: 'Country code and value, for the Geomap panel (group by country)' },
];

export const PERIOD_OPTIONS: Array<SelectableValue<Period>> = [
  { value: '', label: 'Dashboard range', description: 'Follow the dashboard time range and interval' },
  { value: '1h', label: 'Last hour', description: '1 min buckets' },
  { value: '6h', label: 'Last 6 hours', description: '15 min buckets' },
  { value: '1d', label: 'Last day', description: '30 min buckets' },
  { value: '1w', label: 'Last week', description: '3 h buckets' },
  { value: '1m', label: 'Last 30 days', description: '1 day buckets' },
  { value: '3m', label: 'Last 90 days', description: '2 day buckets' },
  { value: '1y', label: 'Last 378 days', description: '14 day buckets' },
];

/** The default top-N the backend applies when limit is absent (DESIGN §4). */
export function defaultLimit(format: Format | undefined): number {
  return format === 'table' ? 15 : 7;
}

export interface Preset {
  metric: Metric;
  groupBy: GroupBy;
  format: Format;
  limit?: number;
  /** a filter the preset needs a value for (the original resource's parameter) */
  needs?: TextFilterKey | 'probe';
}

/**
 * The 29 resources of the original Sentinel View (reference/original-sentinel-view.md §3), as
 * internal/catalog expands them; the editor fills its fields from here. A preset the backend
 * lists but this table lacks is sent by name only and expanded by the backend.
 */
export const PRESETS: Record<string, Preset> = {
  all_incidents_graph: { metric: 'incidents', groupBy: '', format: 'timeseries' },
  all_attackers_graph: { metric: 'attackers', groupBy: '', format: 'timeseries' },
  top_incident_types_by_incidents_list: { metric: 'incidents', groupBy: 'combination', format: 'table', limit: 15 },
  top_traps_by_incidents_graph: { metric: 'incidents', groupBy: 'trap', format: 'timeseries', limit: 7 },
  top_actions_by_incidents_graph: { metric: 'incidents', groupBy: 'action', format: 'timeseries', limit: 7 },
  top_attackers_by_incidents_list_long: { metric: 'incidents', groupBy: 'ip', format: 'table', limit: 30 },
  top_countries_by_incidents_list: { metric: 'incidents', groupBy: 'country', format: 'table', limit: 15 },
  top_countries_by_incidents_list_long: { metric: 'incidents', groupBy: 'country', format: 'table', limit: 30 },
  top_countries_by_attackers_list: { metric: 'attackers', groupBy: 'country', format: 'table', limit: 15 },
  top_countries_by_attackers_list_long: { metric: 'attackers', groupBy: 'country', format: 'table', limit: 30 },
  all_countries_by_incidents_list: { metric: 'incidents', groupBy: 'country', format: 'map' },
  all_countries_by_attackers_list: { metric: 'attackers', groupBy: 'country', format: 'map' },
  top_countries_by_incidents_graph: { metric: 'incidents', groupBy: 'country', format: 'timeseries', limit: 7 },
  top_countries_by_attackers_graph: { metric: 'attackers', groupBy: 'country', format: 'timeseries', limit: 7 },
  selected_attacker_incidents_graph: { metric: 'incidents', groupBy: '', format: 'timeseries', needs: 'ip' },
  my_all_incidents_graph: { metric: 'incidents', groupBy: '', format: 'timeseries', needs: 'probe' },
  my_top_countries_by_incidents_graph: {
    metric: 'incidents',
    groupBy: 'country',
    format: 'timeseries',
    limit: 7,
    needs: 'probe',
  },
  my_top_traps_by_incidents_graph: {
    metric: 'incidents',
    groupBy: 'trap',
    format: 'timeseries',
    limit: 7,
    needs: 'probe',
  },
  top_passwords_by_usages_list: { metric: 'usages', groupBy: 'password', format: 'table', limit: 15 },
  top_passwords_by_usages_list_long: { metric: 'usages', groupBy: 'password', format: 'table', limit: 30 },
  top_usernames_by_usages_list: { metric: 'usages', groupBy: 'username', format: 'table', limit: 15 },
  top_usernames_by_usages_list_long: { metric: 'usages', groupBy: 'username', format: 'table', limit: 30 },
  top_combinations_by_usages_list_long: { metric: 'usages', groupBy: 'combination', format: 'table', limit: 30 },
  top_passwords_by_usages_graph: { metric: 'usages', groupBy: 'password', format: 'timeseries', limit: 7 },
  selected_password_by_usages_graph: { metric: 'usages', groupBy: '', format: 'timeseries', needs: 'password' },
  logins_of_password_by_usages_list: {
    metric: 'usages',
    groupBy: 'username',
    format: 'table',
    limit: 30,
    needs: 'password',
  },
  all_ports_by_scans_graph: { metric: 'scans', groupBy: '', format: 'timeseries' },
  top_ports_by_scans_list_long: { metric: 'scans', groupBy: 'port', format: 'table', limit: 30 },
  top_ports_by_scans_graph: { metric: 'scans', groupBy: 'port', format: 'timeseries', limit: 7 },
};

export const PRESET_NAMES = Object.keys(PRESETS);
