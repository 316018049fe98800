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
    for (const label of [
      'Host',
      'Port',
      'Database',
      'User',
      'TLS mode',
      'Read replica URL',
      'Address',
      'Mode',
      'Max rows',
    ]) {
      expect(screen.getByText(label)).toBeInTheDocument();
    }
    expect(screen.getByText(/read-only role sview_reader/)).toBeInTheDocument();
    expect(screen.getByPlaceholderText('localhost')).toBeInTheDocument();
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

  it('explains a malformed TTL and a bad port inline', () => {
    setup(options({ cacheTtlOverrides: { '1d': '10 minutes' }, port: 70000 }));
    expect(screen.getByText('"10 minutes" is not a duration like 10m')).toBeInTheDocument();
    expect(screen.getByText('A port is a whole number from 1 to 65535.')).toBeInTheDocument();
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
