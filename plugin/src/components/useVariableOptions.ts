import { useEffect, useState } from 'react';
import { SelectableValue } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';

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
 */
export function useVariableOptions(
  datasource: DataSource,
  kind: VariableKind | undefined,
  fallback: Array<SelectableValue<string>> = []
): LoadedOptions {
  const [state, setState] = useState<LoadedOptions>({ options: fallback, loading: kind !== undefined });
  useEffect(() => {
    if (!kind) {
      return;
    }
    let cancelled = false;
    datasource
      .variableValues(kind)
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
    // fallback is a constant per call site; reloading on its identity would loop
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [datasource, kind]);
  return { ...state, options: [...templateVariableOptions(), ...state.options] };
}
