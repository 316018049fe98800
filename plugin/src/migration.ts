// Brings saved queries of older shapes to the current model, so dashboards built against earlier
// versions (or by hand from the original Sentinel View API) keep working. Idempotent: a current
// query comes back unchanged.
import { PRESETS } from './catalog';
import { Filters, ListFilterKey, SviewQuery, TextFilterKey } from './types';

const LIST_KEYS: ListFilterKey[] = ['probe', 'asn', 'country', 'trap', 'action', 'port', 'tag'];
const TEXT_KEYS: TextFilterKey[] = ['ip', 'password', 'username'];

/** Older filter values: a scalar where a list is expected now, numbers for asn and port. */
function toList(v: unknown): string[] | undefined {
  if (v === undefined || v === null || v === '') {
    return undefined;
  }
  const items = Array.isArray(v) ? v : [v];
  return items.filter((x) => x !== null && x !== undefined && x !== '').map((x) => String(x));
}

function migrateFilters(raw: Record<string, unknown>): Filters | undefined {
  const out: Filters = {};
  for (const k of LIST_KEYS) {
    const list = toList(raw[k]);
    if (list && list.length > 0) {
      out[k] = list;
    }
  }
  for (const k of TEXT_KEYS) {
    const v = raw[k];
    if (v !== undefined && v !== null && v !== '') {
      out[k] = Array.isArray(v) ? v.map(String).join(',') : String(v);
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Migrates one saved query:
 * - `resource` or `name` holding an original resource name (the /api/resource?name= API) → `preset`;
 *   its `ip` and `password` parameters → filters. A `token` (device token) stays as it was: it is
 *   not a probe id, so the editor asks for the probe instead of sending a wrong filter;
 * - no queryType → stats (the only type of the first versions);
 * - filters with scalar or numeric values → string lists; a numeric-string limit → number;
 * - null groupBy/period → "" (no grouping / dashboard range).
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
  if (typeof out.limit === 'string') {
    const n = Number(out.limit);
    if (Number.isFinite(n) && (out.limit as string).trim() !== '') {
      out.limit = n;
    } else {
      delete out.limit;
    }
  }
  for (const k of ['groupBy', 'period'] as const) {
    if (out[k] === null) {
      out[k] = '';
    }
  }
  return out;
}
