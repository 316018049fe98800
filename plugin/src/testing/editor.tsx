// Renders the query editor as a panel would, with a test datasource and the dashboard's range
// (if given), and lets its option lists finish loading; the spies say what the editor stored and whether it ran the query.
import React from 'react';
import { act, render } from '@testing-library/react';
import { TimeRange } from '@grafana/data';

import type { DataSource } from '../datasource';
import { QueryEditor } from '../components/QueryEditor';
import { SviewQuery } from '../types';
import { testDatasource } from './datasource';

export async function renderQueryEditor(
  query: Partial<SviewQuery>,
  ds: DataSource = testDatasource(),
  range?: TimeRange
) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  await act(async () => {
    render(
      <QueryEditor
        datasource={ds}
        query={{ refId: 'A', ...query }}
        range={range}
        onChange={onChange}
        onRunQuery={onRunQuery}
      />
    );
  });
  return { onChange, onRunQuery };
}
