import React, { useEffect, useMemo } from 'react';
import { QueryEditorProps } from '@grafana/data';
import { InlineField, InlineFieldRow, RadioButtonGroup } from '@grafana/ui';

import { QUERY_TYPE_OPTIONS } from '../catalog';
import type { DataSource } from '../datasource';
import { migrateQuery } from '../migration';
import { DEFAULT_QUERY, QueryType, SviewOptions, SviewQuery } from '../types';
import { AnnotationEditor } from './AnnotationEditor';
import { EventsEditor, toEvents } from './EventsEditor';
import { GreylistEditor } from './GreylistEditor';
import { LeakEditor } from './LeakEditor';
import { LiveEditor } from './LiveEditor';
import { StatsEditor } from './StatsEditor';
import { toTrend, TrendEditor } from './TrendEditor';

type Props = QueryEditorProps<DataSource, SviewQuery, SviewOptions>;

export function QueryEditor({ datasource, query, range, onChange, onRunQuery }: Props) {
  const migrated = useMemo(() => migrateQuery(query), [query]);
  // an old saved query is stored in its new shape as soon as it is edited
  const changed = JSON.stringify(migrated) !== JSON.stringify(query);
  useEffect(() => {
    if (changed) {
      onChange(migrated);
    }
  }, [changed, migrated, onChange]);

  const queryType = migrated.queryType ?? 'stats';
  const setType = (next: QueryType) => {
    // Fields of the other types stay (the backend ignores them, and switching back restores them),
    // except the preset and the exclusions: the backend rejects them on anything but a stats query.
    const { preset: _preset, exclude: _exclude, ...rest } = migrated;
    if (next === 'trend') {
      onChange(toTrend(migrated)); // a trend takes the exclusions too
    } else if (next === 'stats') {
      // a numeric trend becomes the table it was the alert form of
      const format = migrated.format === 'numeric' ? 'table' : migrated.format;
      onChange({ ...DEFAULT_QUERY, ...migrated, ...(format && { format }), queryType: next });
    } else if (next === 'events') {
      onChange(toEvents(migrated)); // events take the exclusions too
    } else {
      onChange({ ...rest, queryType: next });
    }
    onRunQuery();
  };

  return (
    <>
      <InlineFieldRow>
        <InlineField label="Query type" labelWidth={14}>
          <RadioButtonGroup<QueryType> options={QUERY_TYPE_OPTIONS} value={queryType} onChange={setType} />
        </InlineField>
      </InlineFieldRow>
      {queryType === 'stats' && (
        <StatsEditor
          datasource={datasource}
          query={migrated}
          range={range}
          onChange={onChange}
          onRunQuery={onRunQuery}
        />
      )}
      {queryType === 'greylist' && (
        <GreylistEditor datasource={datasource} query={migrated} onChange={onChange} onRunQuery={onRunQuery} />
      )}
      {queryType === 'trend' && (
        <TrendEditor
          datasource={datasource}
          query={migrated}
          range={range}
          onChange={onChange}
          onRunQuery={onRunQuery}
        />
      )}
      {queryType === 'leak' && <LeakEditor query={migrated} onChange={onChange} onRunQuery={onRunQuery} />}
      {queryType === 'annotations' && (
        <AnnotationEditor datasource={datasource} query={migrated} onChange={onChange} onRunQuery={onRunQuery} />
      )}
      {queryType === 'events' && (
        <EventsEditor
          datasource={datasource}
          query={migrated}
          range={range}
          onChange={onChange}
          onRunQuery={onRunQuery}
        />
      )}
      {queryType === 'probes' && (
        <p>
          Your probes, each with its last report and how long it has been silent (silent: 6 hours or more without a
          report). Alert rules get one number per probe, silent_seconds.
        </p>
      )}
      {queryType === 'live' && (
        <LiveEditor datasource={datasource} query={migrated} onChange={onChange} onRunQuery={onRunQuery} />
      )}
      {queryType === 'status' && (
        <p>
          Aggregation lag per table and precision and the cache state, as a table: for health dashboards and alert rules
          on a stalled aggregator.
        </p>
      )}
    </>
  );
}
