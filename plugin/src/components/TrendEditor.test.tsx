import { fireEvent, screen } from '@testing-library/react';
import { setTemplateSrv } from '@grafana/runtime';

import { renderQueryEditor } from '../testing/editor';
import { fakeTemplateSrv } from '../testing/fakeTemplateSrv';
import { isComplete } from '../validation';
import { SviewQuery } from '../types';
import { toTrend } from './TrendEditor';

const setup = (query: Partial<SviewQuery>) => renderQueryEditor(query);

function pick(inputId: string, label: string) {
  fireEvent.keyDown(document.getElementById(inputId)!, { key: 'ArrowDown' });
  fireEvent.click(screen.getByText(label));
}

const trend: Partial<SviewQuery> = { queryType: 'trend', metric: 'incidents', groupBy: ['asn'], period: '1w' };

beforeEach(() => setTemplateSrv(fakeTemplateSrv([])));

describe('TrendEditor', () => {
  it('is offered as a query type, and a switch keeps the metric, filters, exclusions and period', async () => {
    const { onChange } = await setup({
      queryType: 'stats',
      preset: 'all_incidents_graph',
      metric: 'scans',
      groupBy: '',
      format: 'timeseries',
      period: '1d',
      filters: { country: ['CZ'] },
      exclude: { asn: ['64500'] },
    });
    fireEvent.click(screen.getByText('Trend'));
    expect(onChange).toHaveBeenLastCalledWith({
      refId: 'A',
      queryType: 'trend',
      metric: 'scans',
      groupBy: ['asn'],
      format: 'table',
      period: '1d',
      filters: { country: ['CZ'] },
      exclude: { asn: ['64500'] },
    });
  });

  it('shows the defaults: a rising table of the top 15', async () => {
    await setup(trend);
    expect(screen.getByText('Autonomous system')).toBeInTheDocument();
    expect(screen.getByPlaceholderText('15')).toBeInTheDocument();
    expect(screen.getByRole('radio', { name: 'Rising' })).toBeChecked();
    expect(screen.getByRole('radio', { name: 'Table' })).toBeChecked();
    expect(screen.queryByText('Measure')).not.toBeInTheDocument();
  });

  it('offers the groupings of the metric but nothing', async () => {
    await setup({ ...trend, metric: 'scans', groupBy: 'port' });
    fireEvent.keyDown(document.getElementById('sview-trend-group-by')!, { key: 'ArrowDown' });
    expect(screen.getAllByText('Port').length).toBeGreaterThan(0);
    expect(screen.queryByText('Nothing (one series)')).not.toBeInTheDocument();
    expect(screen.queryByText('Action')).not.toBeInTheDocument();
  });

  it('ranks feed events by their classification and feed, commands by command', async () => {
    const { onChange } = await setup({ ...trend, metric: 'events', groupBy: ['asn'] });
    fireEvent.keyDown(document.getElementById('sview-trend-group-by')!, { key: 'ArrowDown' });
    expect(screen.queryByText('Probe')).not.toBeInTheDocument();
    fireEvent.click(screen.getByText('Taxonomy'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ metric: 'events', groupBy: ['taxonomy'] }));
    expect(document.getElementById('sview-filter-feed')).not.toBeNull();
    document.body.innerHTML = '';
    const commands = await setup({ ...trend, metric: 'commands' });
    pick('sview-trend-group-by', 'Command');
    expect(commands.onChange).toHaveBeenLastCalledWith(expect.objectContaining({ groupBy: ['command'] }));
  });

  it('changes the direction and runs the query', async () => {
    const { onChange, onRunQuery } = await setup(trend);
    fireEvent.click(screen.getByText('Falling'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ direction: 'falling' }));
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('numeric for alert rules: one measure', async () => {
    const { onChange } = await setup({ ...trend, format: 'numeric' });
    pick('sview-trend-measure', 'Change %');
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ format: 'numeric', measure: 'change_ratio' }));
  });

  it('a table has every measure: switching to it drops the one chosen', async () => {
    const { onChange } = await setup({ ...trend, format: 'numeric', measure: 'current' });
    fireEvent.click(screen.getByRole('radio', { name: 'Table' }));
    const sent = onChange.mock.calls.at(-1)[0];
    expect(sent.format).toBe('table');
    expect(sent.measure).toBeUndefined();
  });

  it.each<[string, Partial<SviewQuery>, string]>([
    ['a grouping the table lacks', { metric: 'scans', groupBy: 'password' }, 'Password cannot group scans'],
    ['a format of statistics', { format: 'timeseries' }, 'A trend is a table or numeric, not timeseries.'],
    ['a bad limit', { limit: 0 }, 'Limit must be a whole number from 1 to 10000'],
  ])('explains inline: %s', async (_name, change, message) => {
    await setup({ ...trend, ...change });
    expect(await screen.findByText(message, { exact: false })).toBeInTheDocument();
  });

  it('is incomplete, and not sent, without a grouping', () => {
    expect(isComplete({ refId: 'A', ...trend })).toBe(true);
    expect(isComplete({ refId: 'A', ...trend, groupBy: '' })).toBe(false);
    expect(isComplete({ refId: 'A', ...trend, metric: undefined })).toBe(false);
  });

  it('a numeric trend switched to statistics is a table', async () => {
    const { onChange } = await setup({ ...trend, format: 'numeric' });
    fireEvent.click(screen.getByText('Statistics'));
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ queryType: 'stats', format: 'table', metric: 'incidents', groupBy: ['asn'] })
    );
  });

  it('toTrend keeps a numeric format and a grouping', () => {
    expect(
      toTrend({ refId: 'A', queryType: 'stats', metric: 'usages', groupBy: 'password', format: 'numeric' })
    ).toEqual({
      refId: 'A',
      queryType: 'trend',
      metric: 'usages',
      groupBy: ['password'],
      format: 'numeric',
    });
  });
});
