import React from 'react';
import { FieldValidationMessage, InlineField, InlineFieldRow, RadioButtonGroup } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { DEFAULT_LIVE_RATE } from '../live';
import { Filters, SviewQuery } from '../types';
import { liveProblems } from '../validation';
import { ListFilterField } from './FilterFields';
import { NumberField } from './NumberField';

interface Props {
  datasource: DataSource;
  query: SviewQuery;
  onChange: (query: SviewQuery) => void;
  onRunQuery: () => void;
}

const STREAMS = [
  { value: 'table', label: 'Incidents', description: 'The incidents themselves, at most rate a second' },
  { value: 'timeseries', label: 'Per second', description: 'How many incidents arrive each second' },
];

/** A live stream of new incidents (docs/live.md): what to stream, how fast, and which incidents. */
export function LiveEditor({ datasource, query, onChange, onRunQuery }: Props) {
  const problems = liveProblems(query);
  const error = (field: string) => problems.find((p) => p.field === field)?.message;
  const filters: Filters = query.filters ?? {};
  const changeFilters = (f: Filters) => {
    const used = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));
    onChange({ ...query, filters: Object.keys(used).length > 0 ? used : undefined });
    onRunQuery();
  };
  const list = (
    filter: 'country' | 'asn' | 'trap' | 'action' | 'probe',
    kind: 'countries' | 'asns' | 'traps' | 'actions' | 'probes',
    label: string
  ) => (
    <ListFilterField
      datasource={datasource}
      filter={filter}
      kind={kind}
      label={label}
      tooltip={`Only incidents with one of these ${label.toLowerCase()}`}
      filters={filters}
      onChange={changeFilters}
    />
  );
  return (
    <>
      <InlineFieldRow>
        <InlineField label="Stream" labelWidth={14}>
          <RadioButtonGroup<string>
            options={STREAMS}
            value={query.format === 'timeseries' ? 'timeseries' : 'table'}
            onChange={(format) => {
              onChange({ ...query, format: format as SviewQuery['format'] });
              onRunQuery();
            }}
          />
        </InlineField>
        <NumberField
          id="sview-live-rate"
          label="Rate"
          tooltip="Events a second at most (1 to 1000); the rest are counted in the dropped field"
          error={error('rate')}
          min={1}
          max={1000}
          value={query.rate}
          placeholder={String(DEFAULT_LIVE_RATE)}
          onChange={(rate) => onChange({ ...query, rate })}
          onBlur={onRunQuery}
        />
      </InlineFieldRow>
      {list('country', 'countries', 'Countries')}
      {list('asn', 'asns', 'ASNs')}
      {list('trap', 'traps', 'Traps')}
      {list('action', 'actions', 'Actions')}
      {list('probe', 'probes', 'Probes')}
      <ListFilterField
        datasource={datasource}
        filter="ip"
        split
        label="Addresses"
        tooltip="Only these addresses and CIDR prefixes"
        filters={filters}
        onChange={changeFilters}
      />
      {error('filters') && <FieldValidationMessage>{error('filters')}</FieldValidationMessage>}
      {error('exclude') && <FieldValidationMessage>{error('exclude')}</FieldValidationMessage>}
    </>
  );
}
