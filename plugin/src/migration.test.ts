import { hashPassword, isVariableRef, legacyPassword, migrateQuery, withoutPassword } from './migration';
import { CANNOT_HASH } from './hash';
import { nodeSha1, setWebCrypto } from './testing/webcrypto';
import { SviewQuery } from './types';

const legacy = (q: Record<string, unknown>) => ({ refId: 'A', ...q }) as unknown as SviewQuery;

describe('migrateQuery', () => {
  it.each<[string, SviewQuery, SviewQuery]>([
    [
      'original resource name and period (the /api/resource API)',
      legacy({ resource: 'top_countries_by_attackers_graph', period: '1w' }),
      legacy({ queryType: 'stats', preset: 'top_countries_by_attackers_graph', period: '1w' }),
    ],
    [
      'resource under "name", with its ip parameter',
      legacy({ name: 'selected_attacker_incidents_graph', ip: '192.0.2.1' }),
      legacy({ queryType: 'stats', preset: 'selected_attacker_incidents_graph', filters: { ip: ['192.0.2.1'] } }),
    ],
    [
      'password parameter of a password preset moves into the filters',
      legacy({ resource: 'logins_of_password_by_usages_list', password: 'admin' }),
      legacy({ queryType: 'stats', preset: 'logins_of_password_by_usages_list', filters: { password: ['admin'] } }),
    ],
    [
      'a password or username saved as one string is a list of one',
      legacy({ queryType: 'stats', metric: 'usages', filters: { password: 'a, b' }, exclude: { username: 'root' } }),
      legacy({ queryType: 'stats', metric: 'usages', filters: { password: ['a, b'] }, exclude: { username: ['root'] } }),
    ],
    [
      'device token of a my_* resource is kept: it is not a probe id',
      legacy({ resource: 'my_all_incidents_graph', token: 'ab'.repeat(32) }),
      legacy({ queryType: 'stats', preset: 'my_all_incidents_graph', token: 'ab'.repeat(32) }),
    ],
    [
      'a label filter written as one string is a list of it, its commas kept',
      legacy({ metric: 'commands', filters: { command: 'echo a,b' }, exclude: { feed: 'Drone' } }),
      legacy({
        queryType: 'stats',
        metric: 'commands',
        filters: { command: ['echo a,b'] },
        exclude: { feed: ['Drone'] },
      }),
    ],
    [
      'scalar and numeric filters become string lists; string limit a number',
      legacy({ metric: 'incidents', filters: { country: 'CZ', asn: 64500, port: [22, 23] }, limit: '10' }),
      legacy({
        queryType: 'stats',
        metric: 'incidents',
        filters: { country: ['CZ'], asn: ['64500'], port: ['22', '23'] },
        limit: 10,
      }),
    ],
    [
      'null groupBy and period mean none and the dashboard range',
      legacy({ queryType: 'stats', metric: 'scans', groupBy: null, period: null }),
      legacy({ queryType: 'stats', metric: 'scans', groupBy: [], period: '' }),
    ],
    [
      'a groupBy of older versions, one key, becomes a list of one; "" the empty list',
      legacy({ queryType: 'stats', metric: 'scans', groupBy: 'port', exclude: { port: 22 } }),
      legacy({ queryType: 'stats', metric: 'scans', groupBy: ['port'], exclude: { port: ['22'] } }),
    ],
    [
      'keys separated by commas (as Grafana interpolates a multi-value variable) and $variables',
      legacy({ queryType: 'stats', metric: 'incidents', groupBy: ' asn, trap ,,$key' }),
      legacy({ queryType: 'stats', metric: 'incidents', groupBy: ['asn', 'trap', '$key'] }),
    ],
    [
      'an empty groupBy is no grouping',
      legacy({ queryType: 'stats', metric: 'incidents', groupBy: '' }),
      legacy({ queryType: 'stats', metric: 'incidents', groupBy: [] }),
    ],
    [
      'an unknown resource name is kept, not guessed',
      legacy({ resource: 'no_such_resource' }),
      legacy({ queryType: 'stats', resource: 'no_such_resource' }),
    ],
    [
      'a single ip saved by older versions becomes a list of one, in filters and exclusions',
      legacy({
        queryType: 'stats',
        metric: 'incidents',
        filters: { ip: '198.51.100.0/24' },
        exclude: { ip: '$ip', asn: 64500 },
      }),
      legacy({
        queryType: 'stats',
        metric: 'incidents',
        filters: { ip: ['198.51.100.0/24'] },
        exclude: { ip: ['$ip'], asn: ['64500'] },
      }),
    ],
    [
      'an empty exclusion is dropped',
      legacy({ queryType: 'stats', metric: 'incidents', exclude: { ip: '', country: [] } }),
      legacy({ queryType: 'stats', metric: 'incidents' }),
    ],
    [
      // hashing is asynchronous: hashPassword does it
      'a leak query keeps its top-level password',
      legacy({ queryType: 'leak', password: 'hunter2' }),
      legacy({ queryType: 'leak', password: 'hunter2' }),
    ],
  ])('%s', (_name, input, want) => {
    expect(migrateQuery(input)).toEqual(want);
  });

  it('leaves a current query unchanged and is idempotent', () => {
    const current: SviewQuery = {
      refId: 'B',
      queryType: 'stats',
      preset: 'top_passwords_by_usages_graph',
      metric: 'usages',
      groupBy: ['password', 'country'],
      format: 'timeseries',
      period: '',
      limit: 7,
      filters: { probe: ['$probe'], ip: ['10.0.0.0/8', '$ip'] },
      exclude: { country: ['CN'], password: ['123456'] },
    };
    expect(migrateQuery(current)).toEqual(current);
    expect(migrateQuery(migrateQuery(legacy({ resource: 'all_incidents_graph' })))).toEqual(
      migrateQuery(legacy({ resource: 'all_incidents_graph' }))
    );
  });
});

describe('leak queries saved with a plain password', () => {
  beforeEach(() => setWebCrypto(true));
  afterEach(() => setWebCrypto(false));

  it.each<[string, Record<string, unknown>, string | undefined]>([
    ['a leak password', { queryType: 'leak', password: 'hunter2' }, 'hunter2'],
    ['a number, as the backend used to read it', { queryType: 'leak', password: 123456 }, '123456'],
    ['an empty one is no password', { queryType: 'leak', password: '' }, undefined],
    ['a stats query has no leak password', { queryType: 'stats', password: 'admin' }, undefined],
    ['a current leak query', { queryType: 'leak', sha1: nodeSha1('x') }, undefined],
    ['a $variable is not a saved password', { queryType: 'leak', password: '${pw}' }, undefined],
  ])('legacyPassword: %s', (_name, query, want) => {
    expect(legacyPassword(legacy(query))).toBe(want);
  });

  it('hashes the value of a $variable, not its name', async () => {
    const replace = (text: string) => text.replace('$pw', 'hunter2');
    await expect(hashPassword(legacy({ queryType: 'leak', password: '$pw' }), replace)).resolves.toEqual(
      legacy({ queryType: 'leak', sha1: nodeSha1('hunter2') })
    );
  });

  it.each([
    ['$pw', true],
    ['${pw}', true],
    ['${pw:raw}', true],
    ['pa$$word', false],
    ['x$pw', false],
    ['$pw$pw', false],
  ])('isVariableRef(%j) is %s', (text, want) => {
    expect(isVariableRef(text)).toBe(want);
  });

  it('turns the password into its sha1 and keeps nothing of it', async () => {
    const out = await hashPassword(legacy({ queryType: 'leak', password: 'hunter2', hide: false }));
    expect(out).toEqual({ refId: 'A', queryType: 'leak', hide: false, sha1: nodeSha1('hunter2') });
    expect(JSON.stringify(out)).not.toContain('hunter2');
  });

  it('keeps a hash or prefix given beside the password, and drops the password', async () => {
    await expect(hashPassword(legacy({ queryType: 'leak', password: 'x', prefix: 'abcde' }))).resolves.toEqual(
      legacy({ queryType: 'leak', prefix: 'abcde' })
    );
  });

  it('leaves a current query as it is', async () => {
    const current = legacy({ queryType: 'leak', sha1: nodeSha1('x') });
    await expect(hashPassword(current)).resolves.toEqual(current);
  });

  it('fails, saying why, where the browser cannot hash', async () => {
    setWebCrypto(false);
    await expect(hashPassword(legacy({ queryType: 'leak', password: 'x' }))).rejects.toThrow(CANNOT_HASH);
  });

  it('withoutPassword drops any top-level password and leaves filters alone', () => {
    expect(withoutPassword(legacy({ queryType: 'stats', password: 'p', filters: { password: 'admin' } }))).toEqual(
      legacy({ queryType: 'stats', filters: { password: 'admin' } })
    );
    const current = legacy({ queryType: 'leak', prefix: 'abcde' });
    expect(withoutPassword(current)).toBe(current);
  });
});
