import { migrateQuery } from './migration';
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
      legacy({ queryType: 'stats', preset: 'selected_attacker_incidents_graph', filters: { ip: '192.0.2.1' } }),
    ],
    [
      'password parameter of a password preset moves into the filters',
      legacy({ resource: 'logins_of_password_by_usages_list', password: 'admin' }),
      legacy({ queryType: 'stats', preset: 'logins_of_password_by_usages_list', filters: { password: 'admin' } }),
    ],
    [
      'device token of a my_* resource is kept: it is not a probe id',
      legacy({ resource: 'my_all_incidents_graph', token: 'ab'.repeat(32) }),
      legacy({ queryType: 'stats', preset: 'my_all_incidents_graph', token: 'ab'.repeat(32) }),
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
      legacy({ queryType: 'stats', metric: 'scans', groupBy: '', period: '' }),
    ],
    [
      'an unknown resource name is kept, not guessed',
      legacy({ resource: 'no_such_resource' }),
      legacy({ queryType: 'stats', resource: 'no_such_resource' }),
    ],
    [
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
      groupBy: 'password',
      format: 'timeseries',
      period: '',
      limit: 7,
      filters: { probe: ['$probe'], ip: '10.0.0.0/8' },
    };
    expect(migrateQuery(current)).toEqual(current);
    expect(migrateQuery(migrateQuery(legacy({ resource: 'all_incidents_graph' })))).toEqual(
      migrateQuery(legacy({ resource: 'all_incidents_graph' }))
    );
  });
});
