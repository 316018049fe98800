import React from 'react';
import { fireEvent, render, screen } from '@testing-library/react';

import { SviewOptions } from '../types';
import { ACCESS_EXAMPLE, AccessEditor, accessProblem } from './AccessEditor';

function setup(jsonData: SviewOptions = {}) {
  const onChange = jest.fn();
  render(<AccessEditor jsonData={jsonData} onChange={onChange} />);
  return onChange;
}

const type = (text: string) => fireEvent.change(screen.getByRole('textbox'), { target: { value: text } });

describe('AccessEditor', () => {
  it('writes valid rules to jsonData', () => {
    const onChange = setup();
    type(ACCESS_EXAMPLE);
    expect(onChange).toHaveBeenLastCalledWith(JSON.parse(ACCESS_EXAMPLE));
  });

  it('shows the stored rules', () => {
    setup({ scopes: [{ login: 'carol', probes: [2] }] });
    expect((screen.getByRole('textbox') as HTMLTextAreaElement).value).toContain('"login": "carol"');
  });

  it('clears the rules back to the defaults', () => {
    const onChange = setup({ scopes: [{ everyone: true, all: true }] });
    type('');
    expect(onChange).toHaveBeenLastCalledWith({ scopes: undefined, teams: undefined, alertScope: undefined });
  });

  it.each([
    ['{', 'not valid JSON'],
    ['{"scopes": [{"all": true}]}', 'match exactly one'],
    ['{"scopes": [{"login": "a", "role": "Admin"}]}', 'match exactly one'],
    ['{"scopes": [{"role": "Owner"}]}', 'role "Owner"'],
    ['{"scopes": [{"team": "ghosts"}]}', 'team "ghosts" is not defined'],
    ['{"scopes": [{"everyone": true, "prefixes": ["10.0.0.0"]}]}', 'not CIDR'],
    ['{"alertScope": {"probes": [0]}}', 'positive probe ids'],
  ])('refuses %s without writing it', (text, message) => {
    const onChange = setup();
    type(text);
    expect(screen.getByText(new RegExp(message))).toBeInTheDocument();
    expect(onChange).not.toHaveBeenCalled();
  });

  it('agrees with the backend on a team rule', () => {
    expect(accessProblem({ scopes: [{ team: 'noc', asns: [64500] }], teams: { noc: ['bob'] } })).toBeUndefined();
  });
});
