// Checks the editors show inline, so a combination that cannot work is explained where it is
// chosen instead of failing later in the panel. The backend validates again (alert rules and
// the HTTP API do not pass through here).
import {
  EVENTS_FILTERS,
  EVENTS_MAX_LIMIT,
  GREYLIST_FILTERS,
  groupByLabel,
  known,
  LABEL_FILTER_KEYS,
  MAX_LABEL_BYTES,
  MAX_GROUP_BY,
  MAX_LIMIT,
  METRIC_DIMENSIONS,
  METRIC_EXCLUDES,
  METRIC_FILTERS,
  PRESETS,
  TREND_FORMAT_OPTIONS,
} from './catalog';
import { groupByKeys, leakPassword } from './migration';
import { EventsKind, Filters, Format, GroupBy, Metric, SviewQuery } from './types';

export interface Problem {
  /** the query field the message belongs to */
  field: 'preset' | 'metric' | 'groupBy' | 'format' | 'limit' | 'filters' | 'exclude' | 'minScore' | 'leak' | 'rate';
  message: string;
  /** the query lacks something it needs to run at all (as opposed to a wrong combination) */
  incomplete?: boolean;
}

const TREND_FORMATS = TREND_FORMAT_OPTIONS.map((o) => o.value);
const SHA1 = /^[0-9a-fA-F]{40}$/;
const PREFIX = /^[0-9a-fA-F]{5,40}$/;
const VARIABLE = /\$/;

/**
 * The fields as the backend will see them (explicit over preset); $variables count as unknown,
 * a grouping holding one too.
 */
export function effective(query: SviewQuery): { metric?: Metric; groupBy?: GroupBy[]; format?: Format } {
  const preset = query.preset ? PRESETS[query.preset] : undefined;
  const keys = groupByKeys(query.groupBy ?? preset?.groupBy);
  return {
    metric: known<Metric>(query.metric ?? preset?.metric),
    groupBy: keys.every((k) => known<GroupBy>(k) !== undefined) ? (keys as GroupBy[]) : undefined,
    // a trend's numeric format is no stats format: as unknown here, trendProblems checks it
    format: known<Format>((query.format === 'numeric' ? undefined : query.format) ?? preset?.format),
  };
}

/** What is wrong with a grouping of a metric, as the backend would say it: keys the metric's table lacks, repeated keys, too many. */
function groupByProblems(metric: Metric, keys: GroupBy[]): Problem[] {
  const allowed: GroupBy[] = METRIC_DIMENSIONS[metric].filter((g) => g !== '');
  const problems: Problem[] = [];
  for (const key of keys.filter((k) => !allowed.includes(k))) {
    problems.push({
      field: 'groupBy',
      message: `${groupByLabel(key, metric)} cannot group ${metric}: ${metric} can be grouped by ${listLabel(allowed)}.`,
    });
  }
  const repeated = keys.filter((k, i) => keys.indexOf(k) !== i);
  if (repeated.length > 0) {
    problems.push({ field: 'groupBy', message: `${groupByLabel(repeated[0], metric)} is chosen twice.` });
  }
  if (keys.length > MAX_GROUP_BY) {
    problems.push({ field: 'groupBy', message: `Group by at most ${MAX_GROUP_BY} keys, not ${keys.length}.` });
  }
  return problems;
}

function listLabel(values: string[]): string {
  return values.map((v) => (v === '' ? 'nothing' : v)).join(', ');
}

function badLimit(limit: number | undefined): Problem | undefined {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)) {
    return { field: 'limit', message: `Limit must be a whole number from 1 to ${MAX_LIMIT}, not ${limit}.` };
  }
  return undefined;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;

/**
 * Whether text reads as an IP address or CIDR prefix (IPv6 loosely: hex digits and colons, at
 * most one "::", an embedded IPv4 tail); the backend checks exactly and names a bad entry.
 */
export function isAddressOrPrefix(text: string): boolean {
  const [addr, bits, ...rest] = text.trim().split('/');
  if (rest.length > 0 || (bits !== undefined && !/^\d{1,3}$/.test(bits))) {
    return false;
  }
  if (IPV4.test(addr)) {
    return bits === undefined || Number(bits) <= 32;
  }
  if (!addr.includes(':') || !IPV6.test(addr) || addr.split('::').length > 2) {
    return false;
  }
  const groups = addr.split(':');
  const tail = groups[groups.length - 1];
  if (tail.includes('.') && !IPV4.test(tail)) {
    return false;
  }
  const ok = groups.every((g) => g === '' || g.includes('.') || g.length <= 4) && groups.length <= 9;
  return ok && (bits === undefined || Number(bits) <= 128);
}

/** The entries of an ip filter or exclusion that are neither addresses nor prefixes nor $variables. */
function badAddresses(filters: Filters | undefined): string[] {
  return (filters?.ip ?? []).filter((v) => !VARIABLE.test(v) && v.trim() !== '' && !isAddressOrPrefix(v));
}

/** The label values (a command, a feed's name) of a filter or exclusion longer than the backend takes. */
function longLabels(filters: Filters | undefined): string[] {
  return LABEL_FILTER_KEYS.flatMap((k) => filters?.[k] ?? []).filter(
    (v) => new TextEncoder().encode(v.trim()).length > MAX_LABEL_BYTES
  );
}

/** What is wrong with the values of the filters and the exclusions: addresses, and labels too long. */
function valueProblems(query: SviewQuery): Problem[] {
  const problems: Problem[] = [];
  for (const [field, filters] of [
    ['filters', query.filters],
    ['exclude', query.exclude],
  ] as const) {
    const bad = badAddresses(filters);
    if (bad.length > 0) {
      problems.push({
        field,
        message: `${bad.map((v) => `"${v}"`).join(', ')} ${bad.length === 1 ? 'is' : 'are'} not an IP address or CIDR prefix (such as 192.0.2.1 or 198.51.100.0/24).`,
      });
    }
    const long = longLabels(filters);
    if (long.length > 0) {
      problems.push({
        field,
        message: `${long.map((v) => `"${v.slice(0, 32)}…"`).join(', ')} ${long.length === 1 ? 'is' : 'are'} longer than ${MAX_LABEL_BYTES} bytes, the most a value may be.`,
      });
    }
  }
  return problems;
}

/** The filters and exclusions a table lacks, as the backend names them; `subject` is what reads the table. */
function strayProblems(query: SviewQuery, subject: string, filterKeys: string[], excludeKeys: string[]): Problem[] {
  const problems: Problem[] = [];
  const strayFilters = usedFilters(query.filters).filter((k) => !filterKeys.includes(k));
  if (strayFilters.length > 0) {
    problems.push({
      field: 'filters',
      message: `${subject} cannot be filtered by ${strayFilters.join(', ')}; its filters are ${filterKeys.join(', ')}.`,
    });
  }
  const strayExcludes = usedFilters(query.exclude).filter((k) => !excludeKeys.includes(k));
  if (strayExcludes.length > 0) {
    problems.push({
      field: 'exclude',
      message: `${subject} cannot exclude by ${strayExcludes.join(', ')}; it can exclude by ${excludeKeys.join(', ')}.`,
    });
  }
  return problems;
}

function usedFilters(filters: Filters | undefined): string[] {
  if (!filters) {
    return [];
  }
  return Object.entries(filters)
    .filter(([, v]) => (Array.isArray(v) ? v.length > 0 : v !== undefined && v !== ''))
    .map(([k]) => k);
}

export function statsProblems(query: SviewQuery): Problem[] {
  const problems: Problem[] = [];
  // $variables are only known at query time: the backend checks those.
  const { metric, groupBy, format } = effective(query);

  if (query.preset && !query.preset.startsWith('$') && !PRESETS[query.preset]) {
    // names loaded from the backend but unknown here are fine; only say what the editor cannot check
    problems.push({
      field: 'preset',
      message: `Preset "${query.preset}" is not in the built-in catalog; the backend expands it.`,
    });
  }
  if (query.metric === undefined && !query.preset) {
    problems.push({ field: 'metric', message: 'Choose a metric or a preset.', incomplete: true });
  }
  if (metric && groupBy !== undefined) {
    problems.push(...groupByProblems(metric, groupBy));
  }
  // the backend groups a map by country when no grouping is given
  if (format === 'map' && groupBy !== undefined && groupBy.length > 0 && groupBy.join() !== 'country') {
    problems.push({ field: 'format', message: 'The map format needs group by Country.' });
  }
  const limitProblem = badLimit(query.limit);
  if (limitProblem) {
    problems.push(limitProblem);
  }
  if (metric) {
    problems.push(...strayProblems(query, metric, METRIC_FILTERS[metric], METRIC_EXCLUDES[metric]));
  }
  problems.push(...valueProblems(query));
  const need = query.preset ? PRESETS[query.preset]?.needs : undefined;
  if (need && !usedFilters(query.filters).includes(need)) {
    problems.push({ field: 'filters', message: `Preset ${query.preset} needs the ${need} filter.`, incomplete: true });
  }
  return problems;
}

export function greylistProblems(query: SviewQuery): Problem[] {
  const problems: Problem[] = [];
  if (query.minScore !== undefined && (!Number.isFinite(query.minScore) || query.minScore < 0)) {
    problems.push({ field: 'minScore', message: `Minimum score must be 0 or more, not ${query.minScore}.` });
  }
  const limitProblem = badLimit(query.limit);
  if (limitProblem) {
    problems.push(limitProblem);
  }
  const stray = usedFilters(query.filters).filter((k) => !GREYLIST_FILTERS.includes(k));
  if (stray.length > 0) {
    problems.push({
      field: 'filters',
      message: `The greylist cannot be filtered by ${stray.join(', ')}; its filters are ${GREYLIST_FILTERS.join(', ')}.`,
    });
  }
  if (usedFilters(query.exclude).length > 0) {
    problems.push({ field: 'exclude', message: 'The greylist cannot exclude; only statistics can.' });
  }
  return problems;
}

/**
 * An events query lists the rows of its kind's table: that table's filters and exclusions (the
 * same keys), their values as for statistics, and a page of 1 to EVENTS_MAX_LIMIT rows.
 */
export function eventsProblems(query: SviewQuery): Problem[] {
  const kind: EventsKind = query.events ?? 'incidents';
  const keys: string[] | undefined = EVENTS_FILTERS[kind];
  // a kind this frontend does not know: the backend names it
  const problems = keys ? strayProblems(query, `${kind} events`, keys, keys) : [];
  const limit = query.limit;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= EVENTS_MAX_LIMIT)) {
    problems.push({
      field: 'limit',
      message: `Limit must be a whole number from 1 to ${EVENTS_MAX_LIMIT}, not ${limit}.`,
    });
  }
  return [...problems, ...valueProblems(query)];
}

/** A live stream reads incidents: their filters only, at a rate from 1 to 1000 a second. */
export function liveProblems(query: SviewQuery): Problem[] {
  const problems: Problem[] = [];
  const rate = query.rate;
  if (rate !== undefined && !(Number.isInteger(rate) && rate >= 1 && rate <= 1000)) {
    problems.push({
      field: 'rate',
      message: `Rate must be a whole number of events a second from 1 to 1000, not ${rate}.`,
    });
  }
  for (const field of ['filters', 'exclude'] as const) {
    const allowed: string[] = (field === 'filters' ? METRIC_FILTERS : METRIC_EXCLUDES).incidents;
    const stray = usedFilters(query[field]).filter((k) => !allowed.includes(k));
    if (stray.length > 0) {
      problems.push({
        field,
        message: `A live stream of incidents has no ${stray.join(', ')}; its ${field} are ${allowed.join(', ')}.`,
      });
    }
  }
  return problems;
}

export function leakProblems(query: SviewQuery): Problem[] {
  // leakPassword: a $variable, or a plain password of an older version that query() hashes
  const given = [leakPassword(query), query.sha1, query.prefix].filter((v) => (v ?? '') !== '').length;
  if (given === 0) {
    return [{ field: 'leak', message: 'Enter a password, a SHA-1 or a hash prefix.', incomplete: true }];
  }
  if (given > 1) {
    return [{ field: 'leak', message: 'Give only one of password, SHA-1 and prefix.' }];
  }
  if (query.sha1 && !VARIABLE.test(query.sha1) && !SHA1.test(query.sha1)) {
    return [{ field: 'leak', message: 'A SHA-1 is 40 hex digits.' }];
  }
  if (query.prefix && !VARIABLE.test(query.prefix) && !PREFIX.test(query.prefix)) {
    return [{ field: 'leak', message: 'A prefix is 5 to 40 hex digits.' }];
  }
  return [];
}

/** A trend is checked as statistics are, and must rank the keys of one grouping. */
export function trendProblems(query: SviewQuery): Problem[] {
  const problems = statsProblems(query);
  const keys = groupByKeys(query.groupBy);
  if (keys.length !== 1) {
    problems.push({
      field: 'groupBy',
      message: 'Choose what to rank: a trend ranks the keys of one grouping.',
      incomplete: keys.length === 0,
    });
  }
  const format = known(query.format);
  if (format !== undefined && !(TREND_FORMATS as string[]).includes(format)) {
    problems.push({ field: 'format', message: `A trend is a table or numeric, not ${format}.` });
  }
  return problems;
}

export function queryProblems(query: SviewQuery): Problem[] {
  switch (query.queryType ?? 'stats') {
    case 'stats':
      return statsProblems(query);
    case 'greylist':
      return greylistProblems(query);
    case 'leak':
      return leakProblems(query);
    case 'trend':
      return trendProblems(query);
    case 'live':
      return liveProblems(query);
    case 'events':
      return eventsProblems(query);
    default:
      return [];
  }
}

/**
 * Whether a query has what it needs to run. Incomplete queries (a new leak lookup without input,
 * a stats query without metric or preset, a preset lacking its parameter) are not sent; wrong
 * combinations are, so the backend's error names them in the panel.
 */
export function isComplete(query: SviewQuery): boolean {
  return !queryProblems(query).some((p) => p.incomplete);
}
