import { isAddressOrPrefix, isComplete, queryProblems } from './validation';
import { SviewQuery } from './types';

const q = (extra: Partial<SviewQuery>): SviewQuery => ({ refId: 'A', ...extra });

describe('queryProblems', () => {
  it.each<[string, SviewQuery, string[]]>([
    ['default stats query', q({ queryType: 'stats', metric: 'incidents', groupBy: '', format: 'timeseries' }), []],
    [
      'map without grouping (the backend groups by country)',
      q({ metric: 'attackers', format: 'map', groupBy: '' }),
      [],
    ],
    ['map grouped by asn', q({ metric: 'attackers', format: 'map', groupBy: 'asn' }), ['format']],
    ['combination of incidents is trap + action', q({ metric: 'incidents', groupBy: 'combination' }), []],
    ['usages by action', q({ metric: 'usages', groupBy: 'action' }), ['groupBy']],
    ['a preset expands before checking', q({ preset: 'top_ports_by_scans_graph', groupBy: 'trap' }), ['groupBy']],
    ['variables are left to the backend', q({ metric: '$metric', groupBy: '$g', format: '$f' }), []],
    ['several keys', q({ metric: 'incidents', groupBy: ['asn', 'trap', 'probe'], format: 'table' }), []],
    ['keys of an older string', q({ metric: 'usages', groupBy: 'country,password' as never }), []],
    ['a key the table lacks among several', q({ metric: 'scans', groupBy: ['asn', 'trap'] }), ['groupBy']],
    ['a key twice', q({ metric: 'incidents', groupBy: ['asn', 'asn'] }), ['groupBy']],
    ['four keys', q({ metric: 'incidents', groupBy: ['asn', 'trap', 'probe', 'country'] }), ['groupBy']],
    ['a key held in a variable among several', q({ metric: 'scans', groupBy: ['$g', 'trap'] }), []],
    ['map by country and asn', q({ metric: 'incidents', format: 'map', groupBy: ['country', 'asn'] }), ['format']],
    ['map by country', q({ metric: 'incidents', format: 'map', groupBy: ['country'] }), []],
    ['preset unknown here', q({ preset: 'from_a_newer_backend' }), ['preset']],
    ['greylist with a stats filter', q({ queryType: 'greylist', filters: { trap: ['fwlogs'] } }), ['filters']],
    ['limit above the backend maximum', q({ metric: 'incidents', groupBy: 'ip', limit: 10001 }), ['limit']],
    ['greylist fine', q({ queryType: 'greylist', minScore: 2, limit: 100, filters: { tag: ['ssh'] } }), []],
    ['leak with two lookups', q({ queryType: 'leak', sha1: 'a'.repeat(40), prefix: 'abcde' }), ['leak']],
    ['leak prefix too short', q({ queryType: 'leak', prefix: 'abc' }), ['leak']],
    ['leak prefix as variable', q({ queryType: 'leak', prefix: '$p' }), []],
    ['leak by full SHA-1', q({ queryType: 'leak', sha1: 'a'.repeat(40) }), []],
    ['status has nothing to check', q({ queryType: 'status' }), []],
    [
      'feed events by taxonomy',
      q({ metric: 'events', groupBy: ['taxonomy', 'feed'], filters: { type: ['scanner'] } }),
      [],
    ],
    ['feed events by probe', q({ metric: 'events', groupBy: 'probe' }), ['groupBy']],
    ['feed events filtered by probe', q({ metric: 'events', filters: { probe: ['1'] } }), ['filters']],
    ['commands by command and probe', q({ metric: 'commands', groupBy: ['command', 'probe'] }), []],
    ['commands excluding a taxonomy', q({ metric: 'commands', exclude: { taxonomy: ['scanner'] } }), ['exclude']],
    ['incidents filtered by command', q({ metric: 'incidents', filters: { command: ['uname -a'] } }), ['filters']],
    [
      'a command longer than the backend takes',
      q({ metric: 'commands', filters: { command: ['x'.repeat(257)] } }),
      ['filters'],
    ],
    ['a command of 256 bytes', q({ metric: 'commands', exclude: { command: ['é'.repeat(128)] } }), []],
    ['feed events with their filters', q({ queryType: 'events', events: 'feeds', filters: { feed: ['Drone'] } }), []],
    [
      'feed events filtered by probe',
      q({ queryType: 'events', events: 'feeds', filters: { probe: ['1'] } }),
      ['filters'],
    ],
    [
      'commands excluding a trap',
      q({ queryType: 'events', events: 'commands', exclude: { trap: ['fwlogs'] } }),
      ['exclude'],
    ],
    ['an events page too long', q({ queryType: 'events', events: 'commands', limit: 5001 }), ['limit']],
  ])('%s', (_name, query, fields) => {
    expect(queryProblems(query).map((p) => p.field)).toEqual(fields);
  });

  it('says which key is wrong and how many keys may be given', () => {
    expect(queryProblems(q({ metric: 'scans', groupBy: ['asn', 'trap'] })).map((p) => p.message)).toEqual([
      'Trap cannot group scans: scans can be grouped by country, asn, ip, probe, port.',
    ]);
    expect(
      queryProblems(q({ metric: 'incidents', groupBy: ['asn', 'trap', 'ip', 'probe'] })).map((p) => p.message)
    ).toEqual(['Group by at most 3 keys, not 4.']);
    expect(queryProblems(q({ metric: 'incidents', groupBy: ['probe', 'probe'] })).map((p) => p.message)).toEqual([
      'Probe is chosen twice.',
    ]);
  });

  it('refuses a probe on feed events as the backend does, naming the filters their table has', () => {
    expect(queryProblems(q({ metric: 'events', filters: { probe: ['1'] }, exclude: { probe: ['2'] } }))).toEqual([
      {
        field: 'filters',
        message:
          'events cannot be filtered by probe; its filters are asn, country, ip, taxonomy, type, identifier, feed, provider.',
      },
      {
        field: 'exclude',
        message:
          'events cannot exclude by probe; it can exclude by asn, country, ip, taxonomy, type, identifier, feed, provider.',
      },
    ]);
    expect(queryProblems(q({ queryType: 'events', events: 'feeds', filters: { probe: ['1'] } }))).toEqual([
      {
        field: 'filters',
        message:
          'feeds events cannot be filtered by probe; its filters are asn, country, ip, taxonomy, type, identifier, feed, provider.',
      },
    ]);
    expect(queryProblems(q({ metric: 'events', groupBy: ['probe'] })).map((p) => p.message)).toEqual([
      'Probe cannot group events: events can be grouped by country, asn, ip, taxonomy, type, identifier, feed, provider.',
    ]);
  });

  it('names a label value too long by its start', () => {
    const long = `wget http://198.51.100.7/${'a'.repeat(300)}`;
    expect(queryProblems(q({ metric: 'commands', exclude: { command: ['ls', long] } }))).toEqual([
      {
        field: 'exclude',
        message: `"${long.slice(0, 32)}…" is longer than 256 bytes, the most a value may be.`,
      },
    ]);
  });

  it('names the allowed values in its messages', () => {
    const [problem] = queryProblems(q({ metric: 'scans', groupBy: 'password' }));
    expect(problem.message).toBe('Password cannot group scans: scans can be grouped by country, asn, ip, probe, port.');
  });
});

describe('isComplete', () => {
  it('only incomplete queries are held back, not wrong ones', () => {
    expect(isComplete(q({ queryType: 'leak' }))).toBe(false);
    expect(isComplete(q({ queryType: 'leak', sha1: 'nothex' }))).toBe(true);
    expect(isComplete(q({ preset: 'logins_of_password_by_usages_list' }))).toBe(false);
    expect(isComplete(q({ preset: 'logins_of_password_by_usages_list', filters: { password: ['admin'] } }))).toBe(true);
  });
});

describe('isAddressOrPrefix', () => {
  it.each<[string, boolean]>([
    ['192.0.2.1', true],
    ['198.51.100.0/24', true],
    ['0.0.0.0/0', true],
    ['2001:db8::/32', true],
    ['::1', true],
    ['::ffff:192.0.2.1', true],
    ['fe80::1:2:3:4', true],
    ['192.0.2.300', false],
    ['192.0.2.0/33', false],
    ['192.0.2', false],
    ['2001:db8::/129', false],
    ['2001:db8::1::2', false],
    ['example.org', false],
    ['192.0.2.0/24/8', false],
  ])('%s: %s', (text, want) => {
    expect(isAddressOrPrefix(text)).toBe(want);
  });

  it('explains bad entries of filters and exclusions, never $variables', () => {
    const problems = queryProblems({
      refId: 'A',
      queryType: 'stats',
      metric: 'incidents',
      filters: { ip: ['$ip', '192.0.2.0/24'] },
      exclude: { ip: ['10.0.0.0/8', 'nope'] },
    });
    expect(problems).toEqual([
      {
        field: 'exclude',
        message: '"nope" is not an IP address or CIDR prefix (such as 192.0.2.1 or 198.51.100.0/24).',
      },
    ]);
  });
});
