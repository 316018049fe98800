import { fireEvent, screen } from '@testing-library/react';
import { setTemplateSrv } from '@grafana/runtime';

import { renderQueryEditor } from '../testing/editor';
import { fakeTemplateSrv } from '../testing/fakeTemplateSrv';
import { SviewQuery } from '../types';
import { toEvents } from './EventsEditor';

const setup = (query: Partial<SviewQuery>) => renderQueryEditor(query);

const shown = (id: string) => document.getElementById(id) !== null;

beforeEach(() => setTemplateSrv(fakeTemplateSrv([])));

describe('EventsEditor', () => {
  it('is offered as a query type; a stats query becomes the events behind its metric, keeping the filters their table takes', async () => {
    const { onChange, onRunQuery } = await setup({
      queryType: 'stats',
      preset: 'top_passwords_by_usages_list',
      metric: 'usages',
      groupBy: ['password'],
      filters: { password: ['123456'], country: ['CZ'] },
      exclude: { asn: ['64500'] },
    });
    fireEvent.click(screen.getByText('Events'));
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({
        queryType: 'events',
        events: 'logins',
        filters: { password: ['123456'], country: ['CZ'] },
        exclude: { asn: ['64500'] },
      })
    );
    expect(onChange.mock.lastCall[0].preset).toBeUndefined(); // presets are stats queries only
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('offers the filters of the kind: a password for logins, a port for scans, neither for incidents', async () => {
    await setup({ queryType: 'events', events: 'logins' });
    expect([shown('sview-filter-password'), shown('sview-filter-port'), shown('sview-filter-ip')]).toEqual([
      true,
      false,
      true,
    ]);
    document.body.innerHTML = '';
    await setup({ queryType: 'events', events: 'scans' });
    expect([shown('sview-filter-password'), shown('sview-filter-port'), shown('sview-filter-action')]).toEqual([
      false,
      true,
      false,
    ]);
    document.body.innerHTML = '';
    await setup({ queryType: 'events', events: 'incidents' });
    expect([shown('sview-filter-password'), shown('sview-filter-port'), shown('sview-filter-action')]).toEqual([
      false,
      false,
      true,
    ]);
  });

  it('drops the filters and exclusions the new kind lacks when the kind changes', async () => {
    const { onChange, onRunQuery } = await setup({
      queryType: 'events',
      events: 'logins',
      filters: { password: ['admin'], ip: ['192.0.2.1'] },
      exclude: { username: ['root'] },
    });
    fireEvent.keyDown(document.getElementById('sview-events')!, { key: 'ArrowDown' });
    fireEvent.click(screen.getByText('Scans'));
    expect(onChange).toHaveBeenLastCalledWith({
      refId: 'A',
      queryType: 'events',
      events: 'scans',
      filters: { ip: ['192.0.2.1'] },
      exclude: undefined,
    });
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('offers feed events and commands, each with the filters of its table', async () => {
    await setup({ queryType: 'events', events: 'feeds' });
    const keys = ['taxonomy', 'type', 'identifier', 'feed', 'provider', 'ip', 'probe', 'command'];
    expect(keys.map((k) => shown(`sview-filter-${k}`))).toEqual([true, true, true, true, true, true, false, false]);
    document.body.innerHTML = '';
    const { onChange } = await setup({
      queryType: 'events',
      events: 'logins',
      filters: { password: ['admin'], probe: ['1'] },
    });
    fireEvent.keyDown(document.getElementById('sview-events')!, { key: 'ArrowDown' });
    expect(screen.getByText('Feed events (IDEA, IntelMQ)')).toBeInTheDocument();
    fireEvent.click(screen.getByText('Commands (HaaS)'));
    expect(onChange).toHaveBeenLastCalledWith({
      refId: 'A',
      queryType: 'events',
      events: 'commands',
      filters: { probe: ['1'] },
      exclude: undefined,
    });
  });

  it('feed events drop the probe, and keep their label filters as lists', async () => {
    const { onChange } = await setup({
      queryType: 'events',
      events: 'commands',
      filters: { probe: ['1'], country: ['CZ'], command: ['uname -a'] },
    });
    expect(shown('sview-filter-command')).toBe(true);
    fireEvent.keyDown(document.getElementById('sview-events')!, { key: 'ArrowDown' });
    fireEvent.click(screen.getByText('Feed events (IDEA, IntelMQ)'));
    expect(onChange).toHaveBeenLastCalledWith(
      expect.objectContaining({ events: 'feeds', filters: { country: ['CZ'] } })
    );
    expect(
      toEvents({ refId: 'A', metric: 'events', filters: { taxonomy: ['scanner'], probe: ['1'] } }).filters
    ).toEqual({ taxonomy: ['scanner'] });
  });

  it('explains a filter the kind lacks and a page too long, under their fields', async () => {
    await setup({ queryType: 'events', events: 'feeds', filters: { probe: ['1'] }, limit: 6000 });
    expect(shown('sview-filter-probe')).toBe(true); // shown so it can be removed
    expect(screen.getByText(/^feeds events cannot be filtered by probe; its filters are asn/)).toBeInTheDocument();
    expect(screen.getByText('Limit must be a whole number from 1 to 5000, not 6000.')).toBeInTheDocument();
  });

  it('stores the limit as a number and before as typed, running on blur', async () => {
    const { onChange, onRunQuery } = await setup({ queryType: 'events', events: 'incidents' });
    const limit = document.getElementById('sview-events-limit')!;
    fireEvent.change(limit, { target: { value: '20' } });
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ limit: 20 }));
    const before = document.getElementById('sview-events-before')!;
    fireEvent.change(before, { target: { value: '2026-03-01T00:20:00Z' } });
    expect(onChange).toHaveBeenLastCalledWith(expect.objectContaining({ before: '2026-03-01T00:20:00Z' }));
    expect(onRunQuery).not.toHaveBeenCalled();
    fireEvent.blur(before);
    expect(onRunQuery).toHaveBeenCalled();
  });

  it('maps metrics to the rows behind them', () => {
    expect(
      ['incidents', 'attackers', 'usages', 'scans', 'events', 'commands'].map(
        (metric) => toEvents({ refId: 'A', metric } as SviewQuery).events
      )
    ).toEqual(['incidents', 'incidents', 'logins', 'scans', 'feeds', 'commands']);
    expect(toEvents({ refId: 'A', queryType: 'greylist', events: 'scans', metric: 'usages' }).events).toBe('scans');
    expect(toEvents({ refId: 'A', queryType: 'leak', password: '$pw' })).toEqual({
      refId: 'A',
      queryType: 'events',
      events: 'incidents',
      filters: undefined,
      exclude: undefined,
    });
  });
});
