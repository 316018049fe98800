import { useEffect, useState } from 'react';
import { SelectableValue, TimeRange } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';

import { RANKED_KINDS } from '../catalog';
import type { DataSource } from '../datasource';
import { VariableKind } from '../types';

export interface LoadedOptions {
  options: Array<SelectableValue<string>>;
  loading: boolean;
  /** why the backend's list could not be loaded; the fallback (if any) is offered instead */
  error?: string;
}

/** The dashboard's variables as `$name` options, so a filter can follow a variable. */
export function templateVariableOptions(): Array<SelectableValue<string>> {
  return getTemplateSrv()
    .getVariables()
    .map((v) => ({ label: `$${v.name}`, value: `$${v.name}`, description: 'Dashboard variable' }));
}

/**
 * Options of one variable kind, loaded from the backend once per editor mount; `fallback` is
 * used while loading and when the backend cannot answer (e.g. the datasource is not saved yet).
 * A ranked kind (RANKED_KINDS) lists the values within `range`, the dashboard's, and loads again
 * when it moves; the other kinds list everything and ignore it.
 */
export function useVariableOptions(
  datasource: DataSource,
  kind: VariableKind | undefined,
  fallback: Array<SelectableValue<string>> = [],
  range?: TimeRange
): LoadedOptions {
  const [state, setState] = useState<LoadedOptions>({ options: fallback, loading: kind !== undefined });
  const ranged = kind !== undefined && RANKED_KINDS.includes(kind) ? range : undefined;
  const from = ranged?.from.valueOf();
  const to = ranged?.to.valueOf();
  useEffect(() => {
    if (!kind) {
      return;
    }
    let cancelled = false;
    datasource
      .variableValues(kind, undefined, undefined, ranged)
      .then((values) => {
        if (!cancelled) {
          setState({ options: values.map((v) => ({ label: v.text, value: v.value })), loading: false });
        }
      })
      .catch((err: unknown) => {
        if (!cancelled) {
          const message =
            err instanceof Error
              ? err.message
              : ((err as { data?: { message?: string } })?.data?.message ?? String(err));
          setState({ options: fallback, loading: false, error: `Could not load ${kind}: ${message}` });
        }
      });
    return () => {
      cancelled = true;
    };
    // fallback is a constant per call site, and a range a new object on every render: reloading
    // on their identity would loop, so the range's bounds stand for it
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [datasource, kind, from, to]);
  return { ...state, options: [...templateVariableOptions(), ...state.options] };
}
