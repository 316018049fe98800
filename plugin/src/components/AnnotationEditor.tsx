import React from 'react';
import { InlineField, InlineFieldRow, Select } from '@grafana/ui';

import { ANNOTATION_FILTERS, ANNOTATION_OPTIONS } from '../catalog';
import type { DataSource } from '../datasource';
import { AnnotationKind, Filters, ListFilterKey, SviewQuery } from '../types';
import { ListFilterField } from './FilterFields';

interface Props {
  datasource: DataSource;
  query: SviewQuery;
  onChange: (query: SviewQuery) => void;
  onRunQuery: () => void;
}

const FILTER_FIELDS: Record<string, { label: string; tooltip: string; kind?: 'asns' | 'probes'; split?: boolean }> = {
  ip: { label: 'Addresses', tooltip: 'Addresses and CIDR prefixes, e.g. your netblocks', split: true },
  asn: { label: 'ASNs', tooltip: 'Addresses in these autonomous systems', kind: 'asns' },
  probe: { label: 'Probes', tooltip: 'Only these of your probes (default: all of them)', kind: 'probes' },
};

/** Annotations: which events to mark, and the filters that kind reads. */
export function AnnotationEditor({ datasource, query, onChange, onRunQuery }: Props) {
  const kind = query.annotation ?? 'greylist';
  const filters: Filters = query.filters ?? {};
  const setKind = (next: AnnotationKind) => {
    // filters the new kind does not read would be refused by the backend
    const kept = Object.fromEntries(Object.entries(filters).filter(([k]) => ANNOTATION_FILTERS[next].includes(k)));
    onChange({ ...query, annotation: next, filters: Object.keys(kept).length > 0 ? kept : undefined });
    onRunQuery();
  };
  const changeFilters = (f: Filters) => {
    const used = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));
    onChange({ ...query, filters: Object.keys(used).length > 0 ? used : undefined });
    onRunQuery();
  };
  return (
    <>
      <InlineFieldRow>
        <InlineField label="Annotations" labelWidth={14} tooltip="What to mark on time series panels">
          <Select<AnnotationKind>
            inputId="sview-annotation"
            width={40}
            options={ANNOTATION_OPTIONS}
            value={kind}
            onChange={(v) => v.value && setKind(v.value)}
          />
        </InlineField>
      </InlineFieldRow>
      {ANNOTATION_FILTERS[kind].map((key) => (
        <ListFilterField
          key={key}
          datasource={datasource}
          filter={key as ListFilterKey}
          label={FILTER_FIELDS[key].label}
          tooltip={FILTER_FIELDS[key].tooltip}
          kind={FILTER_FIELDS[key].kind}
          split={FILTER_FIELDS[key].split}
          filters={filters}
          onChange={changeFilters}
        />
      ))}
    </>
  );
}
