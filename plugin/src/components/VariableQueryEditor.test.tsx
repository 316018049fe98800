import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';

import { SviewVariableQuery } from '../types';
import { VariableQueryEditor } from './VariableQueryEditor';

function setup(query: Partial<SviewVariableQuery>) {
  const onChange = jest.fn();
  render(<VariableQueryEditor query={{ refId: 'A', ...query } as SviewVariableQuery} onChange={onChange} />);
  return onChange;
}

describe('VariableQueryEditor', () => {
  it('defaults to probes', () => {
    setup({});
    expect(screen.getByText('Probes')).toBeInTheDocument();
  });

  it('changes the kind', () => {
    const onChange = setup({ kind: 'probes' });
    fireEvent.keyDown(document.getElementById('sview-variable-kind')!, { key: 'ArrowDown' });
    fireEvent.click(screen.getByText('Autonomous systems'));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', kind: 'asns' });
  });

  it.each<[string, string]>([
    ['Taxonomies', 'taxonomies'],
    ['Types', 'types'],
    ['Identifiers', 'identifiers'],
    ['Feeds', 'feeds'],
    ['Providers', 'providers'],
    ['Commands', 'commands'],
  ])('offers the ranked kind %s', (label, kind) => {
    const onChange = setup({ kind: 'probes' });
    fireEvent.keyDown(document.getElementById('sview-variable-kind')!, { key: 'ArrowDown' });
    fireEvent.click(screen.getByText(label));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', kind });
  });

  it('sets and clears the search and the limit', () => {
    const onChange = setup({ kind: 'countries' });
    fireEvent.change(document.getElementById('sview-variable-search')!, { target: { value: 'c' } });
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', kind: 'countries', search: 'c' });
    fireEvent.change(document.getElementById('sview-variable-limit')!, { target: { value: '20' } });
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', kind: 'countries', limit: 20 });
    fireEvent.change(document.getElementById('sview-variable-limit')!, { target: { value: '-3' } });
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', kind: 'countries', limit: undefined });
  });
});
