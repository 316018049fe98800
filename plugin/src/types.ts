// The query model and the datasource settings. These JSON names are the contract with the Go
// backend (DESIGN §4): the backend parses exactly these fields (and refuses any other but those
// Grafana adds), alert rules and dashboards store them, and the HTTP API accepts them. Change a
// name here only together with the Go side.
import { DataSourceJsonData } from '@grafana/data';
import { DataQuery } from '@grafana/schema';

export type QueryType =
  'stats' | 'greylist' | 'leak' | 'status' | 'trend' | 'annotations' | 'probes' | 'events' | 'live';

/**
 * The raw rows an events query lists: incidents, login attempts (passwords), port scans, feed
 * events (IDEA, IntelMQ) or commands typed in HaaS sessions.
 */
export type EventsKind = 'incidents' | 'logins' | 'scans' | 'feeds' | 'commands';

/** What an annotations query marks on time series panels. */
export type AnnotationKind = 'greylist' | 'aggregation' | 'silence';

/** A trend (docs/trends.md) is a table, or numeric for alert rules: the key and one measure. */
export type TrendFormat = 'table' | 'numeric';
export type TrendDirection = 'rising' | 'falling';
export type TrendMeasure = 'slope_per_day' | 'change' | 'change_ratio' | 'current' | 'previous';

/**
 * incidents and attackers (distinct IPs) come from incidents, usages from passwords, scans from
 * ports, events from feed_events (CSIRT feeds), commands from commands (HaaS sessions).
 */
export type Metric = 'incidents' | 'attackers' | 'usages' | 'scans' | 'events' | 'commands';

/** One grouping key; "" = one series for everything; combination = username and password together. */
export type GroupBy =
  | ''
  | 'country'
  | 'asn'
  | 'trap'
  | 'action'
  | 'ip'
  | 'probe'
  | 'password'
  | 'username'
  | 'combination'
  | 'port'
  | LabelFilterKey;

/**
 * The keys a stats query groups by (up to MAX_GROUP_BY), series labelled and table rows keyed by
 * all of them; [] = no grouping. Older versions saved one key as a string ("" = none), which
 * migrateQuery turns into a list; the backend accepts both, and "asn,trap".
 */
export type GroupByKeys = Array<GroupBy | VariableRef>;

/** map = one row per country code with its value, for the Geomap panel. */
export type Format = 'timeseries' | 'table' | 'map';

/** "" = follow the dashboard's time range and interval; the others are the original fixed periods. */
export type Period = '' | '1h' | '6h' | '1d' | '1w' | '1m' | '3m' | '1y';

/**
 * Filters of a stats query (probe … command) and of a greylist query (tag, country, asn); also the
 * shape of a stats query's `exclude` (every key but tag).
 * Every list holds strings, also probe, asn and port: a saved query may hold `$variable`
 * references, and the backend parses numeric strings (internal/query lenient decoding).
 * Empty or absent = no filter. The backend refuses a key that is not one of these.
 */
export interface Filters {
  /** identity ids (the `value` of variables/probes) */
  probe?: string[];
  asn?: string[];
  /** ISO 3166 alpha-2 codes */
  country?: string[];
  trap?: string[];
  action?: string[];
  /** attacker addresses and CIDR prefixes, any of them (older versions saved one string) */
  ip?: string[];
  /** passwords, any of them, each compared exactly as written (older versions saved one string) */
  password?: string[];
  /** usernames, any of them, each compared exactly as written (older versions saved one string) */
  username?: string[];
  port?: string[];
  /** feed events: IntelMQ classification.taxonomy (the backend lower-cases it) */
  taxonomy?: string[];
  /** feed events: IntelMQ classification.type (the backend lower-cases it) */
  type?: string[];
  /** feed events: IntelMQ classification.identifier, as given */
  identifier?: string[];
  /** feed events: the feed's name, as given */
  feed?: string[];
  /** feed events: the feed's provider, as given */
  provider?: string[];
  /** commands typed in HaaS sessions, each compared whole as typed */
  command?: string[];
  /** greylist only: greylist tags */
  tag?: string[];
}

/**
 * Filters of free text compared as given (internal/query/labels.go), also groupings: a value may
 * hold commas and spaces (a command), so it is never split.
 */
export type LabelFilterKey = 'taxonomy' | 'type' | 'identifier' | 'feed' | 'provider' | 'command';
/** Passwords and usernames: free text compared as written, never split (a password may hold commas). */
export type TextFilterKey = 'password' | 'username';
export type ListFilterKey =
  | 'probe'
  | 'asn'
  | 'country'
  | 'trap'
  | 'action'
  | 'ip'
  | 'port'
  | 'tag'
  | TextFilterKey
  | LabelFilterKey;

/** Ad-hoc filter operators the backend applies: equal, not equal, one of, not one of. */
export type AdhocOperator = '=' | '!=' | '=|' | '!=|';

/** One ad-hoc filter as the backend reads it (Grafana's AdHocVariableFilter without its UI fields). */
export interface AdhocFilter {
  key: string;
  /** any operator Grafana offers is sent; the backend names the ones it does not support */
  operator: string;
  value: string;
  /** the values of =| and !=| */
  values?: string[];
}

/** A dashboard variable reference (`$name`, `${name}`, `${name:format}`), replaced before sending. */
export type VariableRef = `$${string}`;

export interface SviewQuery extends DataQuery {
  queryType?: QueryType;

  // stats
  /** a name from the original catalog (variables/presets); explicit fields below override it */
  preset?: string;
  metric?: Metric | VariableRef;
  groupBy?: GroupByKeys | GroupBy | VariableRef;
  /** a trend's formats are TrendFormat */
  format?: Format | TrendFormat | VariableRef;
  period?: Period | VariableRef;
  /** top-N for groupBy (stats) or rows (greylist); absent = backend default (7 timeseries, 15 table) */
  limit?: number;
  filters?: Filters;
  /** rows matching any of these values are left out (a row without the value is kept); no tag */
  exclude?: Filters;
  /**
   * the dashboard's ad-hoc filters, added by applyTemplateVariables, never saved: the backend ANDs
   * them with the filters above (docs/query-model.md, "Ad-hoc filters")
   */
  adhoc?: AdhocFilter[];

  // greylist (also uses filters.tag/country/asn and limit)
  minScore?: number;

  // trend (also uses metric, groupBy, format, period, limit, filters and exclude)
  /** rising (default) ranks the steepest climbs first, falling the steepest declines */
  direction?: TrendDirection;
  /** the one number of a numeric trend (default slope_per_day) */
  measure?: TrendMeasure;

  // leak: exactly one of these. A typed password is never part of the model (the backend refuses
  // one): the leak editor hashes it in the browser and stores the SHA-1.
  /** a dashboard variable only; DataSource.query hashes its value before sending, as `sha1` */
  password?: VariableRef;
  /** 40 hex digits, lower-case as internal/leak writes them */
  sha1?: string;
  /** the first 5 to 40 hex digits of a SHA-1 */
  prefix?: string;

  // annotations (greylist: filters.ip and asn; silence: filters.probe; also limit)
  annotation?: AnnotationKind;

  // events (also filters, exclude and limit: the rows of one page, newest first)
  events?: EventsKind;
  /** only rows strictly older: RFC 3339 or epoch ms, the nextBefore of the previous page */
  before?: string;

  // live (also uses filters, exclude, and format: table, the default, streams the events,
  // timeseries the incidents per second): a Grafana Live stream, not a backend query (live.ts)
  /** events per second at most (default 50, 1 to 1000); the rest is counted as dropped */
  rate?: number;
}

export const DEFAULT_QUERY: Partial<SviewQuery> = {
  queryType: 'stats',
  metric: 'incidents',
  groupBy: '',
  format: 'timeseries',
  period: '',
};

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
/** What queries do while the read replica is unreachable (settings.go ReadFallback). */
export type ReadFallback = 'primary' | 'none';

export type RedisMode = 'single' | 'sentinel' | 'cluster';

/**
 * jsonData: plain settings of one datasource instance (plugin/pkg/plugin/settings.go reads them;
 * its defaults are in SETTING_DEFAULTS of the config editor).
 */
export interface SviewOptions extends DataSourceJsonData {
  /** PostgreSQL primary: host name or address, without port or scheme (required) */
  host?: string;
  port?: number;
  /** required */
  database?: string;
  /** a login with the sview_reader role (required) */
  user?: string;
  sslMode?: SslMode;
  /** postgres:// URL of a streaming replica to read from, without password; user and password default to the primary's */
  readReplicaUrl?: string;
  /** while the replica is unreachable: 'primary' (default) reads from the primary, 'none' fails the queries */
  readReplicaFallback?: ReadFallback;
  /** host:port; several comma-separated for sentinel or cluster mode; empty = in-process cache only */
  redisAddress?: string;
  redisMode?: RedisMode;
  /** sentinel mode: the name of the monitored master */
  redisMasterName?: string;
  /** Redis ACL user; empty = default user */
  redisUser?: string;
  /** database number (single and sentinel mode) */
  redisDB?: number;
  redisTLS?: boolean;
  /** prefix of every cache key, to share one Redis between installations */
  redisKeyPrefix?: string;
  /** seconds, at most 3600 */
  queryTimeoutSeconds?: number;
  /** cap on rows of one table or map result */
  maxRows?: number;
  /** period → cache TTL as a Go duration ("2m", "1h"); absent periods keep DESIGN §3's TTL */
  cacheTtlOverrides?: Partial<Record<Exclude<Period, ''>, string>>;
  /** who may see what (docs/security.md); absent = admins all, everyone else public */
  scopes?: ScopeRule[];
  /** team name → logins: Grafana does not tell a plugin the user's teams */
  teams?: Record<string, string[]>;
  /** what alert rules see; absent = public */
  alertScope?: ScopeGrant;
}

/** What a scope rule grants (plugin/pkg/plugin/scope.go). */
export interface ScopeGrant {
  all?: boolean;
  public?: boolean;
  /** when every probe reported (probes query, silence annotations), none of its attack data */
  activity?: boolean;
  probes?: number[];
  asns?: number[];
  prefixes?: string[];
}

/** One scope rule: exactly one of login, email, team, role or everyone, and its grant. */
export interface ScopeRule extends ScopeGrant {
  login?: string;
  email?: string;
  team?: string;
  role?: 'Viewer' | 'Editor' | 'Admin';
  everyone?: boolean;
}

/** secureJsonData: write-only secrets. */
export interface SviewSecureJsonData {
  password?: string;
  /** the read replica's password when it differs from the primary's */
  readReplicaPassword?: string;
  redisPassword?: string;
}

/** One value of a resource endpoint `variables/{kind}` (docs/plugin-resources.md). */
export interface VariableValue {
  value: string;
  text: string;
}

export type VariableKind =
  | 'probes'
  | 'asns'
  | 'countries'
  | 'traps'
  | 'actions'
  | 'presets'
  | 'periods'
  | 'tags'
  // by volume within a time range only (the values of ad-hoc filters)
  | 'ips'
  | 'ports'
  | 'passwords'
  | 'usernames'
  | 'taxonomies'
  | 'types'
  | 'identifiers'
  | 'feeds'
  | 'providers'
  | 'commands';

/** The query of a dashboard variable that uses this datasource. */
export interface SviewVariableQuery extends DataQuery {
  kind: VariableKind;
  /** optional case-insensitive substring filter (`q`), may hold $variables */
  search?: string;
  /** optional cap on the number of values */
  limit?: number;
}

export interface LeakMatch {
  hash: string;
  count: number;
  sources: string[];
}
