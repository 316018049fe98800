// The frontend reads the backend's closed lists from goldens the Go tests write
// (internal/catalog/testdata, `go test ./internal/catalog -update`). What stays here is the
// frontend's own: labels, and the TypeScript unions of types.ts. These tests fail when the
// backend gains or loses a value the frontend has no label or type member for, or the other way
// round.
import model from '../../internal/catalog/testdata/query-model.golden.json';
import presets from '../../internal/catalog/testdata/presets.golden.json';
import {
  FORMAT_OPTIONS,
  GROUP_BY_LABELS,
  METRIC_OPTIONS,
  PERIOD_OPTIONS,
  PRESETS,
  QUERY_TYPE_OPTIONS,
  LIST_FILTER_KEYS,
  TEXT_FILTER_KEYS,
  ANNOTATION_OPTIONS,
  EVENTS_OPTIONS,
  EVENTS_FILTERS,
  LABEL_FILTER_KEYS,
  defaultLimit,
} from './catalog';
import {
  AnnotationKind,
  EventsKind,
  Filters,
  Format,
  LabelFilterKey,
  ListFilterKey,
  Metric,
  Period,
  QueryType,
  TextFilterKey,
  TrendDirection,
  TrendFormat,
  TrendMeasure,
} from './types';

// A Record over a union needs every member and takes nothing else, so each literal below is the
// union spelled out, checked by the compiler; the tests compare it with the golden.
const QUERY_TYPES: Record<QueryType, true> = {
  stats: true,
  greylist: true,
  leak: true,
  status: true,
  trend: true,
  annotations: true,
  probes: true,
  events: true,
  live: true,
};
const EVENTS_KINDS: Record<EventsKind, true> = {
  incidents: true,
  logins: true,
  scans: true,
  feeds: true,
  commands: true,
};
const ANNOTATIONS: Record<AnnotationKind, true> = { greylist: true, aggregation: true, silence: true };
const TREND_FORMATS: Record<TrendFormat, true> = { table: true, numeric: true };
const TREND_DIRECTIONS: Record<TrendDirection, true> = { rising: true, falling: true };
const TREND_MEASURES: Record<TrendMeasure, true> = {
  slope_per_day: true,
  change: true,
  change_ratio: true,
  current: true,
  previous: true,
};
const METRICS: Record<Metric, true> = {
  incidents: true,
  attackers: true,
  usages: true,
  scans: true,
  events: true,
  commands: true,
};
const FORMATS: Record<Format, true> = { timeseries: true, table: true, map: true };
const PERIODS: Record<Exclude<Period, ''>, true> = {
  '1h': true,
  '6h': true,
  '1d': true,
  '1w': true,
  '1m': true,
  '3m': true,
  '1y': true,
};
const LABEL_FILTERS: Record<LabelFilterKey, true> = {
  taxonomy: true,
  type: true,
  identifier: true,
  feed: true,
  provider: true,
  command: true,
};
const TEXT_FILTERS: Record<TextFilterKey, true> = { password: true, username: true };
const LIST_FILTERS: Record<ListFilterKey, true> = {
  probe: true,
  asn: true,
  country: true,
  trap: true,
  action: true,
  ip: true,
  port: true,
  tag: true,
  ...TEXT_FILTERS,
  ...LABEL_FILTERS,
};
// every key of Filters: Record needs each, optional or not
const FILTERS: Record<keyof Filters, true> = { ...LIST_FILTERS };

const sorted = (values: string[]) => [...values].sort();

describe('the query model agrees with the backend golden', () => {
  it.each<[string, string[], string[]]>([
    ['query types', Object.keys(QUERY_TYPES), model.queryTypes],
    ['annotations', Object.keys(ANNOTATIONS), model.annotations.map((a) => a.name)],
    ['events', Object.keys(EVENTS_KINDS), model.events.kinds.map((k) => k.name)],
    ['trend formats', Object.keys(TREND_FORMATS), model.trend.formats],
    ['trend directions', Object.keys(TREND_DIRECTIONS), model.trend.directions],
    ['trend measures', Object.keys(TREND_MEASURES), model.trend.measures],
    ['metrics', Object.keys(METRICS), model.metrics.map((m) => m.name)],
    ['groupings', Object.keys(GROUP_BY_LABELS), model.groupBy],
    ['formats', Object.keys(FORMATS), model.formats],
    ['periods', Object.keys(PERIODS), model.periods.map((p) => p.name)],
    ['list filters', Object.keys(LIST_FILTERS), model.filters.list],
    ['filters', Object.keys(FILTERS), model.filters.list],
  ])('%s: the TypeScript union has exactly the backend values', (_name, union, golden) => {
    expect(sorted(union)).toEqual(sorted(golden));
  });

  it.each([
    ['query types', QUERY_TYPE_OPTIONS, model.queryTypes],
    ['annotations', ANNOTATION_OPTIONS, model.annotations.map((a) => a.name)],
    ['events', EVENTS_OPTIONS, model.events.kinds.map((k) => k.name)],
    ['metrics', METRIC_OPTIONS, model.metrics.map((m) => m.name)],
    ['formats', FORMAT_OPTIONS, model.formats],
    ['periods', PERIOD_OPTIONS, ['', ...model.periods.map((p) => p.name)]],
  ])('%s: every backend value is offered, in its order, with a label', (_name, options, golden) => {
    expect(options.map((o) => o.value)).toEqual(golden);
    for (const o of options) {
      expect(o.label).toEqual(expect.any(String));
    }
  });

  it('every dimension, filter and exclusion a metric has is one of the model', () => {
    for (const m of model.metrics) {
      expect(Object.keys(GROUP_BY_LABELS)).toEqual(expect.arrayContaining(m.groupBy));
      expect(Object.keys(FILTERS)).toEqual(expect.arrayContaining(m.filters));
      expect(m.exclude).toEqual(m.filters); // a metric excludes by exactly what it filters by
    }
    for (const k of model.events.kinds) {
      expect(Object.keys(FILTERS)).toEqual(expect.arrayContaining(EVENTS_FILTERS[k.name as EventsKind]));
    }
    expect(model.greylist.exclude).toEqual([]);
    expect(Object.keys(FILTERS)).toEqual(expect.arrayContaining(model.greylist.filters));
    expect(LIST_FILTER_KEYS).toEqual(model.filters.list);
    expect(model.filters.list).toEqual(expect.arrayContaining(TEXT_FILTER_KEYS));
  });

  it('label filters are list filters and groupings of the model, and only feed events and commands have them', () => {
    expect(sorted(LABEL_FILTER_KEYS)).toEqual(sorted(Object.keys(LABEL_FILTERS)));
    expect(model.filters.list).toEqual(expect.arrayContaining(LABEL_FILTER_KEYS));
    expect(model.groupBy).toEqual(expect.arrayContaining(LABEL_FILTER_KEYS));
    const labelled = model.metrics
      .filter((m) => m.filters.some((f) => (LABEL_FILTER_KEYS as string[]).includes(f)))
      .map((m) => m.name);
    expect(labelled).toEqual(['events', 'commands']);
  });

  it('periods read as before: the window, and the bucket width', () => {
    expect(PERIOD_OPTIONS.map((o) => [o.value, o.label, o.description])).toEqual([
      ['', 'Dashboard range', 'Follow the dashboard time range and interval'],
      ['1h', 'Last hour', '1 min buckets'],
      ['6h', 'Last 6 hours', '15 min buckets'],
      ['1d', 'Last day', '30 min buckets'],
      ['1w', 'Last week', '3 h buckets'],
      ['1m', 'Last 30 days', '1 day buckets'],
      ['3m', 'Last 90 days', '2 day buckets'],
      ['1y', 'Last 378 days', '14 day buckets'],
    ]);
  });

  it('default limits are the backend normalisation: 7 per series, 15 table rows, a map has every country', () => {
    expect([defaultLimit('timeseries'), defaultLimit('table'), defaultLimit('map'), defaultLimit(undefined)]).toEqual([
      7, 15, 0, 7,
    ]);
  });

  it('presets are the backend expansions, with the filter each needs', () => {
    expect(Object.keys(PRESETS)).toEqual(presets.map((p) => p.name));
    expect(PRESETS.top_countries_by_incidents_list).toEqual({
      metric: 'incidents',
      groupBy: ['country'],
      format: 'table',
      limit: 15,
    });
    expect(PRESETS.all_countries_by_attackers_list).toEqual({
      metric: 'attackers',
      groupBy: ['country'],
      format: 'map',
    });
    expect(PRESETS.my_top_traps_by_incidents_graph).toEqual({
      metric: 'incidents',
      groupBy: ['trap'],
      format: 'timeseries',
      limit: 7,
      needs: 'probe',
    });
    expect(PRESETS.logins_of_password_by_usages_list.needs).toBe('password');
    expect(PRESETS.selected_attacker_incidents_graph.needs).toBe('ip');
  });
});
