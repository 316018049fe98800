import { DataQueryRequest, DataSourceInstanceSettings, dateTime, ScopedVars } from '@grafana/data';
import { BackendSrv, BackendSrvRequest, setBackendSrv, setTemplateSrv } from '@grafana/runtime';
import { lastValueFrom, of } from 'rxjs';

import model from '../../internal/catalog/testdata/query-model.golden.json';
import { GRAFANA_KEYS, QUERY_KEYS } from './catalog';
import { DataSource } from './datasource';
import { CANNOT_HASH } from './hash';
import { nodeSha1, setWebCrypto } from './testing/webcrypto';
import { SviewVariableSupport } from './variables';
import { fakeTemplateSrv } from './testing/fakeTemplateSrv';
import { SviewOptions, SviewQuery, SviewVariableQuery } from './types';

const settings = {
  id: 1,
  uid: 'sview',
  type: 'sview-sentinel-datasource',
  name: 'Sentinel View',
  jsonData: {},
  meta: {},
  access: 'proxy',
  readOnly: false,
} as unknown as DataSourceInstanceSettings<SviewOptions>;

function stats(extra: Partial<SviewQuery>): SviewQuery {
  return { refId: 'A', queryType: 'stats', metric: 'incidents', groupBy: '', format: 'timeseries', ...extra };
}

describe('applyTemplateVariables', () => {
  beforeEach(() => {
    setTemplateSrv(
      fakeTemplateSrv([
        { name: 'country', current: ['CZ', 'DE'], options: ['CZ', 'DE', 'US'] },
        { name: 'allcountry', current: ['$__all'], options: ['CZ', 'DE', 'US'] },
        { name: 'asn', current: '64500', options: ['64500', '64501'] },
        { name: 'probes', current: ['$__all'], options: ['1', '2', '3'] },
        { name: 'none', current: [], options: ['a'] },
        { name: 'period', current: '1w' },
        { name: 'preset', current: 'top_countries_by_incidents_graph' },
        { name: 'ip', current: '192.0.2.7' },
        { name: 'ips', current: ['192.0.2.7', '192.0.2.8'] },
        { name: 'customall', current: ['$__all'], options: ['a', 'b'], allValue: '.*' },
      ])
    );
  });

  const ds = () => new DataSource(settings);

  it.each<[string, string[], string[]]>([
    ['multi-value expands to a list', ['$country'], ['CZ', 'DE']],
    ['All expands to every value', ['$allcountry'], ['CZ', 'DE', 'US']],
    ['braced form', ['${country}'], ['CZ', 'DE']],
    ['an explicit csv format still gives a list', ['${country:csv}'], ['CZ', 'DE']],
    ['literal values are kept next to variables', ['US', '$country'], ['US', 'CZ', 'DE']],
    ['a variable with nothing selected means no filter', ['$none'], []],
    ['an unknown variable stays as written for the backend to name', ['$nope'], ['$nope']],
  ])('country filter: %s', (_name, input, want) => {
    const out = ds().applyTemplateVariables(stats({ filters: { country: input } }), {});
    expect(out.filters?.country).toEqual(want);
    expect(out.filters?.country?.some((v) => v.includes("'") || v.includes(','))).toBe(false);
  });

  it('expands every list filter, numeric ones included', () => {
    const out = ds().applyTemplateVariables(
      stats({ filters: { probe: ['$probes'], asn: ['$asn'], port: ['22', '23'], trap: ['minipot_ftp'] } }),
      {}
    );
    expect(out.filters).toEqual({ probe: ['1', '2', '3'], asn: ['64500'], port: ['22', '23'], trap: ['minipot_ftp'] });
  });

  it('replaces text fields, and passwords and usernames as lists never split on commas', () => {
    const out = ds().applyTemplateVariables(
      stats({ preset: '$preset', period: '$period', filters: { username: ['$ip'], password: ['pa$$word', 'a, b'] } }),
      {}
    );
    expect(out.preset).toBe('top_countries_by_incidents_graph');
    expect(out.period).toBe('1w');
    expect(out.filters?.username).toEqual(['192.0.2.7']);
    expect(out.filters?.password).toEqual(['pa$$word', 'a, b']);
    const saved = { ...stats({}), exclude: { username: '$ips' } } as unknown as SviewQuery;
    expect(ds().applyTemplateVariables(saved, {}).exclude).toEqual({ username: ['192.0.2.7', '192.0.2.8'] });
  });

  it("replaces a trend's direction and measure", () => {
    const q = { refId: 'A', queryType: 'trend', metric: 'incidents', groupBy: 'asn', direction: '$dir', measure: '$m' };
    const out = ds().applyTemplateVariables(q as unknown as SviewQuery, {
      dir: { text: 'falling', value: 'falling' },
      m: { text: 'change', value: 'change' },
    });
    expect([out.direction, out.measure]).toEqual(['falling', 'change']);
  });

  it('expands a multi-value variable in a username or password list to one element per value', () => {
    const out = ds().applyTemplateVariables(stats({ filters: { username: ['$ips'] } }), {});
    expect(out.filters?.username).toEqual(['192.0.2.7', '192.0.2.8']);
  });

  it('sends addresses and prefixes as a list: variables expanded, the old single string too', () => {
    const out = ds().applyTemplateVariables(stats({ filters: { ip: ['$ips', '198.51.100.0/24', '${ips:csv}'] } }), {});
    expect(out.filters?.ip).toEqual(['192.0.2.7', '192.0.2.8', '198.51.100.0/24', '192.0.2.7', '192.0.2.8']);
    const saved = { ...stats({}), filters: { ip: '$ip' } } as unknown as SviewQuery;
    expect(ds().applyTemplateVariables(saved, {}).filters).toEqual({ ip: ['192.0.2.7'] });
  });

  it('interpolates the exclusions as the filters', () => {
    const out = ds().applyTemplateVariables(
      stats({
        filters: { country: ['US'] },
        exclude: { country: ['$country'], ip: ['$ip', '198.51.100.0/24'], asn: ['$none'] },
      }),
      {}
    );
    expect(out.filters).toEqual({ country: ['US'] });
    expect(out.exclude).toEqual({ country: ['CZ', 'DE'], ip: ['192.0.2.7', '198.51.100.0/24'], asn: [] });
  });

  it('sends no field of the original API that a saved query still holds', () => {
    const old = { refId: 'A', resource: 'my_all_incidents_graph', token: 'ab'.repeat(32), filters: { probe: ['1'] } };
    const out = ds().applyTemplateVariables(old as unknown as SviewQuery, {});
    expect(out).toEqual({
      refId: 'A',
      queryType: 'stats',
      preset: 'my_all_incidents_graph',
      filters: { probe: ['1'] },
    });
  });

  it('uses scoped variables (repeated panels) before dashboard ones', () => {
    const scoped: ScopedVars = { country: { text: 'AT', value: 'AT' } };
    const out = ds().applyTemplateVariables(stats({ filters: { country: ['$country'] } }), scoped);
    expect(out.filters?.country).toEqual(['AT']);
  });

  it('sends the label filters as lists, splitting multi-value variables but never a value on its commas', () => {
    setTemplateSrv(
      fakeTemplateSrv([
        { name: 'cmds', current: ['uname -a', 'echo a,b'] },
        { name: 'taxonomy', current: ['$__all'], options: ['information-gathering', 'malicious-code'] },
      ])
    );
    const out = ds().applyTemplateVariables(
      stats({
        metric: 'commands',
        filters: { command: ['$cmds', 'cat /etc/passwd, /etc/shadow'] },
        exclude: { command: ['  wget http://x  '] },
      }),
      {}
    );
    expect(out.filters).toEqual({ command: ['uname -a', 'echo a,b', 'cat /etc/passwd, /etc/shadow'] });
    expect(out.exclude).toEqual({ command: ['wget http://x'] });
    const feeds = ds().applyTemplateVariables(
      stats({ metric: 'events', filters: { taxonomy: ['$taxonomy'], feed: ['Scan-SSH'], provider: ['Shadowserver'] } }),
      {}
    );
    expect(feeds.filters).toEqual({
      taxonomy: ['information-gathering', 'malicious-code'],
      feed: ['Scan-SSH'],
      provider: ['Shadowserver'],
    });
  });

  it('passes a custom All value through as one element', () => {
    const out = ds().applyTemplateVariables(stats({ filters: { tag: ['$customall'] } }), {});
    expect(out.filters?.tag).toEqual(['.*']);
  });

  it('interpolates the leak fields', () => {
    const out = ds().applyTemplateVariables({ refId: 'A', queryType: 'leak', prefix: '$asn' }, {});
    expect(out.prefix).toBe('64500');
  });

  it('never passes a plain leak password on, nor interpolates it', () => {
    const old = { refId: 'A', queryType: 'leak', password: '$asn' } as unknown as SviewQuery;
    expect(ds().applyTemplateVariables(old, {})).toEqual({ refId: 'A', queryType: 'leak' });
  });

  it('moves old queries to Explore without their plain password', () => {
    const old = { refId: 'A', queryType: 'leak', password: 'hunter2' } as unknown as SviewQuery;
    const [out] = ds().interpolateVariablesInQueries([old], {});
    expect(JSON.stringify(out)).not.toContain('hunter2');
  });

  it('sends the ad-hoc filters as they are for the backend to AND with the panel, never into its lists', () => {
    const out = ds().applyTemplateVariables(stats({ filters: { country: ['CZ'] }, exclude: { asn: ['64500'] } }), {}, [
      { key: 'country', operator: '=', value: 'DE' },
      { key: 'trap', operator: '=|', value: 'minipot_ftp', values: ['minipot_ftp', 'fwlogs'] },
      { key: 'ip', operator: '!=', value: '198.51.100.0/24', origin: 'dashboard' },
      { key: 'country', operator: '=~', value: 'C.*' },
    ]);
    expect(out.filters).toEqual({ country: ['CZ'] });
    expect(out.exclude).toEqual({ asn: ['64500'] });
    // Grafana's own fields (origin) are not sent: the backend refuses keys it does not know
    expect(out.adhoc).toEqual([
      { key: 'country', operator: '=', value: 'DE' },
      { key: 'trap', operator: '=|', value: 'minipot_ftp', values: ['minipot_ftp', 'fwlogs'] },
      { key: 'ip', operator: '!=', value: '198.51.100.0/24' },
      { key: 'country', operator: '=~', value: 'C.*' },
    ]);
  });

  it('sends no ad-hoc list and adds no filters without ad-hoc filters', () => {
    for (const adhoc of [undefined, []]) {
      const out = ds().applyTemplateVariables(stats({}), {}, adhoc);
      expect(out).not.toHaveProperty('adhoc');
      expect(out).not.toHaveProperty('filters');
    }
  });

  it('moves ad-hoc filters to Explore with the query', () => {
    const [out] = ds().interpolateVariablesInQueries([stats({})], {}, [
      { key: 'port', operator: '!=|', value: '22', values: ['22', '23'] },
    ]);
    expect(out.adhoc).toEqual([{ key: 'port', operator: '!=|', value: '22', values: ['22', '23'] }]);
  });

  it('migrates an old saved query before interpolating', () => {
    const old = { refId: 'A', resource: 'selected_attacker_incidents_graph', ip: '$ip' } as unknown as SviewQuery;
    const out = ds().applyTemplateVariables(old, {});
    expect(out).toMatchObject({
      queryType: 'stats',
      preset: 'selected_attacker_incidents_graph',
      filters: { ip: ['192.0.2.7'] },
    });
  });
});

describe('filterQuery', () => {
  const ds = new DataSource(settings);
  it.each<[string, SviewQuery, boolean]>([
    ['default stats query', stats({}), true],
    ['hidden query', stats({ hide: true }), false],
    ['stats without metric or preset', { refId: 'A', queryType: 'stats' }, false],
    ['preset only', { refId: 'A', preset: 'all_incidents_graph' }, true],
    ['preset lacking its ip filter', { refId: 'A', preset: 'selected_attacker_incidents_graph' }, false],
    [
      'preset with its ip filter',
      { refId: 'A', preset: 'selected_attacker_incidents_graph', filters: { ip: ['$ip'] } },
      true,
    ],
    ['empty leak lookup', { refId: 'A', queryType: 'leak' }, false],
    ['leak lookup by prefix', { refId: 'A', queryType: 'leak', prefix: 'abcde' }, true],
    [
      'old leak lookup by password (query() hashes it)',
      { refId: 'A', queryType: 'leak', password: 'hunter2' } as unknown as SviewQuery,
      true,
    ],
    ['wrong combination is sent (the backend names the problem)', stats({ groupBy: 'password' }), true],
    ['status', { refId: 'A', queryType: 'status' }, true],
  ])('%s', (_name, query, want) => {
    expect(ds.filterQuery(query)).toBe(want);
  });
});

describe('query', () => {
  let sent: BackendSrvRequest[];
  beforeEach(() => {
    sent = [];
    setTemplateSrv(fakeTemplateSrv([{ name: 'pw', current: 'from a variable' }]));
    setBackendSrv({
      fetch: (req: BackendSrvRequest) => {
        sent.push(req);
        return of({ data: { results: {} }, status: 200 });
      },
    } as unknown as BackendSrv);
    setWebCrypto(true);
  });
  afterEach(() => setWebCrypto(false));

  const request = (...targets: SviewQuery[]) =>
    ({ targets, scopedVars: {} }) as unknown as DataQueryRequest<SviewQuery>;
  const old = { refId: 'A', queryType: 'leak', password: 'hunter2' } as unknown as SviewQuery;

  it('sends an old leak query as its SHA-1, never its password', async () => {
    await lastValueFrom(new DataSource(settings).query(request(old, stats({ refId: 'B' }))));
    expect(sent).toHaveLength(1);
    const queries = (sent[0].data as { queries: SviewQuery[] }).queries;
    expect(queries[0]).toMatchObject({ refId: 'A', queryType: 'leak', sha1: nodeSha1('hunter2') });
    expect(queries[1]).toMatchObject({ refId: 'B', queryType: 'stats' });
    expect(JSON.stringify(sent[0])).not.toContain('hunter2');
  });

  it('sends only keys the backend reads or ignores: Grafana adds its own, the backend refuses any other', async () => {
    const panel = {
      ...stats({ refId: 'A', groupBy: 'country', filters: { ip: ['192.0.2.0/24'] }, exclude: { country: ['CN'] } }),
      hide: false,
      key: 'Q-1',
      token: 'ab'.repeat(32),
    } as unknown as SviewQuery;
    await lastValueFrom(new DataSource(settings).query({ ...request(panel), intervalMs: 60000, maxDataPoints: 500 }));
    const [sentQuery] = (sent[0].data as { queries: Array<Record<string, unknown>> }).queries;
    expect(Object.keys(sentQuery).filter((k) => !QUERY_KEYS.includes(k) && !GRAFANA_KEYS.includes(k))).toEqual([]);
    expect(sentQuery).toMatchObject({
      filters: { ip: ['192.0.2.0/24'] },
      exclude: { country: ['CN'] },
      intervalMs: 60000,
      datasource: { uid: 'sview' },
    });
    const filterKeys = model.filters.list;
    for (const f of [sentQuery.filters, sentQuery.exclude]) {
      expect(Object.keys(f as object).filter((k) => !filterKeys.includes(k))).toEqual([]);
    }
  });

  it('sends a $variable password as the SHA-1 of its value', async () => {
    const panel: SviewQuery = { refId: 'A', queryType: 'leak', password: '$pw' };
    expect(new DataSource(settings).filterQuery(panel)).toBe(true);
    await lastValueFrom(new DataSource(settings).query(request(panel)));
    const [sentQuery] = (sent[0].data as { queries: SviewQuery[] }).queries;
    expect(sentQuery).toMatchObject({ queryType: 'leak', sha1: nodeSha1('from a variable') });
    expect(sentQuery).not.toHaveProperty('password');
  });

  it('sends nothing where the browser cannot hash, and says why', async () => {
    setWebCrypto(false);
    await expect(lastValueFrom(new DataSource(settings).query(request(old)))).rejects.toThrow(CANNOT_HASH);
    expect(sent).toHaveLength(0);
  });
});

describe('getDefaultQuery', () => {
  it('is a dashboard-range time series of incidents', () => {
    const ds = new DataSource(settings);
    expect(ds.getDefaultQuery('dashboard' as never)).toEqual({
      queryType: 'stats',
      metric: 'incidents',
      groupBy: '',
      format: 'timeseries',
      period: '',
    });
  });
});

describe('variable support', () => {
  beforeEach(() => setTemplateSrv(fakeTemplateSrv([{ name: 'cc', current: 'cz' }])));

  it('lists values of a kind through the resource endpoint, with the search interpolated', async () => {
    const ds = new DataSource(settings);
    const getResource = jest
      .spyOn(ds, 'getResource')
      .mockResolvedValue([{ value: '64500', text: 'AS64500 EXAMPLE-NET' }] as never);
    const request = {
      targets: [{ refId: 'A', kind: 'asns', search: '$cc', limit: 50 } as SviewVariableQuery],
      scopedVars: {},
    } as never;
    const response = await lastValueFrom((ds.variables as SviewVariableSupport).query(request));
    expect(getResource).toHaveBeenCalledWith('variables/asns', { q: 'cz', limit: 50 });
    expect(response.data).toEqual([{ value: '64500', text: 'AS64500 EXAMPLE-NET' }]);
  });

  it('lists a ranked kind within the dashboard range, the others whole', async () => {
    const ds = new DataSource(settings);
    const getResource = jest.spyOn(ds, 'getResource').mockResolvedValue([] as never);
    const range = { from: dateTime(1796083200000), to: dateTime(1796169600000), raw: { from: 'now-1d', to: 'now' } };
    const support = ds.variables as SviewVariableSupport;
    for (const kind of ['commands', 'countries'] as const) {
      await lastValueFrom(support.query({ targets: [{ refId: 'A', kind }], range, scopedVars: {} } as never));
    }
    expect(getResource.mock.calls).toEqual([
      ['variables/commands', { from: 1796083200000, to: 1796169600000 }],
      ['variables/countries', {}],
    ]);
  });

  it('rejects an answer that is not a list', async () => {
    const ds = new DataSource(settings);
    jest.spyOn(ds, 'getResource').mockResolvedValue({ error: 'x' } as never);
    await expect(ds.variableValues('probes')).rejects.toThrow('variables/probes: expected a JSON array');
  });

  it('offers every filter of the model as an ad-hoc key', async () => {
    const keys = await new DataSource(settings).getTagKeys();
    const want = model.filters.list;
    expect(keys.map((k) => k.value)).toEqual(want);
    expect(want).toEqual(
      expect.arrayContaining(['ip', 'port', 'password', 'username', 'country', 'asn', 'taxonomy', 'command'])
    );
    expect(want).toEqual(expect.arrayContaining(['type', 'identifier', 'feed', 'provider']));
  });

  it.each<[string, string]>([
    ['country', 'variables/countries'],
    ['asn', 'variables/asns'],
    ['ip', 'variables/ips'],
    ['port', 'variables/ports'],
    ['password', 'variables/passwords'],
    ['username', 'variables/usernames'],
    ['probe', 'variables/probes'],
    ['tag', 'variables/tags'],
    ['taxonomy', 'variables/taxonomies'],
    ['type', 'variables/types'],
    ['identifier', 'variables/identifiers'],
    ['feed', 'variables/feeds'],
    ['provider', 'variables/providers'],
    ['command', 'variables/commands'],
  ])('loads the values of %s within the dashboard time range', async (key, path) => {
    const ds = new DataSource(settings);
    const getResource = jest.spyOn(ds, 'getResource').mockResolvedValue([{ value: 'v', text: 'V' }] as never);
    const from = dateTime('2026-12-01T00:00:00Z');
    const to = dateTime('2026-12-02T00:00:00Z');
    const timeRange = { from, to, raw: { from: 'now-1d', to: 'now' } };
    expect(await ds.getTagValues({ key, filters: [], timeRange })).toEqual([{ value: 'v', text: 'V' }]);
    expect(getResource).toHaveBeenCalledWith(path, { from: 1796083200000, to: 1796169600000 });
  });

  it('loads values without a range when Grafana gives none, and none for a key it does not know', async () => {
    const ds = new DataSource(settings);
    const getResource = jest.spyOn(ds, 'getResource').mockResolvedValue([{ value: 'CZ', text: 'CZ' }] as never);
    expect(await ds.getTagValues({ key: 'country', filters: [] })).toEqual([{ value: 'CZ', text: 'CZ' }]);
    expect(getResource).toHaveBeenCalledWith('variables/countries', {});
    expect(await ds.getTagValues({ key: 'nope', filters: [] })).toEqual([]);
    expect(getResource).toHaveBeenCalledTimes(1);
  });
});
