import React from 'react';
import { SelectableValue, TimeRange } from '@grafana/data';
import { InlineField, MultiSelect } from '@grafana/ui';

import type { DataSource } from '../datasource';
import { Filters, ListFilterKey, VariableKind } from '../types';
import { useVariableOptions } from './useVariableOptions';

const LABEL_WIDTH = 14;

/** Shows a selected value that is not among the options (a $variable, a custom value) as itself. */
function asSelected(values: string[] | undefined, options: Array<SelectableValue<string>>) {
  return (values ?? []).map((v) => options.find((o) => o.value === v) ?? { label: v, value: v });
}

/** Values typed or pasted as a list ("192.0.2.0/24, 198.51.100.7"): one per element. */
function splitTyped(values: string[]): string[] {
  return values.flatMap((v) => (v.startsWith('$') ? [v] : v.split(/[\s,;]+/)));
}

interface ListProps {
  datasource: DataSource;
  filter: ListFilterKey;
  /** the id prefix of the input: sview-filter (default) or sview-exclude */
  idPrefix?: string;
  /** typed values holding several, separated by spaces or commas, become several (addresses, ports) */
  split?: boolean;
  label: string;
  tooltip: string;
  /** backend list to offer; absent = free input only (ports) */
  kind?: VariableKind;
  /** the dashboard's range: a ranked kind offers the values within it */
  range?: TimeRange;
  filters: Filters;
  onChange: (filters: Filters) => void;
}

/** A multi-value filter: values from the backend, $variables, or typed-in values. */
export function ListFilterField({
  datasource,
  filter,
  idPrefix = 'sview-filter',
  split,
  label,
  tooltip,
  kind,
  range,
  filters,
  onChange,
}: ListProps) {
  const { options, loading, error } = useVariableOptions(datasource, kind, undefined, range);
  return (
    <InlineField label={label} labelWidth={LABEL_WIDTH} tooltip={tooltip} invalid={!!error} error={error}>
      <MultiSelect<string>
        inputId={`${idPrefix}-${filter}`}
        width={40}
        isLoading={loading}
        allowCustomValue
        isClearable
        placeholder="any"
        options={options}
        value={asSelected(filters[filter], options)}
        onChange={(selected) => {
          const chosen = selected.map((s) => s.value!).filter((v) => v !== undefined);
          const values = [...new Set(split ? splitTyped(chosen) : chosen)].filter((v) => v !== '');
          onChange({ ...filters, [filter]: values.length > 0 ? values : undefined });
        }}
      />
    </InlineField>
  );
}
