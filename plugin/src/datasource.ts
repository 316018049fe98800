import {
  AdHocVariableFilter,
  CoreApp,
  DataQueryRequest,
  DataQueryResponse,
  DataSourceGetTagValuesOptions,
  DataSourceInstanceSettings,
  MetricFindValue,
  ScopedVars,
  TimeRange,
} from '@grafana/data';
import { config, DataSourceWithBackend, getGrafanaLiveSrv, getTemplateSrv } from '@grafana/runtime';
import { from, merge, Observable, of } from 'rxjs';
import { mergeMap } from 'rxjs/operators';

import { LABEL_FILTER_KEYS, LIST_FILTER_KEYS, TEXT_FILTER_KEYS } from './catalog';
import { liveAddress } from './live';
import { hashPassword, leakPassword, migrateQuery, sendable, withoutPassword } from './migration';
import { isComplete, liveProblems } from './validation';
import { SviewVariableSupport } from './variables';
import {
  DEFAULT_QUERY,
  Filters,
  GroupByKeys,
  ListFilterKey,
  SviewOptions,
  SviewQuery,
  VariableKind,
  VariableValue,
} from './types';

const TEXT_FIELDS = ['preset', 'metric', 'format', 'period', 'sha1', 'prefix', 'direction', 'measure'] as const;

// Joins the values of a multi-value variable inside one list element; split again right after.
// A control character cannot occur in any value of the model (codes, numbers, names).
const SEP = '\u001f';
// The other list values (ids, numbers, codes, trap/action/tag keywords) never hold a comma
// either, so their elements are also split on commas: `${country:csv}` or a typed "CZ,DE" become
// two values. Label values (a command, a feed's name) may hold commas and are split on SEP only.
const LIST_SPLIT = /[\u001f,]/;

/** The variable formatter for list fields: every value becomes its own list element. */
function listFormat(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(SEP) : String(value ?? '');
}

/**
 * The formatter for single-value fields: values as they are (no quoting or escaping, the backend
 * takes them as parameters); several values are joined with commas, which the backend rejects
 * with a message naming the field instead of silently using one of them.
 */
function textFormat(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(',') : String(value ?? '');
}

export class DataSource extends DataSourceWithBackend<SviewQuery, SviewOptions> {
  constructor(instanceSettings: DataSourceInstanceSettings<SviewOptions>) {
    super(instanceSettings);
    this.variables = new SviewVariableSupport(this);
    // Annotations are backend queries like any other (queryType annotations), edited in the query
    // editor; Grafana maps the answer's time, timeEnd, title, text and tags fields.
    this.annotations = { getDefaultQuery: () => ({ queryType: 'annotations', annotation: 'greylist' }) };
  }

  getDefaultQuery(_: CoreApp): Partial<SviewQuery> {
    return DEFAULT_QUERY;
  }

  /**
   * A leak query's password (a $variable, or a plain one saved by an older version) is replaced
   * and hashed here first, so the request carries only the SHA-1 (applyTemplateVariables, which
   * Grafana calls next, is synchronous and cannot hash; it drops any password left).
   */
  query(request: DataQueryRequest<SviewQuery>): Observable<DataQueryResponse> {
    const live = request.targets.filter((q) => q.queryType === 'live' && !q.hide);
    if (live.length > 0) {
      const rest = request.targets.filter((q) => q.queryType !== 'live');
      const queried = rest.length > 0 ? [this.query({ ...request, targets: rest })] : [];
      return merge(...live.map((q) => this.liveStream(q, request)), ...queried);
    }
    if (!request.targets.some((q) => leakPassword(q) !== undefined)) {
      return super.query(request);
    }
    const replace = (text: string) => getTemplateSrv().replace(text, request.scopedVars, textFormat);
    return from(Promise.all(request.targets.map((q) => hashPassword(q, replace)))).pipe(
      mergeMap((targets) => super.query({ ...request, targets }))
    );
  }

  /**
   * A live query is a Grafana Live stream of the backend's (docs/live.md), its variables replaced.
   * What the backend would refuse is said here: a refused subscription carries no reason.
   */
  private liveStream(q: SviewQuery, request: DataQueryRequest<SviewQuery>): Observable<DataQueryResponse> {
    const sent = this.applyTemplateVariables(q, request.scopedVars, request.filters);
    const key = `${request.requestId}-${q.refId}`;
    const problem = liveProblems(sent)[0];
    if (problem) {
      return of({ data: [], key, errors: [{ message: problem.message, refId: q.refId }] });
    }
    return getGrafanaLiveSrv().getDataStream({
      key,
      addr: liveAddress(this.uid, sent, config.bootData.user.login),
      buffer: { maxLength: 1000 },
    });
  }

  filterQuery(query: SviewQuery): boolean {
    return !query.hide && isComplete(migrateQuery(query));
  }

  /**
   * Replaces $variables in every text and list field. A multi-value or All variable in a list
   * field expands to one element per value ("$country" → ["CZ", "DE"]); an element that becomes
   * empty (a variable with nothing selected) is dropped, so it means "no filter", never "match ''".
   * The exclusions are interpolated the same way. The dashboard's ad-hoc filters go as `adhoc`, as
   * Grafana gives them: the backend ANDs them with the panel's filters and names what it cannot
   * apply (adding them to a filter list would widen it: a list's values are alternatives). Fields of the original API left in a saved query (a device
   * token, a resource name) are not sent: the backend refuses keys it does not know. A leak password
   * is dropped, never sent: query() has hashed it before; a query moved to Explore arrives there
   * without it (Explore's URL holds the query).
   */
  applyTemplateVariables(query: SviewQuery, scopedVars: ScopedVars, adhoc?: AdHocVariableFilter[]): SviewQuery {
    const migrated = sendable(withoutPassword(migrateQuery(query)));
    const templateSrv = getTemplateSrv();
    const text = (v: string | undefined) =>
      v === undefined ? undefined : templateSrv.replace(v, scopedVars, textFormat);
    const list = (values: string[] | undefined, split: string | RegExp = LIST_SPLIT) =>
      values
        ?.flatMap((v) => templateSrv.replace(v, scopedVars, listFormat).split(split))
        .map((v) => v.trim())
        .filter((v) => v !== '');

    const out: SviewQuery = { ...migrated };
    for (const k of TEXT_FIELDS) {
      if (migrated[k] !== undefined) {
        (out as unknown as Record<string, string | undefined>)[k] = text(migrated[k]);
      }
    }
    // groupBy is a list of keys after migrateQuery; a multi-value variable gives one key per value
    if (Array.isArray(migrated.groupBy)) {
      out.groupBy = list(migrated.groupBy) as GroupByKeys;
    }
    const interpolated = (given: Filters | undefined): Filters => {
      const f: Filters = { ...given };
      for (const k of LIST_FILTER_KEYS) {
        if (f[k] !== undefined) {
          const verbatim = (LABEL_FILTER_KEYS as string[]).includes(k) || (TEXT_FILTER_KEYS as string[]).includes(k);
          f[k] = list(f[k], verbatim ? SEP : LIST_SPLIT);
        }
      }
      return f;
    };
    const filters = interpolated(migrated.filters);
    if (migrated.exclude !== undefined) {
      out.exclude = interpolated(migrated.exclude);
    }
    if (migrated.filters !== undefined) {
      out.filters = filters;
    }
    if (adhoc && adhoc.length > 0) {
      out.adhoc = adhoc.map(({ key, operator, value, values }) =>
        values ? { key, operator, value, values } : { key, operator, value }
      );
    }
    return out;
  }

  /**
   * Values of one variable kind from the backend (docs/plugin-resources.md); with a time range,
   * those seen within it, by volume.
   */
  async variableValues(
    kind: VariableKind,
    search?: string,
    limit?: number,
    range?: TimeRange
  ): Promise<VariableValue[]> {
    const params: Record<string, string | number> = {};
    if (search) {
      params.q = search;
    }
    if (limit !== undefined) {
      params.limit = limit;
    }
    if (range) {
      params.from = range.from.valueOf();
      params.to = range.to.valueOf();
    }
    const values = await this.getResource<VariableValue[]>(`variables/${kind}`, params);
    if (!Array.isArray(values)) {
      throw new Error(`variables/${kind}: expected a JSON array of {value, text}, got ${typeof values}`);
    }
    return values;
  }

  /** Ad-hoc filter keys: every filter of the model (a panel whose table lacks one ignores it, with a notice). */
  async getTagKeys(): Promise<MetricFindValue[]> {
    return LIST_FILTER_KEYS.map((key) => ({ text: key, value: key }));
  }

  /** Values of an ad-hoc key: those seen within the dashboard's time range, by volume, where the key has volume. */
  async getTagValues(options: DataSourceGetTagValuesOptions<SviewQuery>): Promise<MetricFindValue[]> {
    const kind = ADHOC_KINDS[options.key as ListFilterKey];
    if (!kind) {
      return [];
    }
    const values = await this.variableValues(kind, undefined, undefined, options.timeRange);
    return values.map((v) => ({ text: v.text, value: v.value }));
  }

  /** Used when a panel's queries move to Explore: they arrive there with the variables replaced. */
  interpolateVariablesInQueries(
    queries: SviewQuery[],
    scopedVars: ScopedVars,
    adhoc?: AdHocVariableFilter[]
  ): SviewQuery[] {
    return queries.map((q) => this.applyTemplateVariables(q, scopedVars, adhoc));
  }
}

/** The variables endpoint listing each ad-hoc key's values. */
const ADHOC_KINDS: Record<ListFilterKey, VariableKind> = {
  probe: 'probes',
  asn: 'asns',
  country: 'countries',
  trap: 'traps',
  action: 'actions',
  ip: 'ips',
  port: 'ports',
  tag: 'tags',
  password: 'passwords',
  username: 'usernames',
  taxonomy: 'taxonomies',
  type: 'types',
  identifier: 'identifiers',
  feed: 'feeds',
  provider: 'providers',
  command: 'commands',
};
