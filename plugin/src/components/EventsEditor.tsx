import React from 'react';
import { TimeRange } from '@grafana/data';
import { InlineField, InlineFieldRow, Input, Select } from '@grafana/ui';

import { EVENTS_DEFAULT_LIMIT, EVENTS_FILTERS, EVENTS_MAX_LIMIT, EVENTS_OPTIONS } from '../catalog';
import type { DataSource } from '../datasource';
import { EventsKind, Filters, SviewQuery } from '../types';
import { eventsProblems } from '../validation';
import { errorFor, FiltersAndExclusions, used } from './StatsEditor';
import { NumberField } from './NumberField';

const LABEL_WIDTH = 14;

interface Props {
  datasource: DataSource;
  query: SviewQuery;
  range?: TimeRange;
  onChange: (query: SviewQuery) => void;
  onRunQuery: () => void;
}

/** Keeps the filters a kind of events takes; undefined when none is left. */
function kept(f: Filters | undefined, kind: EventsKind): Filters | undefined {
  return used(Object.fromEntries(Object.entries(f ?? {}).filter(([k]) => EVENTS_FILTERS[kind].includes(k))));
}

/**
 * The events behind a metric: usages are login attempts, scans port scans, events feed events,
 * commands commands, the rest incidents.
 */
const METRIC_EVENTS: Record<string, EventsKind> = {
  usages: 'logins',
  scans: 'scans',
  events: 'feeds',
  commands: 'commands',
};

/**
 * The events query a query of another type becomes: the rows behind its metric (or the kind it
 * had), with the filters and exclusions that table takes; the fields of other types stay.
 */
export function toEvents(query: SviewQuery): SviewQuery {
  // the backend refuses a preset, and a leak's password variable, on an events query
  const { preset: _preset, password: _password, ...rest } = query;
  const kind = query.events ?? METRIC_EVENTS[query.metric ?? ''] ?? 'incidents';
  return {
    ...rest,
    queryType: 'events',
    events: kind,
    filters: kept(query.filters, kind),
    exclude: kept(query.exclude, kind),
  };
}

/**
 * Events: the raw rows of one table as logs, newest first within the dashboard range, with the
 * filters and exclusions that table takes, a page size and the time to page back from.
 */
export function EventsEditor({ datasource, query, range, onChange, onRunQuery }: Props) {
  const kind = query.events ?? 'incidents';
  const problems = eventsProblems(query);

  const change = (q: SviewQuery) => {
    onChange(q);
    onRunQuery();
  };
  // filters the new kind's table lacks would be refused by the backend
  const setKind = (next: EventsKind) =>
    change({ ...query, events: next, filters: kept(query.filters, next), exclude: kept(query.exclude, next) });

  return (
    <>
      <InlineFieldRow>
        <InlineField label="Events" labelWidth={LABEL_WIDTH} tooltip="Which raw rows to list">
          <Select<EventsKind>
            inputId="sview-events"
            width={24}
            options={EVENTS_OPTIONS}
            value={kind}
            onChange={(v) => v.value && setKind(v.value)}
          />
        </InlineField>
        <NumberField
          id="sview-events-limit"
          label="Limit"
          tooltip={`Rows of one page, at most ${EVENTS_MAX_LIMIT}`}
          error={errorFor(problems, 'limit')}
          min={1}
          max={EVENTS_MAX_LIMIT}
          value={query.limit}
          placeholder={String(EVENTS_DEFAULT_LIMIT)}
          onChange={(limit) => onChange({ ...query, limit })}
          onBlur={onRunQuery}
        />
        <InlineField
          label="Before"
          labelWidth={8}
          tooltip="Only rows strictly older than this time (RFC 3339 or epoch ms): the nextBefore of the previous page, which its notice names"
        >
          <Input
            id="sview-events-before"
            width={32}
            placeholder="newest first"
            value={query.before ?? ''}
            onChange={(e) => onChange({ ...query, before: e.currentTarget.value || undefined })}
            onBlur={onRunQuery}
          />
        </InlineField>
      </InlineFieldRow>
      <FiltersAndExclusions
        datasource={datasource}
        query={query}
        range={range}
        filterKeys={EVENTS_FILTERS[kind]}
        excludeKeys={EVENTS_FILTERS[kind]}
        excludeTooltip="Leave out the rows matching any of these values. A row without the value (unknown country or ASN) is kept."
        filterError={errorFor(problems, 'filters')}
        excludeError={errorFor(problems, 'exclude')}
        onChange={onChange}
        onRunQuery={onRunQuery}
      />
    </>
  );
}
