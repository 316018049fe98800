import React, { useState } from 'react';
import { SelectableValue, TimeRange } from '@grafana/data';
import {
  FieldValidationMessage,
  InlineField,
  InlineFieldRow,
  InlineSwitch,
  MultiSelect,
  RadioButtonGroup,
  Select,
} from '@grafana/ui';

import {
  defaultLimit,
  FORMAT_OPTIONS,
  GROUP_BYS,
  groupByLabel,
  MAX_GROUP_BY,
  METRIC_DIMENSIONS,
  METRIC_EXCLUDES,
  METRIC_FILTERS,
  METRIC_OPTIONS,
  PERIOD_OPTIONS,
  PRESET_NAMES,
  PRESETS,
} from '../catalog';
import type { DataSource } from '../datasource';
import { groupByKeys } from '../migration';
import { effective, Problem, statsProblems } from '../validation';
import {
  Filters,
  Format,
  GroupBy,
  GroupByKeys,
  ListFilterKey,
  Metric,
  Period,
  SviewQuery,
  VariableKind,
} from '../types';
import { ListFilterField } from './FilterFields';
import { useVariableOptions } from './useVariableOptions';
import { NumberField } from './NumberField';

/** The multi-value filters, in the order the editor shows them, with their tooltips as exclusions. */
const LIST_FILTERS: Array<{
  filter: ListFilterKey;
  kind?: VariableKind;
  split?: boolean;
  label: string;
  tooltip: string;
  excludeTooltip: string;
}> = [
  {
    filter: 'probe',
    kind: 'probes',
    label: 'Probes',
    tooltip: 'Only these probes',
    excludeTooltip: 'Not these probes',
  },
  {
    filter: 'country',
    kind: 'countries',
    label: 'Countries',
    tooltip: 'Only attackers from these countries',
    excludeTooltip: 'Not attackers from these countries (attackers of unknown country stay)',
  },
  {
    filter: 'asn',
    kind: 'asns',
    label: 'ASNs',
    tooltip: 'Only attackers from these autonomous systems',
    excludeTooltip: 'Not attackers from these autonomous systems (attackers of unknown ASN stay)',
  },
  { filter: 'trap', kind: 'traps', label: 'Traps', tooltip: 'Only these traps', excludeTooltip: 'Not these traps' },
  {
    filter: 'action',
    kind: 'actions',
    label: 'Actions',
    tooltip: 'Only these actions',
    excludeTooltip: 'Not these actions',
  },
  {
    filter: 'ip',
    split: true,
    label: 'Attacker IPs',
    tooltip:
      'Only these attackers: addresses or CIDR prefixes such as 192.0.2.1 or 198.51.100.0/24 (type or paste, Enter)',
    excludeTooltip: 'Not these attackers: addresses or CIDR prefixes (type or paste, Enter)',
  },
  {
    filter: 'port',
    split: true,
    label: 'Ports',
    tooltip: 'Only these port numbers (type a number, Enter)',
    excludeTooltip: 'Not these port numbers (type a number, Enter)',
  },
  // Free text compared as given: never split, since a command holds spaces and commas. Their
  // options are the values seen within the dashboard range, busiest first.
  {
    filter: 'taxonomy',
    kind: 'taxonomies',
    label: 'Taxonomies',
    tooltip: 'Only feed events of these IntelMQ taxonomies (classification.taxonomy, e.g. information-gathering)',
    excludeTooltip: 'Not feed events of these taxonomies',
  },
  {
    filter: 'type',
    kind: 'types',
    label: 'Types',
    tooltip: 'Only feed events of these IntelMQ types (classification.type, e.g. scanner)',
    excludeTooltip: 'Not feed events of these types',
  },
  {
    filter: 'identifier',
    kind: 'identifiers',
    label: 'Identifiers',
    tooltip: 'Only feed events of these IntelMQ identifiers (classification.identifier, e.g. ssh), as written',
    excludeTooltip: 'Not feed events of these identifiers',
  },
  {
    filter: 'feed',
    kind: 'feeds',
    label: 'Feeds',
    tooltip: 'Only events of these feeds, by name as written',
    excludeTooltip: 'Not events of these feeds',
  },
  {
    filter: 'provider',
    kind: 'providers',
    label: 'Providers',
    tooltip: 'Only events of feeds from these providers, as written',
    excludeTooltip: 'Not events of feeds from these providers',
  },
  {
    filter: 'command',
    kind: 'commands',
    label: 'Commands',
    tooltip: 'Only these commands typed in HaaS sessions, each matched whole as typed',
    excludeTooltip: 'Not these commands',
  },
  // Compared exactly as written, case and spaces kept.
  {
    filter: 'password',
    kind: 'passwords',
    label: 'Passwords',
    tooltip: 'Only login attempts with these passwords, each matched exactly',
    excludeTooltip: 'Not login attempts with these passwords',
  },
  {
    filter: 'username',
    kind: 'usernames',
    label: 'Usernames',
    tooltip: 'Only login attempts with these usernames, each matched exactly',
    excludeTooltip: 'Not login attempts with these usernames',
  },
];

const LABEL_WIDTH = 14;
const STATIC_PRESETS = PRESET_NAMES.map((name) => ({ label: name, value: name }));

interface Props {
  datasource: DataSource;
  query: SviewQuery;
  /** the dashboard's time range: the options of ranked filters are the values within it */
  range?: TimeRange;
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

export function errorFor(problems: Problem[], field: Problem['field']): string | undefined {
  const messages = problems.filter((p) => p.field === field).map((p) => p.message);
  return messages.length > 0 ? messages.join(' ') : undefined;
}

/** The option of a value, or the value itself (a $variable) when no option has it. */
export function selected(
  value: string | undefined,
  options: Array<SelectableValue<string>>
): SelectableValue<string> | null {
  if (value === undefined) {
    return null;
  }
  return options.find((o) => o.value === value) ?? { label: value, value };
}

/** Keeps the filters that hold a value; undefined when none does. */
export function used(f: Filters): Filters | undefined {
  const kept = Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));
  return Object.keys(kept).length > 0 ? kept : undefined;
}

interface FiltersAndExclusionsProps {
  datasource: DataSource;
  query: SviewQuery;
  range?: TimeRange;
  /** the keys the query's table filters and excludes by (any key already set is shown too) */
  filterKeys: string[];
  excludeKeys: string[];
  /** what the exclusions leave out, for the switch's tooltip */
  excludeTooltip: string;
  filterError?: string;
  excludeError?: string;
  onChange: (query: SviewQuery) => void;
  onRunQuery: () => void;
}

/**
 * The filters of a query and, behind a switch, its exclusions: the statistics, trend and events
 * editors share them. A change runs the query. Switching the exclusions off drops them.
 */
export function FiltersAndExclusions({
  datasource,
  query,
  range,
  filterKeys,
  excludeKeys,
  excludeTooltip,
  filterError,
  excludeError,
  onChange,
  onRunQuery,
}: FiltersAndExclusionsProps) {
  const [excluding, setExcluding] = useState(query.exclude !== undefined);
  const set = (key: 'filters' | 'exclude') => (f: Filters) => onChange({ ...query, [key]: used(f) });
  const setAndRun = (key: 'filters' | 'exclude') => (f: Filters) => {
    set(key)(f);
    onRunQuery();
  };
  const shown = (keys: string[], f: Filters | undefined) => (key: string) =>
    keys.includes(key) || (f as Record<string, unknown> | undefined)?.[key] !== undefined;
  const toggleExclude = (on: boolean) => {
    setExcluding(on);
    if (!on && query.exclude !== undefined) {
      const { exclude: _dropped, ...rest } = query;
      onChange(rest);
      onRunQuery();
    }
  };
  return (
    <>
      <FilterRows
        datasource={datasource}
        range={range}
        filters={query.filters ?? {}}
        idPrefix="sview-filter"
        shown={shown(filterKeys, query.filters)}
        onChangeAndRun={setAndRun('filters')}
      />
      {filterError && <FieldValidationMessage>{filterError}</FieldValidationMessage>}
      <InlineFieldRow>
        <InlineField label="Exclude" labelWidth={LABEL_WIDTH} tooltip={excludeTooltip}>
          <InlineSwitch id="sview-exclude" value={excluding} onChange={(e) => toggleExclude(e.currentTarget.checked)} />
        </InlineField>
      </InlineFieldRow>
      {excluding && (
        <FilterRows
          datasource={datasource}
          range={range}
          filters={query.exclude ?? {}}
          idPrefix="sview-exclude"
          exclude
          shown={shown(excludeKeys, query.exclude)}
          onChangeAndRun={setAndRun('exclude')}
        />
      )}
      {excludeError && <FieldValidationMessage>{excludeError}</FieldValidationMessage>}
    </>
  );
}

interface FilterRowsProps {
  datasource: DataSource;
  range?: TimeRange;
  filters: Filters;
  /** sview-filter or sview-exclude: the inputs' id prefix */
  idPrefix: string;
  exclude?: boolean;
  shown: (key: string) => boolean;
  /** a list changed: store and run */
  onChangeAndRun: (f: Filters) => void;
}

/** The fields of the filters or of the exclusions, the keys the metric takes (and any set). */
export function FilterRows({
  datasource,
  range,
  filters,
  idPrefix,
  exclude,
  shown,
  onChangeAndRun,
}: FilterRowsProps) {
  return (
    <>
      {LIST_FILTERS.filter((f) => shown(f.filter)).map(({ excludeTooltip, tooltip, ...f }) => (
        <ListFilterField
          key={f.filter}
          datasource={datasource}
          range={range}
          {...f}
          idPrefix={idPrefix}
          tooltip={exclude ? excludeTooltip : tooltip}
          filters={filters}
          onChange={onChangeAndRun}
        />
      ))}
    </>
  );
}

export function StatsEditor({ datasource, query, range, onChange, onRunQuery }: Props) {
  const presets = useVariableOptions(datasource, 'presets', STATIC_PRESETS);
  const problems = statsProblems(query);
  const preset = query.preset ? PRESETS[query.preset] : undefined;
  // as written (may be a $variable) for display; `metric`/`format` as known for the checks
  const shownMetric = query.metric ?? preset?.metric;
  const shownGroupBy = groupByKeys(query.groupBy ?? preset?.groupBy);
  const { metric, format } = effective(query);

  const change = (q: SviewQuery) => {
    onChange(q);
    onRunQuery();
  };

  // Only the groupings the metric's table has are offered (no grouping is no key); a key chosen
  // before the metric changed stays visible and is explained below.
  const allowed: GroupBy[] = (metric ? METRIC_DIMENSIONS[metric] : GROUP_BYS).filter((g) => g !== '');
  const groupByOptions: Array<SelectableValue<string>> = allowed.map((g) => ({
    value: g,
    label: groupByLabel(g, metric),
  }));
  // a metric held in a $variable could be any: offer every filter
  const filterKeys = metric ? METRIC_FILTERS[metric] : [...new Set(Object.values(METRIC_FILTERS).flat())];
  const excludeKeys = metric ? METRIC_EXCLUDES[metric] : [...new Set(Object.values(METRIC_EXCLUDES).flat())];

  const groupByError = errorFor(problems, 'groupBy');
  const formatError = errorFor(problems, 'format');
  const limitError = errorFor(problems, 'limit');
  const filterError = errorFor(problems, 'filters');
  const excludeError = errorFor(problems, 'exclude');
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
          tooltip={`Up to ${MAX_GROUP_BY} keys: series are labelled, and table rows keyed, by all of them${
            metric ? `; ${metric} can be grouped by the dimensions of its table` : ''
          }`}
          invalid={!!groupByError}
          error={groupByError}
        >
          <MultiSelect<string>
            inputId="sview-group-by"
            width={40}
            options={groupByOptions}
            allowCustomValue
            value={shownGroupBy.map((k) => groupByOptions.find((o) => o.value === k) ?? { label: k, value: k })}
            placeholder={preset ? 'as the preset' : 'nothing'}
            isOptionDisabled={() => shownGroupBy.length >= MAX_GROUP_BY}
            onChange={(v) => change({ ...query, groupBy: v.map((o) => o.value).slice(0, MAX_GROUP_BY) as GroupByKeys })}
          />
        </InlineField>
        <NumberField
          id="sview-limit"
          label="Limit"
          tooltip="Top N groups (by total over the range)"
          error={limitError}
          min={1}
          width={10}
          value={query.limit}
          placeholder={defaultLimit(format) === 0 ? 'all' : String(defaultLimit(format))}
          onChange={(limit) => onChange({ ...query, limit })}
          onBlur={onRunQuery}
        />
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
      <FiltersAndExclusions
        datasource={datasource}
        query={query}
        range={range}
        filterKeys={filterKeys}
        excludeKeys={excludeKeys}
        excludeTooltip="Leave out the rows matching any of these values, e.g. your own netblocks or a noisy country. A row without the value (unknown country or ASN) is kept."
        filterError={filterError}
        excludeError={excludeError}
        onChange={onChange}
        onRunQuery={onRunQuery}
      />
    </>
  );
}
