import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';
import { DataSourceSettings } from '@grafana/data';

import { SviewOptions, SviewSecureJsonData } from '../types';
import { ConfigEditor } from './ConfigEditor';

type Options = DataSourceSettings<SviewOptions, SviewSecureJsonData>;

function options(jsonData: SviewOptions = {}, secureJsonFields: Record<string, boolean> = {}): Options {
  return { id: 1, uid: 'u', jsonData, secureJsonFields, secureJsonData: {} } as unknown as Options;
}

function setup(opts: Options) {
  const onOptionsChange = jest.fn();
  render(<ConfigEditor options={opts} onOptionsChange={onOptionsChange} />);
  return onOptionsChange;
}

const last = (fn: jest.Mock): Options => fn.mock.calls.at(-1)[0];

describe('ConfigEditor', () => {
  it('shows every setting with its description and the defaults as placeholders', () => {
    setup(options());
    const labels = [
      'Host',
      'Port',
      'Database',
      'TLS mode',
      'Read replica URL',
      'Address',
      'Mode',
      'Key prefix',
      'Max rows',
    ];
    for (const label of labels) {
      // required fields carry a trailing " *"
      expect(screen.getByText(new RegExp(`^${label}( \\*)?$`))).toBeInTheDocument();
    }
    expect(screen.getAllByText(/^User( \*)?$/)).toHaveLength(2); // PostgreSQL and Redis
    expect(screen.getByText(/read-only role sview_reader/)).toBeInTheDocument();
    expect(screen.getByPlaceholderText('60')).toBeInTheDocument(); // the backend's query timeout
    expect(screen.getByPlaceholderText('100000')).toBeInTheDocument(); // and row cap
    expect(screen.getByPlaceholderText('5432')).toBeInTheDocument();
  });

  it.each<[string, string, Partial<SviewOptions>]>([
    ['config-host', 'db.example', { host: 'db.example' }],
    ['config-port', '6432', { port: 6432 }],
    ['config-database', 'sentinel', { database: 'sentinel' }],
    ['config-user', 'grafana', { user: 'grafana' }],
    ['config-read-replica', 'postgres://replica/sview', { readReplicaUrl: 'postgres://replica/sview' }],
    ['config-redis-address', 'redis:6379', { redisAddress: 'redis:6379' }],
    ['config-query-timeout', '60', { queryTimeoutSeconds: 60 }],
    ['config-max-rows', '500', { maxRows: 500 }],
    ['config-ttl-1h', '2m', { cacheTtlOverrides: { '1h': '2m' } }],
    ['config-redis-user', 'cache', { redisUser: 'cache' }],
    ['config-redis-db', '2', { redisDB: 2 }],
    ['config-redis-prefix', 'sv1:', { redisKeyPrefix: 'sv1:' }],
  ])('writes %s to jsonData', (id, value, want) => {
    const onOptionsChange = setup(options({ host: 'old' }));
    fireEvent.change(document.getElementById(id)!, { target: { value } });
    expect(last(onOptionsChange).jsonData).toEqual({ host: 'old', ...want });
  });

  it('drops a TTL override when emptied, and the whole map when none is left', () => {
    const onOptionsChange = setup(options({ cacheTtlOverrides: { '1h': '2m' } }));
    fireEvent.change(document.getElementById('config-ttl-1h')!, { target: { value: '' } });
    expect(last(onOptionsChange).jsonData.cacheTtlOverrides).toBeUndefined();
  });

  it.each<[string, SviewOptions, string]>([
    ['malformed TTL', { cacheTtlOverrides: { '1d': '10 minutes' } }, '"10 minutes" is not a duration like 10m'],
    ['port out of range', { port: 70000 }, 'A port is a whole number from 1 to 65535.'],
    ['host with a port', { host: 'postgres://db:5432' }, 'Only the host name or address: no scheme, path or user.'],
    [
      'replica URL with a password',
      { readReplicaUrl: 'postgres://u:pw@replica/sview' },
      'Put the password in the replica password field',
    ],
    ['replica URL of another scheme', { readReplicaUrl: 'mysql://replica/sview' }, 'Want a postgres:// URL.'],
    ['timeout above the limit', { queryTimeoutSeconds: 7200 }, 'At most 3600 seconds.'],
  ])('explains inline: %s', (_name, jsonData, message) => {
    setup(options(jsonData));
    expect(screen.getByText(message, { exact: false })).toBeInTheDocument();
  });

  it('turns Redis TLS on', () => {
    const onOptionsChange = setup(options());
    fireEvent.click(document.getElementById('config-redis-tls')!);
    expect(last(onOptionsChange).jsonData).toEqual({ redisTLS: true });
  });

  it('offers a separate replica password once a replica is set', () => {
    setup(options({ readReplicaUrl: 'postgres://reader@replica/sview' }));
    expect(document.getElementById('config-replica-password')).toBeInTheDocument();
  });

  it('offers the read fallback once a replica is set, primary by default', () => {
    const onOptionsChange = setup(options({ readReplicaUrl: 'postgres://reader@replica/sview' }));
    expect(screen.getByLabelText('Use the primary')).toBeChecked();
    fireEvent.click(screen.getByLabelText('Fail'));
    expect(last(onOptionsChange).jsonData.readReplicaFallback).toBe('none');
  });

  it('hides the read fallback without a replica', () => {
    setup(options());
    expect(screen.queryByText('While the replica is down')).not.toBeInTheDocument();
  });

  it('keeps passwords in secureJsonData, never in jsonData', () => {
    const onOptionsChange = setup(options());
    fireEvent.change(document.getElementById('config-password')!, { target: { value: 's3cret' } });
    expect(last(onOptionsChange).secureJsonData).toEqual({ password: 's3cret' });
    expect(JSON.stringify(last(onOptionsChange).jsonData)).not.toContain('s3cret');
  });

  it('resets a configured secret', () => {
    const onOptionsChange = setup(options({}, { redisPassword: true }));
    expect(screen.getByDisplayValue('configured')).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Reset' }));
    const sent = last(onOptionsChange);
    expect(sent.secureJsonFields.redisPassword).toBe(false);
    expect(sent.secureJsonData).toEqual({ redisPassword: '' });
  });

  it('asks for the master name in sentinel mode only', () => {
    setup(options({ redisMode: 'sentinel' }));
    expect(screen.getByText('Sentinel mode needs the master name.')).toBeInTheDocument();
  });

  it('hides the master name outside sentinel mode', () => {
    setup(options({ redisMode: 'cluster' }));
    expect(screen.queryByText('Master name')).not.toBeInTheDocument();
  });
});
