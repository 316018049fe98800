import React from 'react';
import { FieldValidationMessage, InlineFieldRow } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { greylistProblems } from '../validation';
import { Filters, SviewQuery } from '../types';
import { ListFilterField } from './FilterFields';
import { NumberField } from './NumberField';

interface Props {
  datasource: DataSource;
  query: SviewQuery;
  onChange: (query: SviewQuery) => void;
  onRunQuery: () => void;
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
        <NumberField
          id="sview-min-score"
          label="Min score"
          labelWidth={14}
          tooltip="Only addresses scoring at least this much"
          error={error('minScore')}
          min={0}
          value={query.minScore}
          placeholder="0"
          onChange={(minScore) => onChange({ ...query, minScore })}
          onBlur={onRunQuery}
        />
        <NumberField
          id="sview-greylist-limit"
          label="Limit"
          tooltip="At most this many addresses, highest score first"
          error={error('limit')}
          min={1}
          value={query.limit}
          placeholder="all"
          onChange={(limit) => onChange({ ...query, limit })}
          onBlur={onRunQuery}
        />
      </InlineFieldRow>
      {error('filters') && <FieldValidationMessage>{error('filters')}</FieldValidationMessage>}
    </>
  );
}
