import React from 'react';
import { FieldValidationMessage, InlineField, InlineFieldRow, Input } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { greylistProblems } from '../validation';
import { Filters, SviewQuery } from '../types';
import { ListFilterField } from './FilterFields';

interface Props {
  datasource: DataSource;
  query: SviewQuery;
  onChange: (query: SviewQuery) => void;
  onRunQuery: () => void;
}

function numberOrUndefined(raw: string): number | undefined {
  return raw === '' ? undefined : Number(raw);
}

/** The current greylist: one row per address with score, tags, probes, country and ASN. */
export function GreylistEditor({ datasource, query, onChange, onRunQuery }: Props) {
  const problems = greylistProblems(query);
  const error = (field: string) => problems.find((p) => p.field === field)?.message;
  const filters: Filters = query.filters ?? {};
  const changeFilters = (f: Filters) => {
    const used = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));
    onChange({ ...query, filters: Object.keys(used).length > 0 ? used : undefined });
    onRunQuery();
  };
  return (
    <>
      <ListFilterField
        datasource={datasource}
        filter="tag"
        kind="tags"
        label="Tags"
        tooltip="Only addresses with one of these tags"
        filters={filters}
        onChange={changeFilters}
      />
      <ListFilterField
        datasource={datasource}
        filter="country"
        kind="countries"
        label="Countries"
        tooltip="Only addresses in these countries"
        filters={filters}
        onChange={changeFilters}
      />
      <ListFilterField
        datasource={datasource}
        filter="asn"
        kind="asns"
        label="ASNs"
        tooltip="Only addresses in these autonomous systems"
        filters={filters}
        onChange={changeFilters}
      />
      <ListFilterField
        datasource={datasource}
        filter="ip"
        split
        label="Addresses"
        tooltip="Only these addresses and CIDR prefixes, e.g. your netblocks"
        filters={filters}
        onChange={changeFilters}
      />
      <InlineFieldRow>
        <InlineField
          label="Min score"
          labelWidth={14}
          tooltip="Only addresses scoring at least this much"
          invalid={!!error('minScore')}
          error={error('minScore')}
        >
          <Input
            id="sview-min-score"
            type="number"
            min={0}
            width={12}
            value={query.minScore ?? ''}
            placeholder="0"
            onChange={(e) => onChange({ ...query, minScore: numberOrUndefined(e.currentTarget.value) })}
            onBlur={onRunQuery}
          />
        </InlineField>
        <InlineField
          label="Limit"
          labelWidth={8}
          tooltip="At most this many addresses, highest score first"
          invalid={!!error('limit')}
          error={error('limit')}
        >
          <Input
            id="sview-greylist-limit"
            type="number"
            min={1}
            width={12}
            value={query.limit ?? ''}
            placeholder="all"
            onChange={(e) => onChange({ ...query, limit: numberOrUndefined(e.currentTarget.value) })}
            onBlur={onRunQuery}
          />
        </InlineField>
      </InlineFieldRow>
      {error('filters') && <FieldValidationMessage>{error('filters')}</FieldValidationMessage>}
    </>
  );
}
