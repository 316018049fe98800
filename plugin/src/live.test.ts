import { DataQueryRequest, DataQueryResponse, LiveChannelScope } from '@grafana/data';
import { GrafanaLiveSrv, LiveDataStreamOptions, setGrafanaLiveSrv, setTemplateSrv } from '@grafana/runtime';
import { lastValueFrom, of, toArray } from 'rxjs';

import { DataSource } from './datasource';
import { DEFAULT_LIVE_RATE, liveAddress, livePath } from './live';
import { fakeTemplateSrv } from './testing/fakeTemplateSrv';
import { SviewQuery } from './types';

/** Decodes a base64url segment the way the backend does (plugin/pkg/plugin/stream.go). */
function decode(segment: string): string {
  const b64 = segment.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

// Grafana Live accepts these characters in a channel path (pkg/services/live/orgchannel).
const PATH_CHARS = /^[A-Za-z0-9_\-/=.]+$/;

describe('livePath', () => {
  it('encodes the kind, the login, the rate and the filters', () => {
    const q: SviewQuery = {
      refId: 'A',
      queryType: 'live',
      rate: 20,
      filters: { country: ['CZ'], ip: ['2001:db8::/32'] },
      exclude: { trap: ['fwlogs'] },
    };
    const path = livePath(q, 'noc@example.org');
    expect(path).toMatch(PATH_CHARS);
    const [kind, login, rate, model] = path.split('/');
    expect(kind).toBe('incidents');
    expect(decode(login.slice(1))).toBe('noc@example.org');
    expect(rate).toBe('20');
    expect(JSON.parse(decode(model))).toEqual({ filters: q.filters, exclude: q.exclude });
  });

  it('defaults the rate, streams counts for a timeseries and takes any login', () => {
    const path = livePath({ refId: 'A', queryType: 'live', format: 'timeseries' }, 'Žofie ✓');
    expect(path).toMatch(PATH_CHARS);
    const [kind, login, rate, model] = path.split('/');
    expect(kind).toBe('counts');
    expect(decode(login.slice(1))).toBe('Žofie ✓');
    expect(rate).toBe(String(DEFAULT_LIVE_RATE));
    expect(JSON.parse(decode(model))).toEqual({});
    // an anonymous user has an empty login
    expect(livePath({ refId: 'A', queryType: 'live' }, '').split('/')[1]).toBe('u');
  });

  it('is a datasource channel of the datasource', () => {
    expect(liveAddress('sview', { refId: 'A', queryType: 'live' }, 'admin')).toEqual({
      scope: LiveChannelScope.DataSource,
      stream: 'sview',
      path: 'incidents/uYWRtaW4/50/e30',
    });
  });
});

describe('DataSource.query with live targets', () => {
  it('opens one stream per live target with variables and ad-hoc filters in its path', async () => {
    setTemplateSrv(fakeTemplateSrv([{ name: 'country', current: ['CZ', 'DE'], options: ['CZ', 'DE'] }]));
    const opened: LiveDataStreamOptions[] = [];
    setGrafanaLiveSrv({
      getDataStream: (options: LiveDataStreamOptions) => {
        opened.push(options);
        return of({ data: [], key: options.key } as DataQueryResponse);
      },
    } as unknown as GrafanaLiveSrv);
    const ds = new DataSource({ uid: 'sview', jsonData: {}, meta: {} } as never);
    const request = {
      requestId: 'r1',
      scopedVars: {},
      filters: [{ key: 'asn', operator: '=', value: '64500' }],
      targets: [
        { refId: 'A', queryType: 'live', filters: { country: ['$country'] } },
        { refId: 'B', queryType: 'live', format: 'timeseries', rate: 5 },
        { refId: 'C', queryType: 'live', hide: true },
        { refId: 'D', queryType: 'live', filters: { port: ['22'] } },
      ],
    } as unknown as DataQueryRequest<SviewQuery>;
    const responses = await lastValueFrom(ds.query(request).pipe(toArray()));
    expect(responses.map((r) => r.key)).toEqual(['r1-A', 'r1-B', 'r1-D']);
    expect(responses[2].errors?.[0].message).toMatch(/A live stream of incidents has no port/);
    expect(opened.map((o) => o.addr.path.split('/').slice(0, 3))).toEqual([
      ['incidents', 'u', '50'],
      ['counts', 'u', '5'],
    ]);
    expect(JSON.parse(decode(opened[0].addr.path.split('/')[3]))).toEqual({
      filters: { country: ['CZ', 'DE'] },
      adhoc: [{ key: 'asn', operator: '=', value: '64500' }],
    });
    expect(opened.every((o) => o.addr.scope === LiveChannelScope.DataSource && o.addr.stream === 'sview')).toBe(true);
  });
});
