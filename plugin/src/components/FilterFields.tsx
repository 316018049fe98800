import React from 'react';
import { SelectableValue } from '@grafana/data';
import { InlineField, Input, MultiSelect } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { Filters, ListFilterKey, TextFilterKey, VariableKind } from '../types';
import { useVariableOptions } from './useVariableOptions';

const LABEL_WIDTH = 14;

/** Shows a selected value that is not among the options (a $variable, a custom value) as itself. */
function asSelected(values: string[] | undefined, options: Array<SelectableValue<string>>) {
  return (values ?? []).map((v) => options.find((o) => o.value === v) ?? { label: v, value: v });
}

interface ListProps {
  datasource: DataSource;
  filter: ListFilterKey;
  label: string;
  tooltip: string;
  /** backend list to offer; absent = free input only (ports) */
  kind?: VariableKind;
  filters: Filters;
  onChange: (filters: Filters) => void;
}

/** A multi-value filter: values from the backend, $variables, or typed-in values. */
export function ListFilterField({ datasource, filter, label, tooltip, kind, filters, onChange }: ListProps) {
  const { options, loading, error } = useVariableOptions(datasource, kind);
  return (
    <InlineField label={label} labelWidth={LABEL_WIDTH} tooltip={tooltip} invalid={!!error} error={error}>
      <MultiSelect<string>
        inputId={`sview-filter-${filter}`}
        width={40}
        isLoading={loading}
        allowCustomValue
        isClearable
        placeholder="any"
        options={options}
        value={asSelected(filters[filter], options)}
        onChange={(selected) => {
          const values = selected.map((s) => s.value!).filter((v) => v !== undefined && v !== '');
          onChange({ ...filters, [filter]: values.length > 0 ? values : undefined });
        }}
      />
    </InlineField>
  );
}

interface TextProps {
  filter: TextFilterKey;
  label: string;
  tooltip: string;
  placeholder: string;
  filters: Filters;
  onChange: (filters: Filters) => void;
  onBlur: () => void;
}

/** A single-value filter (one IP, password or username); may hold a $variable. */
export function TextFilterField({ filter, label, tooltip, placeholder, filters, onChange, onBlur }: TextProps) {
  return (
    <InlineField label={label} labelWidth={LABEL_WIDTH} tooltip={tooltip}>
      <Input
        id={`sview-filter-${filter}`}
        width={40}
        placeholder={placeholder}
        value={filters[filter] ?? ''}
        onChange={(e) => onChange({ ...filters, [filter]: e.currentTarget.value || undefined })}
        onBlur={onBlur}
      />
    </InlineField>
  );
}
