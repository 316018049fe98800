// Brings saved queries of older shapes to the current model, so dashboards built against earlier
// versions (or by hand from the original Sentinel View API) keep working. Idempotent: a current
// query comes back unchanged.
import { LIST_FILTER_KEYS, PRESETS } from './catalog';
import { sha1Hex } from './hash';
import { Filters, GroupByKeys, SviewQuery, VariableRef } from './types';

/** Older filter values: a scalar where a list is expected now (also ip, password, username), numbers for asn and port. */
function toList(v: unknown): string[] | undefined {
  if (v === undefined || v === null || v === '') {
    return undefined;
  }
  const items = Array.isArray(v) ? v : [v];
  return items.filter((x) => x !== null && x !== undefined && x !== '').map((x) => String(x));
}

function migrateFilters(raw: Record<string, unknown>): Filters | undefined {
  const out: Filters = {};
  for (const k of LIST_FILTER_KEYS) {
    const list = toList(raw[k]);
    if (list && list.length > 0) {
      out[k] = list;
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The keys of a groupBy as saved: a list (this version), or one string of older versions, which
 * may also hold keys separated by commas; "", null and absent are no grouping.
 */
export function groupByKeys(v: SviewQuery['groupBy'] | null): GroupByKeys {
  const items = v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
  return items
    .flatMap((item) => String(item).split(','))
    .map((k) => k.trim())
    .filter((k) => k !== '') as GroupByKeys;
}

/** Fields of the original API that migrateQuery may leave in a saved query; never sent (see sendable). */
const LEGACY_FIELDS = ['resource', 'name', 'token'] as const;

/**
 * The query without the original API's fields migrateQuery leaves (a device token, a resource
 * name that is no preset): the backend refuses keys it does not know, and these never meant
 * anything to it.
 */
export function sendable(query: SviewQuery): SviewQuery {
  const out: SviewQuery & Record<string, unknown> = { ...query };
  for (const k of LEGACY_FIELDS) {
    delete out[k];
  }
  return out;
}

/**
 * Migrates one saved query:
 * - `resource` or `name` holding an original resource name (the /api/resource?name= API) → `preset`;
 *   its `ip` and `password` parameters → filters. A `token` (device token) stays as it was: it is
 *   not a probe id, so the editor asks for the probe instead of sending a wrong filter;
 * - no queryType → stats (the only type of the first versions);
 * - filters (and exclusions) with scalar or numeric values → string lists (`ip: "192.0.2.1"` →
 *   `ip: ["192.0.2.1"]`); a numeric-string limit → number;
 * - a groupBy string (one key, keys separated by commas, "" or null for none) → a list of keys;
 * - null period → "" (dashboard range).
 * A leak query's `password` stays: hashing it is asynchronous (hashPassword).
 */
export function migrateQuery(query: SviewQuery): SviewQuery {
  const legacy = query as SviewQuery & Record<string, unknown>;
  const { resource, name, ip, ...rest } = legacy;
  const out: SviewQuery & Record<string, unknown> = { ...rest };
  const oldFilters: Record<string, unknown> = { ...(query.filters ?? {}) };

  const resourceName = [resource, name].find((v): v is string => typeof v === 'string' && v in PRESETS);
  if (resourceName && !out.preset) {
    out.preset = resourceName;
  } else {
    // not a resource name after all: leave the fields as they were
    if (resource !== undefined) {
      out.resource = resource;
    }
    if (name !== undefined) {
      out.name = name;
    }
  }
  if (ip !== undefined && oldFilters.ip === undefined) {
    oldFilters.ip = ip;
  }
  // the original API took the password as a top-level parameter of a stats resource
  if (out.preset && PRESETS[out.preset]?.needs === 'password' && out.password !== undefined && !oldFilters.password) {
    oldFilters.password = out.password;
    delete out.password;
  }

  if (!out.queryType) {
    out.queryType = 'stats';
  }
  const filters = migrateFilters(oldFilters);
  if (filters) {
    out.filters = filters;
  } else {
    delete out.filters;
  }
  const exclude = query.exclude ? migrateFilters({ ...query.exclude }) : undefined;
  if (exclude) {
    out.exclude = exclude;
  } else {
    delete out.exclude;
  }
  if (typeof out.limit === 'string') {
    const n = Number(out.limit);
    if (Number.isFinite(n) && (out.limit as string).trim() !== '') {
      out.limit = n;
    } else {
      delete out.limit;
    }
  }
  if (out.groupBy !== undefined) {
    out.groupBy = groupByKeys(out.groupBy);
  }
  if (out.period === null) {
    out.period = '';
  }
  return out;
}

/** Older versions saved a leak lookup's plain password in `password`; now it may hold only a $variable. */
type WithPassword = Omit<SviewQuery, 'password'> & { password?: unknown };

// A whole value that is one dashboard variable: $name, ${name} or ${name:format}.
const VARIABLE_REF = /^\$(\w+|\{\w+(:[^}]*)?\})$/;

export function isVariableRef(text: string): text is VariableRef {
  return VARIABLE_REF.test(text);
}

/** The `password` of a leak query: a $variable, or a plain password saved by an older version. */
export function leakPassword(query: SviewQuery): string | undefined {
  const p = (query as WithPassword).password;
  // the backend used to read numbers as text too
  const given = (typeof p === 'string' && p !== '') || typeof p === 'number';
  return query.queryType === 'leak' && given ? String(p) : undefined;
}

/** A plain password an older version saved in a leak query (not a $variable). */
export function legacyPassword(query: SviewQuery): string | undefined {
  const p = leakPassword(query);
  return p !== undefined && !isVariableRef(p) ? p : undefined;
}

/**
 * The query without a top-level `password`: what the synchronous paths to the backend and to
 * Explore's URL (applyTemplateVariables, interpolateVariablesInQueries) pass on. A stats query
 * never needs one after migrateQuery (a preset's moves into the filters; the backend ignores
 * any other), and a leak query's must have been hashed before (hashPassword).
 */
export function withoutPassword(query: SviewQuery): SviewQuery {
  if (!('password' in query)) {
    return query;
  }
  const { password: _dropped, ...rest } = query as WithPassword;
  return rest;
}

/**
 * Turns the `password` of a leak query into its `sha1`, after `replace` has put in the values of
 * its variables. Asynchronous (Web Crypto), so migrateQuery, which Grafana's synchronous hooks
 * call, cannot do it: DataSource.query does before each request, and the leak editor when it
 * opens a query saved with a plain password. A query that also holds a SHA-1 or prefix keeps
 * those (the old backend refused both at once).
 */
export async function hashPassword(query: SviewQuery, replace = (text: string) => text): Promise<SviewQuery> {
  const password = leakPassword(query);
  const rest = withoutPassword(query);
  if (password === undefined || rest.sha1 || rest.prefix) {
    return rest;
  }
  return { ...rest, sha1: await sha1Hex(replace(password)) };
}
