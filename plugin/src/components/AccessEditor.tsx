import React, { useState } from 'react';
import { Field, FieldSet, TextArea } from '@grafana/ui';

import { ScopeGrant, ScopeRule, SviewOptions } from '../types';

type Access = Pick<SviewOptions, 'scopes' | 'teams' | 'alertScope'>;

interface Props {
  jsonData: SviewOptions;
  onChange: (access: Access) => void;
}

const MATCHERS = ['login', 'email', 'team', 'role', 'everyone'] as const;
const ROLES = ['Viewer', 'Editor', 'Admin'];
const CIDR = /^[0-9a-fA-F.:]+\/\d{1,3}$/;

export const ACCESS_EXAMPLE = `{
  "scopes": [
    { "role": "Admin", "all": true },
    { "team": "noc", "asns": [64500], "prefixes": ["192.0.2.0/24"] },
    { "everyone": true, "public": true }
  ],
  "teams": { "noc": ["alice", "bob"] },
  "alertScope": { "public": true }
}`;

function grantProblem(g: ScopeGrant, where: string): string | undefined {
  if ((g.probes ?? []).some((p) => !Number.isInteger(p) || p <= 0)) {
    return `${where}: probes are positive probe ids`;
  }
  if ((g.asns ?? []).some((a) => !Number.isInteger(a) || a < 0)) {
    return `${where}: asns are AS numbers`;
  }
  const bad = (g.prefixes ?? []).find((p) => !CIDR.test(p));
  return bad === undefined ? undefined : `${where}: prefix "${bad}" is not CIDR such as 192.0.2.0/24`;
}

/** The first problem the backend (plugin/pkg/plugin/scope.go) would refuse the settings for. */
export function accessProblem(a: Access): string | undefined {
  for (const [i, rule] of (a.scopes ?? []).entries()) {
    const where = `rule ${i + 1}`;
    const matchers = MATCHERS.filter((m) => rule[m] !== undefined && rule[m] !== '' && rule[m] !== false);
    if (matchers.length !== 1) {
      return `${where}: match exactly one of login, email, team, role or everyone`;
    }
    if (rule.role !== undefined && !ROLES.includes(rule.role)) {
      return `${where}: role "${rule.role}", want Viewer, Editor or Admin`;
    }
    if (rule.team !== undefined && !(a.teams ?? {})[rule.team]) {
      return `${where}: team "${rule.team}" is not defined under teams`;
    }
    const p = grantProblem(rule, where);
    if (p) {
      return p;
    }
  }
  return a.alertScope ? grantProblem(a.alertScope, 'alertScope') : undefined;
}

function show(jsonData: SviewOptions): string {
  const { scopes, teams, alertScope } = jsonData;
  return scopes || teams || alertScope ? JSON.stringify({ scopes, teams, alertScope }, null, 2) : '';
}

/** Who may see what: the scope rules as JSON, checked as the backend checks them. */
export function AccessEditor({ jsonData, onChange }: Props) {
  const [text, setText] = useState(() => show(jsonData));
  const [problem, setProblem] = useState<string>();
  const edit = (next: string) => {
    setText(next);
    if (next.trim() === '') {
      setProblem(undefined);
      onChange({ scopes: undefined, teams: undefined, alertScope: undefined });
      return;
    }
    let parsed: Access;
    try {
      parsed = JSON.parse(next);
    } catch {
      setProblem('not valid JSON');
      return;
    }
    const p = accessProblem(parsed);
    setProblem(p);
    if (!p) {
      onChange({ scopes: parsed.scopes as ScopeRule[] | undefined, teams: parsed.teams, alertScope: parsed.alertScope });
    }
  };
  return (
    <FieldSet label="Access">
      <Field
        label="Scopes"
        description="Which Grafana users, teams (lists of logins) and org roles see what: all, public (everything but probes' own data), or probes, ASNs and prefixes. Empty: admins see all, everyone else public. Probe owners add their probes by claiming them with the device token. See docs/security.md."
        invalid={!!problem}
        error={problem}
      >
        <TextArea id="config-access" rows={12} value={text} placeholder={ACCESS_EXAMPLE} onChange={(e) => edit(e.currentTarget.value)} />
      </Field>
    </FieldSet>
  );
}
