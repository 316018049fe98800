// Dashboard variables backed by the resource endpoints variables/{kind}.
import { CustomVariableSupport, DataQueryRequest, DataQueryResponse, MetricFindValue } from '@grafana/data';
import { getTemplateSrv } from '@grafana/runtime';
import { from, Observable } from 'rxjs';
import { map } from 'rxjs/operators';

import { RANKED_KINDS } from './catalog';
import { VariableQueryEditor } from './components/VariableQueryEditor';
import type { DataSource } from './datasource';
import { SviewQuery, SviewVariableQuery } from './types';

export class SviewVariableSupport extends CustomVariableSupport<DataSource, SviewVariableQuery, SviewQuery> {
  editor = VariableQueryEditor;

  constructor(private readonly datasource: DataSource) {
    super();
  }

  query(request: DataQueryRequest<SviewVariableQuery>): Observable<DataQueryResponse> {
    const query = request.targets[0];
    if (!query?.kind) {
      return from([{ data: [] }]);
    }
    // the search may refer to other variables (a chained variable)
    const search = query.search ? getTemplateSrv().replace(query.search, request.scopedVars) : undefined;
    // a ranked kind lists what the dashboard's range holds, not the backend's last 24 hours
    const range = RANKED_KINDS.includes(query.kind) ? request.range : undefined;
    return from(this.datasource.variableValues(query.kind, search, query.limit, range)).pipe(
      map((values) => ({ data: values.map((v): MetricFindValue => ({ text: v.text, value: v.value })) }))
    );
  }
}
