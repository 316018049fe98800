// A small stand-in for Grafana's TemplateSrv (which lives in Grafana itself, not in a package),
// with the interpolation rules the datasource relies on: `$name`, `${name}` and `${name:format}`;
// a multi-value variable hands its values to a format function as an array; "All" hands over
// every option value, or the variable's custom all value; scoped variables win.
import { ScopedVars, TypedVariableModel } from '@grafana/data';
import { TemplateSrv } from '@grafana/runtime';

export interface FakeVariable {
  name: string;
  /** the selection: one value, several, or ['$__all'] */
  current: string | string[];
  /** every value the variable offers (what All expands to) */
  options?: string[];
  allValue?: string;
}

const PATTERN = /\$(\w+)|\$\{(\w+)(?::(\w+))?\}/g;

function builtinFormat(value: string | string[], format: string | undefined): string {
  const values = Array.isArray(value) ? value : [value];
  switch (format) {
    case 'csv':
      return values.join(',');
    case 'pipe':
      return values.join('|');
    default:
      // Grafana's default for several values is a glob-style {a,b}
      return values.length > 1 ? `{${values.join(',')}}` : values.join('');
  }
}

export function fakeTemplateSrv(variables: FakeVariable[]): TemplateSrv {
  const byName = new Map(variables.map((v) => [v.name, v]));
  const valueOf = (name: string, scopedVars?: ScopedVars): string | string[] | undefined => {
    const scoped = scopedVars?.[name];
    if (scoped) {
      return String(scoped.value);
    }
    const v = byName.get(name);
    if (!v) {
      return undefined;
    }
    const current = Array.isArray(v.current) ? v.current : [v.current];
    if (current.includes('$__all')) {
      return v.allValue ?? v.options ?? [];
    }
    return Array.isArray(v.current) ? current : v.current;
  };
  return {
    getVariables: () => variables.map((v) => ({ name: v.name, type: 'custom' }) as unknown as TypedVariableModel),
    replace: (target?: string, scopedVars?: ScopedVars, format?: string | Function) =>
      (target ?? '').replace(PATTERN, (match, plain: string, braced: string, inlineFormat: string) => {
        const value = valueOf(plain ?? braced, scopedVars);
        if (value === undefined) {
          return match;
        }
        // a format written in the expression wins over the caller's
        if (inlineFormat || typeof format !== 'function') {
          return builtinFormat(value, inlineFormat ?? format);
        }
        return format(value);
      }),
    containsTemplate: (target?: string) => !!target && new RegExp(PATTERN.source).test(target),
    updateTimeRange: () => undefined,
  };
}
