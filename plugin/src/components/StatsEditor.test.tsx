import React from 'react';
import { act, fireEvent, render, screen } from '@testing-library/react';
import { setTemplateSrv } from '@grafana/runtime';

import { testDatasource } from '../testing/datasource';
import { fakeTemplateSrv } from '../testing/fakeTemplateSrv';
import { SviewQuery } from '../types';
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
