import React from 'react';
import { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, Input, Select } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { SviewOptions, SviewQuery, SviewVariableQuery, VariableKind } from '../types';

// Only what the editor uses, so it fits Grafana's variable editor slot for any datasource type.
type Props = Pick<QueryEditorProps<DataSource, SviewQuery, SviewOptions, SviewVariableQuery>, 'query' | 'onChange'>;

export const VARIABLE_KIND_OPTIONS: Array<SelectableValue<VariableKind>> = [
  { value: 'probes', label: 'Probes', description: 'Value: identity id, text: serial number' },
  { value: 'asns', label: 'Autonomous systems', description: 'Value: AS number, text: AS number and name' },
  { value: 'countries', label: 'Countries', description: 'ISO 3166 alpha-2 codes' },
  { value: 'traps', label: 'Traps', description: 'minipot_ftp, fwlogs, …' },
  { value: 'actions', label: 'Actions', description: 'connect, login, …' },
  { value: 'presets', label: 'Presets', description: 'The original Sentinel View resources' },
  { value: 'periods', label: 'Periods', description: '1h … 1y' },
  { value: 'tags', label: 'Greylist tags', description: 'Tags of greylisted addresses' },
  // ranked: the values seen within the dashboard range, busiest first (refresh on time range change)
  { value: 'taxonomies', label: 'Taxonomies', description: 'Of feed events (IntelMQ), by volume in the range' },
  { value: 'types', label: 'Types', description: 'Of feed events (IntelMQ), by volume in the range' },
  { value: 'identifiers', label: 'Identifiers', description: 'Of feed events (IntelMQ), by volume in the range' },
  { value: 'feeds', label: 'Feeds', description: 'Feeds of the feed events, by volume in the range' },
  { value: 'providers', label: 'Providers', description: 'Providers of the feeds, by volume in the range' },
  { value: 'commands', label: 'Commands', description: 'Typed in HaaS sessions, by volume in the range' },
];

export function VariableQueryEditor({ query, onChange }: Props) {
  const current: SviewVariableQuery = { ...query, kind: query.kind ?? 'probes' };
  return (
    <InlineFieldRow>
      <InlineField label="Values" labelWidth={12} tooltip="Which list the variable offers">
        <Select
          inputId="sview-variable-kind"
          width={28}
          options={VARIABLE_KIND_OPTIONS}
          value={current.kind}
          onChange={(v) => onChange({ ...current, kind: v.value! })}
        />
      </InlineField>
      <InlineField
        label="Search"
        labelWidth={10}
        tooltip="Keep values containing this text (case-insensitive); may hold $variables"
      >
        <Input
          id="sview-variable-search"
          width={24}
          value={current.search ?? ''}
          placeholder="all"
          onChange={(e) => onChange({ ...current, search: e.currentTarget.value || undefined })}
        />
      </InlineField>
      <InlineField label="Limit" labelWidth={8} tooltip="At most this many values (backend default 1000)">
        <Input
          id="sview-variable-limit"
          type="number"
          min={1}
          width={12}
          value={current.limit ?? ''}
          placeholder="1000"
          onChange={(e) => {
            const n = parseInt(e.currentTarget.value, 10);
            onChange({ ...current, limit: Number.isFinite(n) && n > 0 ? n : undefined });
          }}
        />
      </InlineField>
    </InlineFieldRow>
  );
}
