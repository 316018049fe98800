import React, { useEffect, useRef, useState } from 'react';
import { SelectableValue } from '@grafana/data';
import { Alert, InlineField, InlineFieldRow, Input, RadioButtonGroup, Text } from '@grafana/ui';

import { CANNOT_HASH, canHash, sha1Hex } from '../hash';
import { hashPassword, isVariableRef, legacyPassword, withoutPassword } from '../migration';
import { leakProblems } from '../validation';
import { SviewQuery } from '../types';

type LeakMode = 'password' | 'sha1' | 'prefix';
type HashKey = 'sha1' | 'prefix';

const MODE_OPTIONS: Array<SelectableValue<LeakMode>> = [
  { value: 'password', label: 'Password', description: 'Hashed in this browser: only its SHA-1 is sent and saved' },
  { value: 'sha1', label: 'SHA-1', description: '40 hex digits, or a $variable' },
  {
    value: 'prefix',
    label: 'Hash prefix',
    description: '5 to 40 hex digits, or a $variable: every leaked hash starting with them',
  },
];

const PLACEHOLDERS: Record<HashKey, string> = {
  sha1: '40 hex digits or $variable',
  prefix: '5 to 40 hex digits or $variable',
};

export const LEGACY_HASHED =
  'This query was saved with a plain password; it now holds the SHA-1 instead. ' +
  "Save the dashboard to remove the password from the dashboard's JSON.";

interface Props {
  query: SviewQuery;
  onChange: (query: SviewQuery) => void;
  onRunQuery: () => void;
}

/** The query without any lookup: what each kind of lookup starts from. */
function withoutLookup(query: SviewQuery): SviewQuery {
  const { sha1: _s, prefix: _p, ...rest } = withoutPassword(query);
  return rest;
}

/**
 * Leaked-password lookup by password, SHA-1 or prefix. A password is typed into a field of this
 * component only and hashed here; the query model (panel JSON, Explore URL, request) gets its SHA-1.
 */
export function LeakEditor({ query, onChange, onRunQuery }: Props) {
  const [mode, setMode] = useState<LeakMode>(() => (query.prefix ? 'prefix' : query.sha1 ? 'sha1' : 'password'));
  const saved = legacyPassword(query) !== undefined;
  // a $variable is kept in the query (its value is hashed before each request); a password never is
  const [password, setPassword] = useState(() => (saved ? '' : (query.password ?? '')));
  const [note, setNote] = useState<string>();
  // Hashing is asynchronous: only the last keystroke's hash is stored, and leaving the field runs
  // the query once that hash is in.
  const typed = useRef(0);
  const hashed = useRef<Promise<void>>(Promise.resolve());

  useEffect(() => {
    if (!saved) {
      return;
    }
    hashPassword(query).then(
      (next) => {
        onChange(next);
        setNote(LEGACY_HASHED);
      },
      (e: Error) => {
        // an unhashable password is dropped all the same: it must not be saved again or sent
        onChange(withoutPassword(query));
        setNote(`This query was saved with a plain password, which is no longer sent. ${e.message}`);
      }
    );
  }, [saved, query, onChange]);

  const setKind = (next: LeakMode) => {
    setMode(next);
    setPassword('');
    typed.current++; // a hash still being computed belongs to the old kind
    // a hash moves to the other hash field; no password can be recovered from it
    const value = query.sha1 ?? query.prefix;
    const rest = withoutLookup(query);
    onChange(next === 'password' || value === undefined ? rest : { ...rest, [next]: value });
  };

  const onPassword = (text: string) => {
    setPassword(text);
    const n = ++typed.current;
    const rest = withoutLookup(query);
    if (text === '' || isVariableRef(text)) {
      hashed.current = Promise.resolve();
      onChange(text === '' ? rest : { ...rest, password: text });
      return;
    }
    hashed.current = sha1Hex(text).then(
      (sha1) => {
        if (n === typed.current) {
          onChange({ ...rest, sha1 });
        }
      },
      (e: Error) => setNote(e.message)
    );
  };

  const problem = leakProblems(query)[0];
  const shown = !!problem && !problem.incomplete;
  return (
    <>
      <InlineFieldRow>
        <InlineField label="Look up" labelWidth={14}>
          <RadioButtonGroup<LeakMode> options={MODE_OPTIONS} value={mode} onChange={setKind} />
        </InlineField>
        {mode === 'password' ? (
          <InlineField
            grow
            invalid={shown}
            error={problem?.message}
            // InlineField passes disabled on to the input
            disabled={!canHash()}
            tooltip="Hashed with SHA-1 in this browser. The password is not saved in the dashboard, not put in a URL and not sent to Grafana."
          >
            <Input
              id="sview-leak-password"
              aria-label="Password to look up"
              type="password"
              autoComplete="off"
              width={48}
              placeholder="a password: only its SHA-1 leaves this browser"
              value={password}
              onChange={(e) => onPassword(e.currentTarget.value)}
              onBlur={() => hashed.current.then(onRunQuery)}
            />
          </InlineField>
        ) : (
          <InlineField grow invalid={shown} error={problem?.message}>
            <Input
              id="sview-leak-value"
              aria-label="Leak lookup value"
              width={48}
              placeholder={PLACEHOLDERS[mode]}
              value={query[mode] ?? ''}
              onChange={(e) => onChange({ ...withoutPassword(query), [mode]: e.currentTarget.value || undefined })}
              onBlur={onRunQuery}
            />
          </InlineField>
        )}
      </InlineFieldRow>
      {mode === 'password' && (
        <Text element="p" color="secondary">
          {query.password
            ? 'A dashboard variable: saved as written; before each request Grafana replaces it and this browser sends only the SHA-1 of its value.'
            : query.sha1
              ? `Only this SHA-1 is sent and saved: ${query.sha1}`
              : "Only the password's SHA-1 is sent and saved; the password stays in this browser."}
        </Text>
      )}
      {mode === 'password' && !canHash() && <Alert severity="warning" title={CANNOT_HASH} />}
      {note && <Alert severity="info" title={note} onRemove={() => setNote(undefined)} />}
    </>
  );
}
