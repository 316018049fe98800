import React from 'react';
import { SelectableValue } from '@grafana/data';
import { FieldValidationMessage, InlineField, InlineFieldRow, Input, RadioButtonGroup, Select } from '@grafana/ui';

import {
  defaultLimit,
  FORMAT_OPTIONS,
  GROUP_BYS,
  groupByLabel,
  METRIC_DIMENSIONS,
  METRIC_FILTERS,
  METRIC_OPTIONS,
  PERIOD_OPTIONS,
  PRESET_NAMES,
  PRESETS,
} from '../catalog';
import type { DataSource } from '../datasource';
import { effective, Problem, statsProblems } from '../validation';
import {
  Filters,
  Format,
  GroupBy,
  ListFilterKey,
  Metric,
  Period,
  SviewQuery,
  TextFilterKey,
  VariableKind,
} from '../types';
import { ListFilterField, TextFilterField } from './FilterFields';
import { useVariableOptions } from './useVariableOptions';

/** The multi-value filters, in the order the editor shows them. */
const LIST_FILTERS: Array<{ filter: ListFilterKey; kind?: VariableKind; label: string; tooltip: string }> = [
  { filter: 'probe', kind: 'probes', label: 'Probes', tooltip: 'Only these probes' },
  { filter: 'country', kind: 'countries', label: 'Countries', tooltip: 'Only attackers from these countries' },
  { filter: 'asn', kind: 'asns', label: 'ASNs', tooltip: 'Only attackers from these autonomous systems' },
  { filter: 'trap', kind: 'traps', label: 'Traps', tooltip: 'Only these traps' },
  { filter: 'action', kind: 'actions', label: 'Actions', tooltip: 'Only these actions' },
  { filter: 'port', label: 'Ports', tooltip: 'Only these port numbers (type a number, Enter)' },
];

/** The single-value filters. */
const TEXT_FILTERS: Array<{ filter: TextFilterKey; label: string; tooltip: string; placeholder: string }> = [
  { filter: 'ip', label: 'Attacker IP', tooltip: 'Only this attacker', placeholder: 'any, e.g. 192.0.2.1 or $ip' },
  { filter: 'password', label: 'Password', tooltip: 'Only login attempts with this password', placeholder: 'any' },
  { filter: 'username', label: 'Username', tooltip: 'Only login attempts with this username', placeholder: 'any' },
];

const LABEL_WIDTH = 14;
const STATIC_PRESETS = PRESET_NAMES.map((name) => ({ label: name, value: name }));

interface Props {
  datasource: DataSource;
  query: SviewQuery;
  onChange: (query: SviewQuery) => void;
  onRunQuery: () => void;
}

/**
 * Fills the fields from a preset. Filters and period stay (they are the user's context, and a
 * preset's parameter is a filter); fields the preset does not define are removed so the backend's
 * expansion of the preset applies to them.
 */
export function applyPreset(query: SviewQuery, name: string | undefined): SviewQuery {
  if (!name) {
    const { preset: _dropped, ...rest } = query;
    return rest;
  }
  const preset = PRESETS[name];
  const { metric: _m, groupBy: _g, format: _f, limit: _l, ...rest } = query;
  if (!preset) {
    // a $variable or a preset only the backend knows: it decides every field
    return { ...rest, preset: name };
  }
  const out: SviewQuery = {
    ...rest,
    preset: name,
    metric: preset.metric,
    groupBy: preset.groupBy,
    format: preset.format,
  };
  if (preset.limit !== undefined) {
    out.limit = preset.limit;
  }
  return out;
}

function errorFor(problems: Problem[], field: Problem['field']): string | undefined {
  const messages = problems.filter((p) => p.field === field).map((p) => p.message);
  return messages.length > 0 ? messages.join(' ') : undefined;
}

/** The option of a value, or the value itself (a $variable) when no option has it. */
function selected(value: string | undefined, options: Array<SelectableValue<string>>): SelectableValue<string> | null {
  if (value === undefined) {
    return null;
  }
  return options.find((o) => o.value === value) ?? { label: value, value };
}

export function StatsEditor({ datasource, query, onChange, onRunQuery }: Props) {
  const presets = useVariableOptions(datasource, 'presets', STATIC_PRESETS);
  const problems = statsProblems(query);
  const preset = query.preset ? PRESETS[query.preset] : undefined;
  // as written (may be a $variable) for display; `metric`/`format` as known for the checks
  const shownMetric = query.metric ?? preset?.metric;
  const shownGroupBy = query.groupBy ?? preset?.groupBy;
  const { metric, format } = effective(query);
  const filters: Filters = query.filters ?? {};

  const change = (q: SviewQuery) => {
    onChange(q);
    onRunQuery();
  };
  const changeFilters = (f: Filters) => {
    const used = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));
    onChange({ ...query, filters: Object.keys(used).length > 0 ? used : undefined });
  };
  const changeFiltersAndRun = (f: Filters) => {
    changeFilters(f);
    onRunQuery();
  };

  // Only the groupings the metric's table has are offered; a grouping chosen before the metric
  // changed stays visible and is explained below.
  const allowed: GroupBy[] = metric ? METRIC_DIMENSIONS[metric] : GROUP_BYS;
  const groupByOptions: Array<SelectableValue<string>> = allowed.map((g) => ({
    value: g,
    label: groupByLabel(g, metric),
  }));
  // a metric held in a $variable could be any: offer every filter
  const filterKeys = metric ? METRIC_FILTERS[metric] : [...new Set(Object.values(METRIC_FILTERS).flat())];
  const shown = (key: string) => filterKeys.includes(key) || (filters as Record<string, unknown>)[key] !== undefined;

  const groupByError = errorFor(problems, 'groupBy');
  const formatError = errorFor(problems, 'format');
  const limitError = errorFor(problems, 'limit');
  const filterError = errorFor(problems, 'filters');
  const presetError = errorFor(problems, 'preset') ?? presets.error;
  const metricError = errorFor(problems, 'metric');

  return (
    <>
      <InlineFieldRow>
        <InlineField
          label="Preset"
          labelWidth={LABEL_WIDTH}
          tooltip="A resource of the original Sentinel View; picking one fills the fields below, which you may then change"
          invalid={!!presetError}
          error={presetError}
        >
          <Select<string>
            inputId="sview-preset"
            width={44}
            isClearable
            allowCustomValue
            isLoading={presets.loading}
            placeholder="none: build the query below"
            options={presets.options}
            value={selected(query.preset, presets.options)}
            onChange={(v) => change(applyPreset(query, v?.value))}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField label="Metric" labelWidth={LABEL_WIDTH} invalid={!!metricError} error={metricError}>
          <Select<string>
            inputId="sview-metric"
            width={24}
            options={METRIC_OPTIONS}
            allowCustomValue
            value={selected(shownMetric, METRIC_OPTIONS)}
            onChange={(v) => change({ ...query, metric: v.value as Metric })}
          />
        </InlineField>
        <InlineField
          label="Group by"
          labelWidth={10}
          tooltip={metric ? `${metric} can be grouped by the dimensions of its table` : undefined}
          invalid={!!groupByError}
          error={groupByError}
        >
          <Select<string>
            inputId="sview-group-by"
            width={26}
            options={groupByOptions}
            allowCustomValue
            value={selected(shownGroupBy, groupByOptions)}
            placeholder={preset ? 'as the preset' : 'nothing'}
            onChange={(v) => change({ ...query, groupBy: v.value as GroupBy })}
          />
        </InlineField>
        <InlineField
          label="Limit"
          labelWidth={8}
          tooltip="Top N groups (by total over the range)"
          invalid={!!limitError}
          error={limitError}
        >
          <Input
            id="sview-limit"
            type="number"
            min={1}
            width={10}
            value={query.limit ?? ''}
            placeholder={defaultLimit(format) === 0 ? 'all' : String(defaultLimit(format))}
            onChange={(e) => {
              const raw = e.currentTarget.value;
              onChange({ ...query, limit: raw === '' ? undefined : Number(raw) });
            }}
            onBlur={onRunQuery}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField label="Format" labelWidth={LABEL_WIDTH} invalid={!!formatError} error={formatError}>
          <RadioButtonGroup<Format>
            options={FORMAT_OPTIONS}
            value={format}
            onChange={(v) => change({ ...query, format: v })}
          />
        </InlineField>
        <InlineField
          label="Period"
          labelWidth={8}
          tooltip="A fixed period of the original site, or the dashboard time range"
        >
          <Select<string>
            inputId="sview-period"
            width={24}
            allowCustomValue
            options={PERIOD_OPTIONS}
            value={selected(query.period ?? '', PERIOD_OPTIONS)}
            onChange={(v) => change({ ...query, period: v.value as Period })}
          />
        </InlineField>
      </InlineFieldRow>
      {LIST_FILTERS.filter((f) => shown(f.filter)).map((f) => (
        <ListFilterField
          key={f.filter}
          datasource={datasource}
          {...f}
          filters={filters}
          onChange={changeFiltersAndRun}
        />
      ))}
      {TEXT_FILTERS.filter((f) => shown(f.filter)).map((f) => (
        <TextFilterField key={f.filter} {...f} filters={filters} onChange={changeFilters} onBlur={onRunQuery} />
      ))}
      {filterError && <FieldValidationMessage>{filterError}</FieldValidationMessage>}
    </>
  );
}
