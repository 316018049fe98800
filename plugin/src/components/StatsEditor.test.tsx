import React from 'react';
import { act, fireEvent, render, screen } from '@testing-library/react';
import { dateTime } from '@grafana/data';
import { setTemplateSrv } from '@grafana/runtime';

import { testDatasource } from '../testing/datasource';
import { renderQueryEditor } from '../testing/editor';
import { fakeTemplateSrv } from '../testing/fakeTemplateSrv';
import { SviewQuery, VariableKind, VariableValue } from '../types';
import { StatsEditor } from './StatsEditor';

async function setup(query: Partial<SviewQuery>) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  const full: SviewQuery = { refId: 'A', queryType: 'stats', metric: 'incidents', format: 'table', ...query };
  await act(async () => {
    render(<StatsEditor datasource={testDatasource()} query={full} onChange={onChange} onRunQuery={onRunQuery} />);
  });
  return { onChange, onRunQuery };
}

function openGroupBy() {
  fireEvent.keyDown(document.getElementById('sview-group-by')!, { key: 'ArrowDown' });
}

describe('StatsEditor: group by', () => {
  beforeEach(() => setTemplateSrv(fakeTemplateSrv([])));

  it('adds a key to the grouping and runs the query', async () => {
    const { onChange, onRunQuery } = await setup({ groupBy: ['asn'] });
    openGroupBy();
    fireEvent.click(screen.getByText('Trap'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ groupBy: ['asn', 'trap'] }));
    expect(onRunQuery).toHaveBeenCalled();
  });

  it("offers the metric's groupings only, and no 'nothing' key", async () => {
    await setup({ metric: 'scans', groupBy: [] });
    openGroupBy();
    expect(screen.getByText('Port')).toBeInTheDocument();
    expect(screen.getByText('Autonomous system')).toBeInTheDocument();
    expect(screen.queryByText('Trap')).not.toBeInTheDocument();
    expect(screen.queryByText('Nothing (one series)')).not.toBeInTheDocument();
  });

  it('takes no fourth key', async () => {
    const { onChange } = await setup({ groupBy: ['asn', 'trap', 'probe'] });
    openGroupBy();
    fireEvent.click(screen.getByText('Country'));
    expect(onChange).not.toHaveBeenCalledWith(
      expect.objectContaining({ groupBy: expect.arrayContaining(['country']) })
    );
  });

  it('shows the keys of a query saved with a string by an older version', async () => {
    await setup({ groupBy: 'asn,trap' as never });
    expect(screen.getByText('Autonomous system')).toBeInTheDocument();
    expect(screen.getByText('Trap')).toBeInTheDocument();
  });

  it('removes a key', async () => {
    const { onChange } = await setup({ groupBy: ['asn', 'trap'] });
    fireEvent.click(screen.getAllByLabelText('Remove')[0]);
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ groupBy: ['trap'] }));
  });

  it('explains a key the metric cannot be grouped by', async () => {
    await setup({ metric: 'scans', groupBy: ['asn', 'trap'] });
    expect(await screen.findByText(/Trap cannot group scans/)).toBeInTheDocument();
  });
});

describe('StatsEditor: feed events and commands', () => {
  beforeEach(() => setTemplateSrv(fakeTemplateSrv([])));

  const range = { from: dateTime(1796083200000), to: dateTime(1796169600000), raw: { from: 'now-1d', to: 'now' } };
  const BACKEND: Partial<Record<VariableKind, VariableValue[]>> = {
    taxonomies: [{ value: 'information-gathering', text: 'information-gathering' }],
    feeds: [{ value: 'Scan-SSH', text: 'Scan-SSH' }],
    commands: [{ value: 'uname -a', text: 'uname -a' }],
  };
  const datasource = () => testDatasource((kind) => BACKEND[kind] ?? []);
  const stats = (extra: Partial<SviewQuery>) =>
    renderQueryEditor({ queryType: 'stats', format: 'table', ...extra }, datasource(), range);
  const shown = (id: string) => document.getElementById(id) !== null;

  it('offers both metrics with their sources', async () => {
    const { onChange, onRunQuery } = await stats({ metric: 'incidents' });
    fireEvent.keyDown(document.getElementById('sview-metric')!, { key: 'ArrowDown' });
    expect(screen.getByText('Commands (HaaS)')).toBeInTheDocument();
    fireEvent.click(screen.getByText('Feed events (IDEA, IntelMQ)'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ metric: 'events' }));
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('feed events group and filter by their classification and feed, never by probe', async () => {
    await stats({ metric: 'events' });
    const filters = ['taxonomy', 'type', 'identifier', 'feed', 'provider', 'probe', 'command', 'trap'];
    expect(filters.map((k) => shown(`sview-filter-${k}`))).toEqual([true, true, true, true, true, false, false, false]);
    openGroupBy();
    for (const label of ['Taxonomy', 'Type', 'Identifier', 'Feed', 'Provider', 'Autonomous system']) {
      expect(screen.getByText(label, { selector: '[role=option] *' })).toBeInTheDocument();
    }
    expect(screen.queryByText('Probe', { selector: '[role=option] *' })).not.toBeInTheDocument();
    expect(screen.queryByText('Command', { selector: '[role=option] *' })).not.toBeInTheDocument();
  });

  it('commands group and filter by command and probe', async () => {
    await stats({ metric: 'commands' });
    const filters = ['command', 'probe', 'ip', 'taxonomy', 'trap'];
    expect(filters.map((k) => shown(`sview-filter-${k}`))).toEqual([true, true, true, false, false]);
    openGroupBy();
    expect(screen.getByText('Command', { selector: '[role=option] *' })).toBeInTheDocument();
    expect(screen.getByText('Probe', { selector: '[role=option] *' })).toBeInTheDocument();
    expect(screen.queryByText('Taxonomy', { selector: '[role=option] *' })).not.toBeInTheDocument();
  });

  it('offers the values within the dashboard range, busiest first; the full lists stay whole', async () => {
    const ds = datasource();
    await renderQueryEditor({ queryType: 'stats', metric: 'events' }, ds, range);
    expect(ds.variableValues).toHaveBeenCalledWith('taxonomies', undefined, undefined, range);
    expect(ds.variableValues).toHaveBeenCalledWith('providers', undefined, undefined, range);
    expect(ds.variableValues).toHaveBeenCalledWith('countries', undefined, undefined, undefined);
  });

  it('stores picked and typed values as lists, a command with spaces and commas as one value', async () => {
    const { onChange } = await stats({ metric: 'events' });
    fireEvent.keyDown(document.getElementById('sview-filter-taxonomy')!, { key: 'ArrowDown' });
    fireEvent.click(await screen.findByText('information-gathering'));
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ filters: { taxonomy: ['information-gathering'] } })
    );

    document.body.innerHTML = '';
    const typed = await stats({ metric: 'commands', filters: { command: ['uname -a'] } });
    const input = document.getElementById('sview-filter-command')!;
    fireEvent.change(input, { target: { value: 'cat /etc/passwd, /etc/shadow' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    expect(typed.onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ filters: { command: ['uname -a', 'cat /etc/passwd, /etc/shadow'] } })
    );
  });

  it('excludes feeds as lists', async () => {
    const { onChange } = await stats({ metric: 'events' });
    fireEvent.click(screen.getByLabelText('Exclude'));
    expect(shown('sview-exclude-probe')).toBe(false);
    fireEvent.keyDown(document.getElementById('sview-exclude-feed')!, { key: 'ArrowDown' });
    fireEvent.click(await screen.findByText('Scan-SSH'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ exclude: { feed: ['Scan-SSH'] } }));
  });

  it('keeps a probe filter on feed events in view, explained as the backend would, so it can be removed', async () => {
    await stats({ metric: 'events', filters: { probe: ['1'], taxonomy: ['malicious-code'] } });
    expect(shown('sview-filter-probe')).toBe(true);
    expect(
      screen.getByText(
        'events cannot be filtered by probe; its filters are asn, country, ip, taxonomy, type, identifier, feed, provider.'
      )
    ).toBeInTheDocument();
  });
});
