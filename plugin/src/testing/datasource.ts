// A datasource for editor tests: unsaved settings, and the variable lists (the plugin's
// variables/{kind} resource) answered by the test instead of a backend.
import { DataSourceInstanceSettings } from '@grafana/data';

import { DataSource } from '../datasource';
import { SviewOptions, VariableKind, VariableValue } from '../types';

export function testDatasource(
  values: (kind: VariableKind) => VariableValue[] | Promise<VariableValue[]> = () => []
): DataSource {
  const ds = new DataSource({
    id: 1,
    uid: 'u',
    jsonData: {},
    meta: {},
  } as unknown as DataSourceInstanceSettings<SviewOptions>);
  jest.spyOn(ds, 'variableValues').mockImplementation(async (kind: VariableKind) => values(kind));
  return ds;
}
