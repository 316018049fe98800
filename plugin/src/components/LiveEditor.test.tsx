import { fireEvent, screen } from '@testing-library/react';
import { setTemplateSrv } from '@grafana/runtime';

import { testDatasource } from '../testing/datasource';
import { renderQueryEditor } from '../testing/editor';
import { fakeTemplateSrv } from '../testing/fakeTemplateSrv';
import { SviewQuery, VariableKind, VariableValue } from '../types';

const BACKEND: Partial<Record<VariableKind, VariableValue[]>> = {
  countries: [
    { value: 'CZ', text: 'CZ' },
    { value: 'DE', text: 'DE' },
  ],
};

const setup = (query: Partial<SviewQuery>) =>
  renderQueryEditor(
    query,
    testDatasource((kind) => BACKEND[kind] ?? [])
  );

beforeEach(() => setTemplateSrv(fakeTemplateSrv([])));

describe('QueryEditor: live', () => {
  it('edits the stream, the rate and the filters', async () => {
    const { onChange, onRunQuery } = await setup({ queryType: 'live', filters: { trap: ['haas'] } });
    expect(screen.getByPlaceholderText('50')).toBeInTheDocument(); // the default rate

    fireEvent.click(screen.getByText('Per second'));
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ queryType: 'live', format: 'timeseries' }));
    expect(onRunQuery).toHaveBeenCalledTimes(1);

    fireEvent.change(document.getElementById('sview-live-rate')!, { target: { value: '20' } });
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ rate: 20 }));
    fireEvent.blur(document.getElementById('sview-live-rate')!);
    expect(onRunQuery).toHaveBeenCalledTimes(2);

    fireEvent.keyDown(document.getElementById('sview-filter-country')!, { key: 'ArrowDown' });
    fireEvent.click(screen.getByText('DE'));
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ filters: { trap: ['haas'], country: ['DE'] } })
    );
  });

  it('shows the events stream of a saved table query', async () => {
    await setup({ queryType: 'live', format: 'table', rate: 5 });
    expect(screen.getByDisplayValue('5')).toBeInTheDocument();
    expect(screen.getByRole('radio', { name: 'Incidents' })).toBeChecked();
  });

  it('says what a live stream cannot filter by', async () => {
    await setup({ queryType: 'live', rate: 5000, filters: { password: ['123456'], country: ['CZ'] } });
    expect(screen.getByText(/A live stream of incidents has no password/)).toBeInTheDocument();
    expect(
      screen.getByText(/Rate must be a whole number of events a second from 1 to 1000, not 5000/)
    ).toBeInTheDocument();
  });
});
