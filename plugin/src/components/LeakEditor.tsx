import React from 'react';
import { SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, Input, RadioButtonGroup } from '@grafana/ui';

import { leakProblems } from '../validation';
import { SviewQuery } from '../types';

type LeakKey = 'password' | 'sha1' | 'prefix';

const KEY_OPTIONS: Array<SelectableValue<LeakKey>> = [
  { value: 'password', label: 'Password', description: 'Hashed in the backend; compared by SHA-1' },
  { value: 'sha1', label: 'SHA-1', description: '40 hex digits' },
  { value: 'prefix', label: 'Hash prefix', description: '5 to 40 hex digits: every leaked hash starting with them' },
];

const PLACEHOLDERS: Record<LeakKey, string> = {
  password: 'a password or $variable',
  sha1: '40 hex digits',
  prefix: '5 to 40 hex digits',
};

interface Props {
  query: SviewQuery;
  onChange: (query: SviewQuery) => void;
  onRunQuery: () => void;
}

/** Which of the three lookups is in use: the first one with a value, else password. */
function currentKey(query: SviewQuery): LeakKey {
  return (['password', 'sha1', 'prefix'] as const).find((k) => (query[k] ?? '') !== '') ?? 'password';
}

/** Leaked-password lookup: exactly one of password, SHA-1 or prefix. */
export function LeakEditor({ query, onChange, onRunQuery }: Props) {
  const key = currentKey(query);
  const problem = leakProblems(query)[0];
  const setKey = (next: LeakKey) => {
    // the input moves to the new kind; the others are cleared so only one is sent
    const value = query[key];
    const { password: _p, sha1: _s, prefix: _x, ...rest } = query;
    onChange({ ...rest, [next]: value });
  };
  return (
    <InlineFieldRow>
      <InlineField label="Look up" labelWidth={14}>
        <RadioButtonGroup<LeakKey> options={KEY_OPTIONS} value={key} onChange={setKey} />
      </InlineField>
      <InlineField invalid={!!problem && !problem.incomplete} error={problem?.message} grow>
        <Input
          id="sview-leak-value"
          aria-label="Leak lookup value"
          width={48}
          type={key === 'password' ? 'password' : 'text'}
          placeholder={PLACEHOLDERS[key]}
          value={query[key] ?? ''}
          onChange={(e) => onChange({ ...query, [key]: e.currentTarget.value || undefined })}
          onBlur={onRunQuery}
        />
      </InlineField>
    </InlineFieldRow>
  );
}
