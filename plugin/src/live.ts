import { LiveChannelAddress, LiveChannelScope } from '@grafana/data';

import { SviewQuery } from './types';

/** Events per second a live stream sends at most unless the query says (internal/live DefaultRate). */
export const DEFAULT_LIVE_RATE = 50;

/** base64url without padding, of the UTF-8 bytes: the characters a Grafana Live path may hold. */
function base64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  bytes.forEach((b) => (binary += String.fromCharCode(b)));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The channel path of a live query (docs/live.md): `incidents` (the events) or `counts` (the
 * incidents per second), the user's login (Grafana runs one stream per channel for all its
 * subscribers, so a channel is one user's: the backend admits only that user), the rate, and the
 * query's filters, exclusions and ad-hoc filters as JSON. `query` has its variables replaced.
 */
export function livePath(query: SviewQuery, login: string): string {
  const kind = query.format === 'timeseries' ? 'counts' : 'incidents';
  const model: Pick<SviewQuery, 'filters' | 'exclude' | 'adhoc'> = {};
  if (query.filters !== undefined) {
    model.filters = query.filters;
  }
  if (query.exclude !== undefined) {
    model.exclude = query.exclude;
  }
  if (query.adhoc !== undefined) {
    model.adhoc = query.adhoc;
  }
  const rate = query.rate ?? DEFAULT_LIVE_RATE;
  return `${kind}/u${base64url(login)}/${rate}/${base64url(JSON.stringify(model))}`;
}

/** The Grafana Live address of a live query on the datasource `uid`. */
export function liveAddress(uid: string, query: SviewQuery, login: string): LiveChannelAddress {
  return { scope: LiveChannelScope.DataSource, stream: uid, path: livePath(query, login) };
}
