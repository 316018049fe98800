import React from 'react';
import { SelectableValue, TimeRange } from '@grafana/data';
import { InlineField, InlineFieldRow, RadioButtonGroup, Select } from '@grafana/ui';

import {
  groupByLabel,
  known,
  METRIC_DIMENSIONS,
  METRIC_EXCLUDES,
  METRIC_FILTERS,
  METRIC_OPTIONS,
  PERIOD_OPTIONS,
  TREND_DEFAULT_LIMIT,
  TREND_DIRECTION_OPTIONS,
  TREND_FORMAT_OPTIONS,
  TREND_MEASURE_OPTIONS,
} from '../catalog';
import type { DataSource } from '../datasource';
import { groupByKeys } from '../migration';
import { trendProblems } from '../validation';
import { GroupBy, Metric, Period, SviewQuery, TrendDirection, TrendFormat, TrendMeasure } from '../types';
import { errorFor, FiltersAndExclusions, selected } from './StatsEditor';
import { NumberField } from './NumberField';

const LABEL_WIDTH = 14;

interface Props {
  datasource: DataSource;
  query: SviewQuery;
  range?: TimeRange;
  onChange: (query: SviewQuery) => void;
  onRunQuery: () => void;
}

/**
 * The query a switch to the trend type gives: the statistics' metric, filters, exclusions and
 * period stay; a trend has no preset, needs a grouping (ASN when there was none) and is a table
 * unless it already was numeric.
 */
export function toTrend(query: SviewQuery): SviewQuery {
  const { preset: _preset, ...rest } = query;
  const format = known(query.format);
  // a trend ranks one grouping: the statistics' first key
  const [first] = groupByKeys(query.groupBy);
  return {
    ...rest,
    queryType: 'trend',
    metric: query.metric ?? 'incidents',
    groupBy: [first ?? 'asn'],
    format: format === 'numeric' ? 'numeric' : 'table',
  };
}

/** Every key of one grouping ranked by how it rises or falls against the period before (docs/trends.md). */
export function TrendEditor({ datasource, query, range, onChange, onRunQuery }: Props) {
  const problems = trendProblems(query);
  const metric = known<Metric>(query.metric);
  const format = (known(query.format) as TrendFormat | undefined) ?? 'table';

  const change = (q: SviewQuery) => {
    onChange(q);
    onRunQuery();
  };
  const changeFormat = (next: TrendFormat) => {
    // a table has every measure: only a numeric trend names one
    const { measure: _dropped, ...rest } = query;
    change({ ...rest, format: next });
  };

  // a trend ranks keys: every grouping of the metric's table but "nothing"
  const groupByOptions: Array<SelectableValue<string>> = (metric ? METRIC_DIMENSIONS[metric] : [])
    .filter((g) => g !== '')
    .map((g) => ({ value: g, label: groupByLabel(g, metric) }));
  const filterKeys = metric ? METRIC_FILTERS[metric] : [...new Set(Object.values(METRIC_FILTERS).flat())];
  const excludeKeys = metric ? METRIC_EXCLUDES[metric] : [...new Set(Object.values(METRIC_EXCLUDES).flat())];

  const groupByError = errorFor(problems, 'groupBy');
  const metricError = errorFor(problems, 'metric');
  const formatError = errorFor(problems, 'format');
  const limitError = errorFor(problems, 'limit');
  const filterError = errorFor(problems, 'filters');
  const excludeError = errorFor(problems, 'exclude');

  return (
    <>
      <InlineFieldRow>
        <InlineField label="Metric" labelWidth={LABEL_WIDTH} invalid={!!metricError} error={metricError}>
          <Select<string>
            inputId="sview-trend-metric"
            width={24}
            options={METRIC_OPTIONS}
            allowCustomValue
            value={selected(query.metric, METRIC_OPTIONS)}
            onChange={(v) => change({ ...query, metric: v.value as Metric })}
          />
        </InlineField>
        <InlineField
          label="Rank"
          labelWidth={8}
          tooltip="Every key of this grouping is ranked, not only the busiest"
          invalid={!!groupByError}
          error={groupByError}
        >
          <Select<string>
            inputId="sview-trend-group-by"
            width={26}
            options={groupByOptions}
            allowCustomValue
            value={selected(groupByKeys(query.groupBy)[0], groupByOptions)}
            placeholder="choose a grouping"
            onChange={(v) => change({ ...query, groupBy: [v.value as GroupBy] })}
          />
        </InlineField>
        <NumberField
          id="sview-trend-limit"
          label="Limit"
          tooltip="Top N keys of the ranking"
          error={limitError}
          min={1}
          width={10}
          value={query.limit}
          placeholder={String(TREND_DEFAULT_LIMIT)}
          onChange={(limit) => onChange({ ...query, limit })}
          onBlur={onRunQuery}
        />
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField
          label="Direction"
          labelWidth={LABEL_WIDTH}
          tooltip="Ranked by the least-squares slope of the period's buckets, per day"
        >
          <RadioButtonGroup<TrendDirection>
            options={TREND_DIRECTION_OPTIONS}
            value={query.direction ?? 'rising'}
            onChange={(v) => change({ ...query, direction: v })}
          />
        </InlineField>
        <InlineField
          label="Period"
          labelWidth={8}
          tooltip="The current window, compared with the one of the same length before it"
        >
          <Select<string>
            inputId="sview-trend-period"
            width={24}
            allowCustomValue
            options={PERIOD_OPTIONS}
            value={selected(query.period ?? '', PERIOD_OPTIONS)}
            onChange={(v) => change({ ...query, period: v.value as Period })}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField label="Format" labelWidth={LABEL_WIDTH} invalid={!!formatError} error={formatError}>
          <RadioButtonGroup<TrendFormat> options={TREND_FORMAT_OPTIONS} value={format} onChange={changeFormat} />
        </InlineField>
        {format === 'numeric' && (
          <InlineField label="Measure" labelWidth={10} tooltip="The one number per key an alert rule evaluates">
            <Select<string>
              inputId="sview-trend-measure"
              width={24}
              options={TREND_MEASURE_OPTIONS}
              value={selected(query.measure ?? 'slope_per_day', TREND_MEASURE_OPTIONS)}
              onChange={(v) => change({ ...query, measure: v.value as TrendMeasure })}
            />
          </InlineField>
        )}
      </InlineFieldRow>
      <FiltersAndExclusions
        datasource={datasource}
        query={query}
        range={range}
        filterKeys={filterKeys}
        excludeKeys={excludeKeys}
        excludeTooltip="Leave out the rows matching any of these values before ranking"
        filterError={filterError}
        excludeError={excludeError}
        onChange={onChange}
        onRunQuery={onRunQuery}
      />
    </>
  );
}
