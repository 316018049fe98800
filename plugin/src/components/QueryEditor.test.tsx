import React from 'react';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { setTemplateSrv } from '@grafana/runtime';

import type { DataSource } from '../datasource';
import { testDatasource } from '../testing/datasource';
import { fakeTemplateSrv } from '../testing/fakeTemplateSrv';
import { nodeSha1, setWebCrypto } from '../testing/webcrypto';
import { SviewQuery, VariableKind, VariableValue } from '../types';
import { QueryEditor } from './QueryEditor';

const BACKEND: Partial<Record<VariableKind, VariableValue[]>> = {
  presets: [
    { value: 'all_incidents_graph', text: 'all_incidents_graph' },
    { value: 'top_passwords_by_usages_graph', text: 'top_passwords_by_usages_graph' },
  ],
  countries: [
    { value: 'CZ', text: 'CZ' },
    { value: 'DE', text: 'DE' },
  ],
  probes: [{ value: '1', text: 'turris-01' }],
};

function datasource(fail = false): DataSource {
  return testDatasource((kind) => {
    if (fail) {
      throw new Error('datasource not saved');
    }
    return BACKEND[kind] ?? [];
  });
}

/** Renders the editor and lets its option lists finish loading. */
async function setup(query: Partial<SviewQuery>, ds = datasource()) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  const full: SviewQuery = { refId: 'A', ...query };
  await act(async () => {
    render(<QueryEditor datasource={ds} query={full} onChange={onChange} onRunQuery={onRunQuery} />);
  });
  return { onChange, onRunQuery };
}

/** Opens a @grafana/ui Select by its input id and picks the option with this label. */
function pick(inputId: string, label: string) {
  const input = document.getElementById(inputId)!;
  fireEvent.keyDown(input, { key: 'ArrowDown' });
  fireEvent.click(screen.getByText(label));
}

function openMenu(inputId: string) {
  fireEvent.keyDown(document.getElementById(inputId)!, { key: 'ArrowDown' });
}

const stats: Partial<SviewQuery> = {
  queryType: 'stats',
  metric: 'incidents',
  groupBy: '',
  format: 'timeseries',
  period: '',
};

beforeEach(() => setTemplateSrv(fakeTemplateSrv([{ name: 'cc', current: 'CZ' }])));

describe('QueryEditor: stats', () => {
  it('renders the fields of a new query', async () => {
    await setup(stats);
    expect(screen.getByText('Incidents')).toBeInTheDocument();
    expect(screen.getByText('Dashboard range')).toBeInTheDocument();
    expect(screen.getByText('Time series')).toBeInTheDocument();
    expect(screen.getByPlaceholderText('7')).toBeInTheDocument(); // the default limit of a time series
    await waitFor(() => expect(screen.getByLabelText('Countries')).toBeInTheDocument());
  });

  it('changes the metric and runs the query', async () => {
    const { onChange, onRunQuery } = await setup(stats);
    pick('sview-metric', 'Port scans');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ metric: 'scans' }));
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('offers only the groupings of the metric', async () => {
    await setup({ ...stats, metric: 'scans' });
    openMenu('sview-group-by');
    expect(screen.getByText('Port')).toBeInTheDocument();
    expect(screen.queryByText('Action')).not.toBeInTheDocument();
    expect(screen.queryByText('Password')).not.toBeInTheDocument();
  });

  it.each<[string, Partial<SviewQuery>, string]>([
    ['password cannot group incidents', { groupBy: 'password' }, 'Password cannot group incidents'],
    ['scans cannot be grouped by action', { metric: 'scans', groupBy: 'action' }, 'Action cannot group scans'],
    ['map needs country', { format: 'map', groupBy: 'trap' }, 'The map format needs group by Country.'],
    ['limit must be positive', { groupBy: 'country', limit: 0 }, 'Limit must be a whole number from 1 to 10000'],
    [
      'filters must suit the table',
      { metric: 'scans', filters: { trap: ['fwlogs'] } },
      'scans cannot be filtered by trap',
    ],
    [
      'a preset asks for its parameter',
      { preset: 'selected_attacker_incidents_graph' },
      'Preset selected_attacker_incidents_graph needs the ip filter.',
    ],
  ])('explains inline: %s', async (_name, change, message) => {
    await setup({ ...stats, ...change });
    expect(await screen.findByText(message, { exact: false })).toBeInTheDocument();
  });

  it('does not flag combinations that hold a $variable', async () => {
    await setup({ ...stats, groupBy: '$group' as never });
    expect(screen.queryByText(/cannot group/)).not.toBeInTheDocument();
  });

  it('fills the fields from a picked preset, keeping filters and period', async () => {
    const { onChange } = await setup({ ...stats, period: '1w', filters: { country: ['CZ'] } });
    await screen.findByText('none: build the query below');
    pick('sview-preset', 'top_passwords_by_usages_graph');
    expect(onChange).toHaveBeenLastCalledWith({
      refId: 'A',
      queryType: 'stats',
      preset: 'top_passwords_by_usages_graph',
      metric: 'usages',
      groupBy: ['password'],
      format: 'timeseries',
      limit: 7,
      period: '1w',
      filters: { country: ['CZ'] },
    });
  });

  it('falls back to the built-in presets when the backend cannot list them', async () => {
    await setup(stats, datasource(true));
    expect(await screen.findByText('Could not load presets: datasource not saved')).toBeInTheDocument();
    openMenu('sview-preset');
    expect(screen.getByText('top_combinations_by_usages_list_long')).toBeInTheDocument();
  });

  it('offers backend values and dashboard variables in a filter', async () => {
    const { onChange } = await setup(stats);
    await waitFor(() => expect(screen.getByLabelText('Countries')).toBeInTheDocument());
    openMenu('sview-filter-country');
    expect(await screen.findByText('DE')).toBeInTheDocument();
    fireEvent.click(screen.getByText('$cc'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ filters: { country: ['$cc'] } }));
  });

  it('stores an old saved query in its new shape', async () => {
    const { onChange } = await setup({ resource: 'all_attackers_graph' } as Partial<SviewQuery>);
    await waitFor(() =>
      expect(onChange).toHaveBeenCalledWith({ refId: 'A', queryType: 'stats', preset: 'all_attackers_graph' })
    );
  });

  it('drops the preset and the exclusions when switching to another query type', async () => {
    const { onChange } = await setup({ ...stats, preset: 'all_incidents_graph', exclude: { country: ['CN'] } });
    fireEvent.click(screen.getByText('Greylist'));
    const sent = onChange.mock.calls.at(-1)[0];
    expect(sent.queryType).toBe('greylist');
    expect(sent.preset).toBeUndefined();
    expect(sent.exclude).toBeUndefined();
  });
});

describe('QueryEditor: other query types', () => {
  it('greylist: min score and its validation', async () => {
    const { onChange } = await setup({ queryType: 'greylist', minScore: -1 });
    expect(screen.getByText('Minimum score must be 0 or more, not -1.')).toBeInTheDocument();
    fireEvent.change(document.getElementById('sview-min-score')!, { target: { value: '3' } });
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ minScore: 3 }));
  });

  it('leak: an empty lookup is incomplete, not wrong: no error yet', async () => {
    await setup({ queryType: 'leak' });
    expect(screen.queryByText('Enter a password, a SHA-1 or a hash prefix.')).not.toBeInTheDocument();
  });

  it('leak: explains a malformed SHA-1', async () => {
    await setup({ queryType: 'leak', sha1: 'xyz' });
    expect(screen.getByText('A SHA-1 is 40 hex digits.')).toBeInTheDocument();
  });

  it('leak: switching the lookup kind moves the value and clears the others', async () => {
    const { onChange } = await setup({ queryType: 'leak', sha1: 'abcdef' });
    fireEvent.click(screen.getByText('Hash prefix'));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'leak', prefix: 'abcdef' });
  });

  it('leak: a query saved with a plain password is stored as its SHA-1 when opened', async () => {
    setWebCrypto(true);
    try {
      const old = { queryType: 'leak', password: 'hunter2' } as unknown as Partial<SviewQuery>;
      const { onChange } = await setup(old);
      await waitFor(() =>
        expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'leak', sha1: nodeSha1('hunter2') })
      );
    } finally {
      setWebCrypto(false);
    }
  });

  it('status: explains what it returns', async () => {
    await setup({ queryType: 'status' });
    expect(screen.getByText(/Aggregation lag per table and precision/)).toBeInTheDocument();
  });
});

describe('QueryEditor: addresses and exclusions', () => {
  /** Types text into a @grafana/ui multi-select that takes custom values, and confirms it. */
  function typeIn(inputId: string, text: string) {
    const input = document.getElementById(inputId)!;
    fireEvent.change(input, { target: { value: text } });
    fireEvent.keyDown(input, { key: 'Enter' });
  }

  it('takes several attacker addresses and prefixes; a pasted list is split', async () => {
    const { onChange, onRunQuery } = await setup(stats);
    await waitFor(() => expect(screen.getByLabelText('Attacker IPs')).toBeInTheDocument());
    typeIn('sview-filter-ip', '192.0.2.0/24, 198.51.100.7');
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ filters: { ip: ['192.0.2.0/24', '198.51.100.7'] } })
    );
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('shows an address saved as one string as one entry, and stores it as a list', async () => {
    const { onChange } = await setup({ ...stats, filters: { ip: '192.0.2.1' } } as unknown as Partial<SviewQuery>);
    expect(await screen.findByText('192.0.2.1')).toBeInTheDocument();
    await waitFor(() =>
      expect(onChange).toHaveBeenCalledWith(expect.objectContaining({ filters: { ip: ['192.0.2.1'] } }))
    );
  });

  it('explains an entry that is neither an address nor a prefix', async () => {
    await setup({ ...stats, filters: { ip: ['192.0.2.300', '$ip', '2001:db8::/32'] } });
    expect(await screen.findByText(/"192.0.2.300" is not an IP address or CIDR prefix/)).toBeInTheDocument();
    expect(screen.queryByText(/"2001:db8::\/32"/)).not.toBeInTheDocument();
  });

  it('opens the exclusions with the keys of the filters and stores what is picked there', async () => {
    const { onChange, onRunQuery } = await setup(stats);
    expect(document.getElementById('sview-exclude-country')).toBeNull();
    fireEvent.click(screen.getByLabelText('Exclude'));
    await waitFor(() => expect(document.getElementById('sview-exclude-country')).not.toBeNull());
    for (const key of ['probe', 'asn', 'trap', 'action', 'ip']) {
      expect(document.getElementById(`sview-exclude-${key}`)).not.toBeNull();
    }
    expect(document.getElementById('sview-exclude-password')).toBeNull(); // incidents have no passwords
    openMenu('sview-exclude-country');
    fireEvent.click(await screen.findByText('DE'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ exclude: { country: ['DE'] } }));
    expect(onChange.mock.calls.at(-1)[0].filters).toBeUndefined();
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('shows saved exclusions, and switching them off drops them and runs', async () => {
    const { onChange, onRunQuery } = await setup({ ...stats, metric: 'usages', exclude: { password: ['123456', 'a, b'] } });
    expect(document.getElementById('sview-exclude-password')).not.toBeNull();
    expect(screen.getByText('123456')).toBeInTheDocument();
    expect(screen.getByText('a, b')).toBeInTheDocument();
    fireEvent.click(screen.getByLabelText('Exclude'));
    expect(onChange.mock.calls.at(-1)[0]).not.toHaveProperty('exclude');
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('explains an exclusion the metric cannot apply', async () => {
    await setup({ ...stats, metric: 'scans', exclude: { trap: ['fwlogs'] } });
    expect(await screen.findByText(/scans cannot exclude by trap/)).toBeInTheDocument();
  });
});
