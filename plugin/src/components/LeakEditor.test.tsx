import React, { useCallback, useState } from 'react';
import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';

import { CANNOT_HASH } from '../hash';
import { nodeSha1, setWebCrypto } from '../testing/webcrypto';
import { SviewQuery } from '../types';
import { LEGACY_HASHED, LeakEditor } from './LeakEditor';

/** The editor with the query state Grafana would keep, and every onChange recorded. */
function Harness({
  initial,
  onChange,
  onRunQuery,
}: {
  initial: SviewQuery;
  onChange: jest.Mock;
  onRunQuery: jest.Mock;
}) {
  const [query, setQuery] = useState(initial);
  const change = useCallback(
    (q: SviewQuery) => {
      onChange(q);
      setQuery(q);
    },
    [onChange]
  );
  return <LeakEditor query={query} onChange={change} onRunQuery={onRunQuery} />;
}

async function setup(query: Record<string, unknown>) {
  const onChange = jest.fn();
  const onRunQuery = jest.fn();
  await act(async () => {
    render(<Harness initial={{ refId: 'A', ...query } as SviewQuery} onChange={onChange} onRunQuery={onRunQuery} />);
  });
  return { onChange, onRunQuery };
}

const passwordField = () => screen.getByLabelText('Password to look up');

async function type(text: string) {
  await act(async () => {
    fireEvent.change(passwordField(), { target: { value: text } });
  });
}

beforeEach(() => setWebCrypto(true));
afterEach(() => setWebCrypto(false));

describe('LeakEditor: password mode', () => {
  it('hashes the password in the browser and stores only its SHA-1', async () => {
    const { onChange } = await setup({ queryType: 'leak' });
    await type('correct horse');
    await waitFor(() =>
      expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'leak', sha1: nodeSha1('correct horse') })
    );
    for (const [q] of onChange.mock.calls) {
      expect(q).not.toHaveProperty('password');
      expect(JSON.stringify(q)).not.toContain('correct horse');
    }
    expect(passwordField()).toHaveValue('correct horse');
    expect(passwordField()).toHaveAttribute('type', 'password');
    expect(screen.getByText(`Only this SHA-1 is sent and saved: ${nodeSha1('correct horse')}`)).toBeInTheDocument();
  });

  it('says before typing that only the hash leaves the browser', async () => {
    await setup({ queryType: 'leak' });
    expect(
      screen.getByText("Only the password's SHA-1 is sent and saved; the password stays in this browser.")
    ).toBeInTheDocument();
  });

  it('stores the hash of the last keystroke, and clearing the field clears the lookup', async () => {
    const { onChange } = await setup({ queryType: 'leak' });
    await type('a');
    await type('ab');
    await waitFor(() => expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ sha1: nodeSha1('ab') })));
    await type('');
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'leak' });
  });

  it('runs the query on blur once the hash is stored', async () => {
    const { onChange, onRunQuery } = await setup({ queryType: 'leak' });
    fireEvent.change(passwordField(), { target: { value: 'hunter2' } });
    await act(async () => {
      fireEvent.blur(passwordField());
    });
    await waitFor(() => expect(onRunQuery).toHaveBeenCalledTimes(1));
    expect(onChange.mock.invocationCallOrder.at(-1)!).toBeLessThan(onRunQuery.mock.invocationCallOrder[0]);
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ sha1: nodeSha1('hunter2') }));
  });

  it('keeps a whole $variable as written, for query() to replace and hash', async () => {
    const { onChange } = await setup({ queryType: 'leak', sha1: undefined });
    await type('${pw}');
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'leak', password: '${pw}' });
    expect(screen.getByText(/A dashboard variable: saved as written/)).toBeInTheDocument();
  });

  it('hashes a password that only contains a $ as typed', async () => {
    const { onChange } = await setup({ queryType: 'leak' });
    await type('pa$$word');
    await waitFor(() =>
      expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'leak', sha1: nodeSha1('pa$$word') })
    );
  });

  it('opens a saved $variable in the password field without hashing it', async () => {
    const { onChange } = await setup({ queryType: 'leak', password: '$password' });
    expect(passwordField()).toHaveValue('$password');
    expect(onChange).not.toHaveBeenCalled();
  });

  it('without Web Crypto (plain HTTP) the field is disabled and the SHA-1 modes are offered', async () => {
    setWebCrypto(false);
    await setup({ queryType: 'leak' });
    expect(passwordField()).toBeDisabled();
    expect(screen.getByText(CANNOT_HASH)).toBeInTheDocument();
  });
});

describe('LeakEditor: hash modes', () => {
  it('shows a stored SHA-1 in the SHA-1 mode, and moves it to the prefix mode', async () => {
    const sha1 = nodeSha1('x');
    const { onChange } = await setup({ queryType: 'leak', sha1 });
    expect(screen.getByLabelText('Leak lookup value')).toHaveValue(sha1);
    fireEvent.click(screen.getByText('Hash prefix'));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'leak', prefix: sha1 });
  });

  it('switching to the password mode clears the lookup: no password comes back from a hash', async () => {
    const { onChange } = await setup({ queryType: 'leak', prefix: 'abcde' });
    fireEvent.click(screen.getByText('Password'));
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'leak' });
    expect(passwordField()).toHaveValue('');
  });

  it('keeps $variables in the hash fields for Grafana to replace', async () => {
    const { onChange } = await setup({ queryType: 'leak', prefix: 'abcde' });
    fireEvent.change(screen.getByLabelText('Leak lookup value'), { target: { value: '$prefix' } });
    expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'leak', prefix: '$prefix' });
  });
});

describe('LeakEditor: a query saved with a plain password', () => {
  it('is stored as its SHA-1 when opened, and says to save the dashboard', async () => {
    const { onChange } = await setup({ queryType: 'leak', password: 'hunter2' });
    await waitFor(() =>
      expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'leak', sha1: nodeSha1('hunter2') })
    );
    expect(screen.getByText(LEGACY_HASHED)).toBeInTheDocument();
    expect(passwordField()).toHaveValue('');
  });

  it('loses its password where the browser cannot hash, and says why', async () => {
    setWebCrypto(false);
    const { onChange } = await setup({ queryType: 'leak', password: 'hunter2' });
    await waitFor(() => expect(onChange).toHaveBeenLastCalledWith({ refId: 'A', queryType: 'leak' }));
    expect(screen.getByText(/saved with a plain password, which is no longer sent/)).toBeInTheDocument();
  });
});
