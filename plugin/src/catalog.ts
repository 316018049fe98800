// What the editors offer. The closed lists of the query model, which dimensions and filters each
// metric's table has, the periods, the default limits and the presets come from goldens the Go
// tests write from the backend's own rules (go test ./internal/catalog -update), so the editor
// cannot drift from what the backend accepts; labels and descriptions are the frontend's own.
import { SelectableValue } from '@grafana/data';

import model from '../../internal/catalog/testdata/query-model.golden.json';
import presetsGolden from '../../internal/catalog/testdata/presets.golden.json';
import {
  AnnotationKind,
  EventsKind,
  Format,
  GroupBy,
  LabelFilterKey,
  ListFilterKey,
  Metric,
  Period,
  QueryType,
  TextFilterKey,
  TrendDirection,
  TrendFormat,
  TrendMeasure,
  VariableKind,
  VariableRef,
} from './types';

/** The value itself, or undefined while it is a $variable (only known at query time). */
export function known<T extends string>(value: T | VariableRef | undefined): T | undefined {
  return value === undefined || value.startsWith('$') ? undefined : (value as T);
}

type Text = { label: string; description: string };

/** Options of a closed list: the backend's values in its order, with the labels given here. */
function options<T extends string>(values: string[], text: Record<T, Text>): Array<SelectableValue<T>> {
  return values.map((v) => ({ value: v as T, ...text[v as T] }));
}

export const QUERY_TYPE_OPTIONS = options<QueryType>(model.queryTypes, {
  stats: {
    label: 'Statistics',
    description: 'Incidents, attackers, password usages, port scans, feed events and commands',
  },
  greylist: { label: 'Greylist', description: 'Addresses that attack many probes, with score and tags' },
  leak: { label: 'Leaked passwords', description: 'Look a password or SHA-1 up in the leak database' },
  status: { label: 'Status', description: 'Aggregation lag per table and precision, cache state' },
  annotations: { label: 'Annotations', description: 'Greylist entries and exits, aggregation gaps, silent probes' },
  probes: { label: 'Probes', description: 'Your probes with their last report and how long they have been silent' },
  trend: { label: 'Trend', description: 'Keys ranked by how they rise or fall against the period before' },
  events: {
    label: 'Events',
    description: 'The raw incidents, login attempts, port scans, feed events or commands behind the counts, as logs',
  },
  live: { label: 'Live', description: 'New incidents as they arrive, or their count per second (Grafana Live)' },
});

export const EVENTS_OPTIONS = options<EventsKind>(
  model.events.kinds.map((k) => k.name),
  {
    incidents: { label: 'Incidents', description: 'Trap and action of each attack' },
    logins: { label: 'Logins', description: 'Username and password of each login attempt' },
    scans: { label: 'Scans', description: 'Protocol and port of each port scan' },
    feeds: { label: 'Feed events (IDEA, IntelMQ)', description: 'Classification and feed of each CSIRT feed event' },
    commands: { label: 'Commands (HaaS)', description: 'Each command typed in an SSH honeypot session' },
  }
);

/** The filters (and exclusions) each kind of events takes. */
export const EVENTS_FILTERS = Object.fromEntries(model.events.kinds.map((k) => [k.name, k.filters])) as Record<
  EventsKind,
  string[]
>;

/** The rows of an events page without a limit, and the most one page holds. */
export const EVENTS_DEFAULT_LIMIT: number = model.events.defaultLimit;
export const EVENTS_MAX_LIMIT: number = model.events.maxLimit;

export const ANNOTATION_OPTIONS = options<AnnotationKind>(
  model.annotations.map((a) => a.name),
  {
    greylist: { label: 'Greylist', description: 'Addresses entering and leaving the greylist (by address or ASN)' },
    aggregation: { label: 'Aggregation', description: 'Rollup windows closed late, and backfills' },
    silence: { label: 'Silent probes', description: 'Probes that sent nothing for 6 hours or more' },
  }
);

/** The filters each kind of annotation reads. */
export const ANNOTATION_FILTERS = Object.fromEntries(model.annotations.map((a) => [a.name, a.filters])) as Record<
  AnnotationKind,
  string[]
>;

export const TREND_FORMAT_OPTIONS = options<TrendFormat>(model.trend.formats, {
  table: { label: 'Table', description: 'Current, previous, change, change %, slope per day' },
  numeric: { label: 'Numeric', description: 'The key and one number, for alert rules (one instance per key)' },
});

export const TREND_DIRECTION_OPTIONS = options<TrendDirection>(model.trend.directions, {
  rising: { label: 'Rising', description: 'Steepest climbs first' },
  falling: { label: 'Falling', description: 'Steepest declines first' },
});

export const TREND_MEASURE_OPTIONS = options<TrendMeasure>(model.trend.measures, {
  slope_per_day: { label: 'Slope / day', description: 'Least-squares slope of the buckets, per day' },
  change: { label: 'Change', description: 'Current less previous' },
  change_ratio: { label: 'Change %', description: 'Change relative to previous; empty for a new key' },
  current: { label: 'Current', description: 'Total of the period' },
  previous: { label: 'Previous', description: 'Total of the period before' },
});

/** The top-N of a trend without a limit. */
export const TREND_DEFAULT_LIMIT = model.trend.defaultLimit;

export const METRIC_OPTIONS = options<Metric>(
  model.metrics.map((m) => m.name),
  {
    incidents: { label: 'Incidents', description: 'Sum of reported incidents' },
    attackers: { label: 'Attackers', description: 'Distinct attacking IP addresses' },
    usages: { label: 'Password usages', description: 'Login attempts with a username and password' },
    scans: { label: 'Port scans', description: 'Connections to ports seen by the firewall logs' },
    events: {
      label: 'Feed events (IDEA, IntelMQ)',
      description: 'Events reported by CSIRT feeds; they name no probe',
    },
    commands: { label: 'Commands (HaaS)', description: 'Commands attackers typed in SSH honeypot sessions' },
  }
);

/** Every grouping of the model, in the backend's order. */
export const GROUP_BYS = model.groupBy as GroupBy[];

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
  taxonomy: 'Taxonomy',
  type: 'Type',
  identifier: 'Identifier',
  feed: 'Feed',
  provider: 'Provider',
  command: 'Command',
};

/**
 * The dimensions each metric's table holds (incidents and attackers read incidents, usages
 * passwords, scans ports, events feed_events, commands commands).
 */
export const METRIC_DIMENSIONS = Object.fromEntries(model.metrics.map((m) => [m.name, m.groupBy])) as Record<
  Metric,
  GroupBy[]
>;

/** How many keys one query may group by. */
export const MAX_GROUP_BY: number = model.maxGroupBy;

/** What "combination" groups by depends on the table. */
export function groupByLabel(groupBy: GroupBy, metric: Metric | undefined): string {
  if (groupBy !== 'combination') {
    return GROUP_BY_LABELS[groupBy] ?? groupBy;
  }
  return metric === 'usages' ? 'Username + password' : 'Trap + action';
}

/** Which filters narrow each metric (a table lacking the column cannot). */
export const METRIC_FILTERS = Object.fromEntries(model.metrics.map((m) => [m.name, m.filters])) as Record<
  Metric,
  string[]
>;

/** The filters of the model: each holds a list of values (any of them). */
export const LIST_FILTER_KEYS = model.filters.list as ListFilterKey[];

/** The passwords and usernames, compared as written: like labels, their values may hold commas. */
export const TEXT_FILTER_KEYS: TextFilterKey[] = ['password', 'username'];

/** The list filters of free text (internal/query/labels.go), whose values may hold commas. */
export const LABEL_FILTER_KEYS = model.filters.labels as LabelFilterKey[];

/** The longest value of a label filter the backend takes (MaxLabelBytes). */
export const MAX_LABEL_BYTES = model.filters.maxLabelBytes;

/**
 * The variable kinds the backend lists only by volume within a time range, the last 24 hours
 * without one (docs/plugin-resources.md); the other kinds list everything.
 */
export const RANKED_KINDS = model.variables.ranked as VariableKind[];

/** Which exclusions each metric takes (the same keys as its filters). */
export const METRIC_EXCLUDES = Object.fromEntries(model.metrics.map((m) => [m.name, m.exclude])) as Record<
  Metric,
  string[]
>;

/**
 * The top-level keys the backend reads (of every query type), and those Grafana adds to every
 * query, which it ignores; it refuses any other key.
 */
export const QUERY_KEYS: string[] = model.keys.model;
export const GRAFANA_KEYS: string[] = model.keys.grafana;

/** The filters a greylist query takes. */
export const GREYLIST_FILTERS: string[] = model.greylist.filters;

export const FORMAT_OPTIONS = options<Format>(model.formats, {
  timeseries: { label: 'Time series', description: 'One series per group, for graphs and alert rules' },
  table: { label: 'Table', description: 'Totals over the range, top N rows' },
  map: { label: 'Map', description: 'Country code and value, for the Geomap panel (group by country)' },
});

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A window's length as "hour", "6 hours", "day", "week", "30 days". */
export function spanText(seconds: number): string {
  const [n, unit] =
    seconds === 7 * DAY
      ? [1, 'week']
      : seconds % DAY === 0
        ? [seconds / DAY, 'day']
        : seconds % HOUR === 0
          ? [seconds / HOUR, 'hour']
          : [seconds / MINUTE, 'minute'];
  return n === 1 ? unit : `${n} ${unit}s`;
}

/** A bucket's width as "1 min", "3 h", "2 day" (as in "2 day buckets"). */
export function bucketText(seconds: number): string {
  if (seconds % DAY === 0) {
    return `${seconds / DAY} day`;
  }
  return seconds % HOUR === 0 ? `${seconds / HOUR} h` : `${seconds / MINUTE} min`;
}

export const PERIOD_OPTIONS: Array<SelectableValue<Period>> = [
  { value: '', label: 'Dashboard range', description: 'Follow the dashboard time range and interval' },
  ...model.periods.map((p) => ({
    value: p.name as Period,
    label: `Last ${spanText(p.rangeSeconds)}`,
    description: `${bucketText(p.bucketSeconds)} buckets`,
  })),
];

/** The top-N the backend applies to a grouped query without a limit; 0 = every group (maps). */
export function defaultLimit(format: Format | undefined): number {
  return model.defaultLimit[format ?? 'timeseries'];
}

/** The largest limit the backend accepts. */
export const MAX_LIMIT = model.maxLimit;

export interface Preset {
  metric: Metric;
  /** [] or one key */
  groupBy: GroupBy[];
  format: Format;
  limit?: number;
  /** a filter the preset needs a value for (the original resource's parameter) */
  needs?: TextFilterKey | 'ip' | 'probe';
}

/**
 * The 29 resources of the original Sentinel View (reference/original-sentinel-view.md §3) and the
 * few sview adds for feed events and commands, as the backend expands them (internal/catalog); the editor fills its fields from here. A preset the
 * backend lists but this table lacks is sent by name only and expanded by the backend.
 */
export const PRESETS: Record<string, Preset> = Object.fromEntries(
  presetsGolden.map(({ name, requires, query }) => {
    const preset: Preset = {
      metric: query.metric as Metric,
      groupBy: query.groupBy as GroupBy[],
      format: query.format as Format,
    };
    if (query.limit) {
      preset.limit = query.limit;
    }
    if (requires) {
      preset.needs = requires as Preset['needs'];
    }
    return [name, preset];
  })
);

export const PRESET_NAMES = Object.keys(PRESETS);
