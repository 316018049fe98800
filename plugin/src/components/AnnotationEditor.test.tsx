import { fireEvent, screen } from '@testing-library/react';
import { setTemplateSrv } from '@grafana/runtime';

import { testDatasource } from '../testing/datasource';
import { renderQueryEditor } from '../testing/editor';
import { fakeTemplateSrv } from '../testing/fakeTemplateSrv';
import { SviewQuery } from '../types';

const setup = (query: Partial<SviewQuery>) =>
  renderQueryEditor(
    query,
    testDatasource(() => [{ value: '64500', text: 'AS64500 EXAMPLE-NET' }])
  );

beforeEach(() => setTemplateSrv(fakeTemplateSrv([{ name: 'netblocks', current: ['192.0.2.0/24'] }])));

describe('annotations', () => {
  it('is the default query of an annotation, marking greylist entries and exits', () => {
    expect(testDatasource().annotations?.getDefaultQuery?.()).toEqual({
      queryType: 'annotations',
      annotation: 'greylist',
    });
  });

  it('offers the filters of the chosen kind: addresses and ASNs for the greylist', async () => {
    await setup({ queryType: 'annotations', annotation: 'greylist' });
    expect(document.getElementById('sview-filter-ip')).not.toBeNull();
    expect(document.getElementById('sview-filter-asn')).not.toBeNull();
    expect(document.getElementById('sview-filter-probe')).toBeNull();
  });

  it('offers probes for silences', async () => {
    await setup({ queryType: 'annotations', annotation: 'silence' });
    expect(document.getElementById('sview-filter-probe')).not.toBeNull();
    expect(document.getElementById('sview-filter-ip')).toBeNull();
  });

  it('drops the filters the new kind does not read when the kind changes', async () => {
    const { onChange, onRunQuery } = await setup({
      queryType: 'annotations',
      annotation: 'greylist',
      filters: { ip: ['192.0.2.0/24'] },
    });
    fireEvent.keyDown(document.getElementById('sview-annotation')!, { key: 'ArrowDown' });
    fireEvent.click(screen.getByText('Aggregation'));
    expect(onChange).toHaveBeenLastCalledWith({
      refId: 'A',
      queryType: 'annotations',
      annotation: 'aggregation',
      filters: undefined,
    });
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('describes the probes query', async () => {
    await setup({ queryType: 'probes' });
    expect(screen.getByText(/last report and how long it has been silent/)).toBeTruthy();
  });
});
