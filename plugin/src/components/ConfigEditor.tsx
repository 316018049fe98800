import React from 'react';
import { DataSourcePluginOptionsEditorProps, SelectableValue } from '@grafana/data';
import {
  Field,
  FieldSet,
  Input,
  InlineField,
  InlineFieldRow,
  RadioButtonGroup,
  SecretInput,
  Select,
  Switch,
} from '@grafana/ui';

import { PERIOD_OPTIONS } from '../catalog';
import { AccessEditor } from './AccessEditor';
import { Period, ReadFallback, RedisMode, SslMode, SviewOptions, SviewSecureJsonData } from '../types';

type Props = DataSourcePluginOptionsEditorProps<SviewOptions, SviewSecureJsonData>;
type PeriodName = Exclude<Period, ''>;

const SSL_MODES: Array<SelectableValue<SslMode>> = [
  { value: 'disable', label: 'disable', description: 'No TLS' },
  { value: 'allow', label: 'allow', description: 'TLS only if the server insists' },
  { value: 'prefer', label: 'prefer', description: 'TLS when the server offers it (libpq default)' },
  { value: 'require', label: 'require', description: 'TLS, certificate not checked' },
  { value: 'verify-ca', label: 'verify-ca', description: 'TLS, certificate signed by a trusted CA' },
  { value: 'verify-full', label: 'verify-full', description: 'TLS, trusted certificate for this host name' },
];

const REDIS_MODES: Array<SelectableValue<RedisMode>> = [
  { value: 'single', label: 'Single node' },
  { value: 'sentinel', label: 'Sentinel', description: 'Addresses are the sentinels; needs the master name' },
  { value: 'cluster', label: 'Cluster', description: 'Addresses are cluster nodes' },
];

const READ_FALLBACKS: Array<SelectableValue<ReadFallback>> = [
  { value: 'primary', label: 'Use the primary', description: 'Queries go to the primary until the replica is back' },
  { value: 'none', label: 'Fail', description: 'Queries fail, naming the unreachable replica' },
];

// Go's time.ParseDuration syntax, as the backend parses the overrides.
const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

/** Defaults the backend (plugin/pkg/plugin/settings.go) applies to empty fields; shown as placeholders. */
export const SETTING_DEFAULTS = {
  port: 5432,
  sslMode: 'prefer' as SslMode,
  queryTimeoutSeconds: 60,
  maxQueryTimeoutSeconds: 3600,
  maxRows: 100000,
};

// What the backend refuses in a host name (it wants no port, scheme, path or user).
const BAD_HOST = /[ /?#@]/;

/** The settings that are free text, where any string (or none) is valid. */
type TextSettingKey = {
  [K in keyof SviewOptions]-?: string extends SviewOptions[K] ? K : never;
}[keyof SviewOptions];

function positiveInt(raw: string): number | undefined {
  const n = Number(raw);
  return raw.trim() !== '' && Number.isInteger(n) && n > 0 ? n : undefined;
}

export function ConfigEditor({ options, onOptionsChange }: Props) {
  const jsonData = options.jsonData;
  const secureJsonFields = options.secureJsonFields ?? {};
  const secureJsonData = (options.secureJsonData ?? {}) as SviewSecureJsonData;

  const setJson = <K extends keyof SviewOptions>(key: K, value: SviewOptions[K]) => {
    onOptionsChange({ ...options, jsonData: { ...jsonData, [key]: value } });
  };
  const setSecret = (key: keyof SviewSecureJsonData, value: string) => {
    onOptionsChange({ ...options, secureJsonData: { ...secureJsonData, [key]: value } });
  };
  const resetSecret = (key: keyof SviewSecureJsonData) => {
    onOptionsChange({
      ...options,
      secureJsonFields: { ...secureJsonFields, [key]: false },
      secureJsonData: { ...secureJsonData, [key]: '' },
    });
  };
  // One text setting: an empty field removes the key, so the backend's default applies.
  const textInput = (key: TextSettingKey, id: string, placeholder: string, width = 40) => (
    <Input
      id={id}
      width={width}
      value={jsonData[key] ?? ''}
      placeholder={placeholder}
      onChange={(e) => setJson(key, e.currentTarget.value || undefined)}
    />
  );
  const secretInput = (key: keyof SviewSecureJsonData, id: string) => (
    <SecretInput
      id={id}
      width={40}
      isConfigured={!!secureJsonFields[key]}
      value={secureJsonData[key] ?? ''}
      onChange={(e) => setSecret(key, e.currentTarget.value)}
      onReset={() => resetSecret(key)}
    />
  );
  const setTtl = (period: PeriodName, value: string) => {
    const overrides = { ...jsonData.cacheTtlOverrides };
    if (value === '') {
      delete overrides[period];
    } else {
      overrides[period] = value;
    }
    setJson('cacheTtlOverrides', Object.keys(overrides).length > 0 ? overrides : undefined);
  };

  const redisMode = jsonData.redisMode ?? 'single';
  const hostError =
    jsonData.host && BAD_HOST.test(jsonData.host)
      ? 'Only the host name or address: no scheme, path or user.'
      : undefined;
  let replicaError: string | undefined;
  if (jsonData.readReplicaUrl) {
    try {
      const u = new URL(jsonData.readReplicaUrl);
      if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
        replicaError = 'Want a postgres:// URL.';
      } else if (u.password) {
        replicaError = 'Put the password in the replica password field, not in the URL.';
      }
    } catch {
      replicaError = 'Want a URL such as postgres://reader@replica:5432/sview.';
    }
  }
  const timeout = jsonData.queryTimeoutSeconds;
  const timeoutError =
    timeout !== undefined && timeout > SETTING_DEFAULTS.maxQueryTimeoutSeconds
      ? `At most ${SETTING_DEFAULTS.maxQueryTimeoutSeconds} seconds.`
      : undefined;
  const portText = jsonData.port === undefined ? '' : String(jsonData.port);
  const portInvalid = portText !== '' && !((positiveInt(portText) ?? 0) <= 65535 && positiveInt(portText));

  return (
    <>
      <FieldSet label="PostgreSQL">
        <Field
          label="Host"
          required
          description="Name or address of the PostgreSQL primary (or a pooler in front of it), without port."
          invalid={!!hostError}
          error={hostError}
        >
          {textInput('host', 'config-host', 'db.example.org')}
        </Field>
        <Field
          label="Port"
          description="TCP port of the server."
          invalid={portInvalid}
          error="A port is a whole number from 1 to 65535."
        >
          <Input
            id="config-port"
            type="number"
            width={12}
            value={portText}
            placeholder={String(SETTING_DEFAULTS.port)}
            onChange={(e) => setJson('port', e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value))}
          />
        </Field>
        <Field
          label="Database"
          required
          description="Database holding the sview schema (migrations applied by `sview migrate up`)."
        >
          {textInput('database', 'config-database', 'sview')}
        </Field>
        <Field
          label="User"
          required
          description="A login with the read-only role sview_reader; the plugin never writes."
        >
          {textInput('user', 'config-user', 'grafana')}
        </Field>
        <Field label="Password" description="Stored encrypted by Grafana; never sent back to the browser.">
          {secretInput('password', 'config-password')}
        </Field>
        <Field
          label="TLS mode"
          description="libpq sslmode: how strictly the connection must be encrypted and the server verified."
        >
          <Select<SslMode>
            inputId="config-ssl-mode"
            width={40}
            options={SSL_MODES}
            value={jsonData.sslMode ?? SETTING_DEFAULTS.sslMode}
            onChange={(v) => setJson('sslMode', v.value)}
          />
        </Field>
        <Field
          label="Read replica URL"
          description="Optional postgres:// URL (without password) of a streaming replica that serves the queries; user and password default to the above."
          invalid={!!replicaError}
          error={replicaError}
        >
          {textInput(
            'readReplicaUrl',
            'config-read-replica',
            'postgres://replica.example:5432/sview?sslmode=verify-full',
            60
          )}
        </Field>
        {jsonData.readReplicaUrl && (
          <Field
            label="Replica password"
            description="Only when the replica's login has another password than the primary's."
          >
            {secretInput('readReplicaPassword', 'config-replica-password')}
          </Field>
        )}
        {jsonData.readReplicaUrl && (
          <Field
            label="While the replica is down"
            description="Send the queries to the primary (the default), or fail them with the reason, e.g. to keep the primary free for ingest and rollups."
          >
            <RadioButtonGroup<ReadFallback>
              options={READ_FALLBACKS}
              value={jsonData.readReplicaFallback ?? 'primary'}
              onChange={(v) => setJson('readReplicaFallback', v)}
            />
          </Field>
        )}
      </FieldSet>

      <FieldSet label="Redis cache">
        <Field
          label="Address"
          description="host:port (comma-separated for sentinel or cluster); empty keeps the cache in this Grafana process only."
        >
          {textInput('redisAddress', 'config-redis-address', 'redis:6379', 60)}
        </Field>
        <Field label="Mode" description="How the addresses are used: one node, Redis Sentinel or Redis Cluster.">
          <Select<RedisMode>
            inputId="config-redis-mode"
            width={40}
            options={REDIS_MODES}
            value={redisMode}
            onChange={(v) => setJson('redisMode', v.value)}
          />
        </Field>
        {redisMode === 'sentinel' && (
          <Field
            label="Master name"
            description="The name under which the sentinels monitor the master."
            invalid={!jsonData.redisMasterName}
            error="Sentinel mode needs the master name."
          >
            {textInput('redisMasterName', 'config-redis-master', 'mymaster')}
          </Field>
        )}
        <Field label="User" description="Redis ACL user; empty for the default user.">
          {textInput('redisUser', 'config-redis-user', 'default')}
        </Field>
        <Field label="Password" description="Redis AUTH password, stored encrypted; empty when Redis has none.">
          {secretInput('redisPassword', 'config-redis-password')}
        </Field>
        {redisMode !== 'cluster' && (
          <Field label="Database number" description="Redis logical database (Cluster has only 0).">
            <Input
              id="config-redis-db"
              type="number"
              min={0}
              width={12}
              value={jsonData.redisDB ?? ''}
              placeholder="0"
              onChange={(e) => {
                const n = Number(e.currentTarget.value);
                setJson('redisDB', e.currentTarget.value !== '' && Number.isInteger(n) && n >= 0 ? n : undefined);
              }}
            />
          </Field>
        )}
        <Field label="TLS" description="Connect to Redis over TLS.">
          <Switch
            id="config-redis-tls"
            value={!!jsonData.redisTLS}
            onChange={(e) => setJson('redisTLS', e.currentTarget.checked || undefined)}
          />
        </Field>
        <Field
          label="Key prefix"
          description="Prefix of every cache key, so several installations can share one Redis."
        >
          {textInput('redisKeyPrefix', 'config-redis-prefix', 'built-in prefix')}
        </Field>
      </FieldSet>

      <FieldSet label="Limits">
        <Field
          label="Query timeout (seconds)"
          description="A query running longer is cancelled on the server and reported as a timeout."
          invalid={!!timeoutError}
          error={timeoutError}
        >
          <Input
            id="config-query-timeout"
            type="number"
            min={1}
            width={12}
            value={jsonData.queryTimeoutSeconds ?? ''}
            placeholder={String(SETTING_DEFAULTS.queryTimeoutSeconds)}
            onChange={(e) => setJson('queryTimeoutSeconds', positiveInt(e.currentTarget.value))}
          />
        </Field>
        <Field
          label="Max rows"
          description="Largest table or map result; longer results are cut with a notice on the frame."
        >
          <Input
            id="config-max-rows"
            type="number"
            min={1}
            width={12}
            value={jsonData.maxRows ?? ''}
            placeholder={String(SETTING_DEFAULTS.maxRows)}
            onChange={(e) => setJson('maxRows', positiveInt(e.currentTarget.value))}
          />
        </Field>
        <Field
          label="Cache TTL overrides"
          description="Per period, how long a cached result is served (Go duration such as 90s, 10m, 2h); empty keeps the built-in TTL."
        >
          <InlineFieldRow>
            {PERIOD_OPTIONS.filter((p) => p.value !== '').map((p) => {
              const period = p.value as PeriodName;
              const value = jsonData.cacheTtlOverrides?.[period] ?? '';
              const bad = value !== '' && !GO_DURATION.test(value);
              return (
                <InlineField
                  key={period}
                  label={period}
                  labelWidth={5}
                  invalid={bad}
                  error={bad ? `"${value}" is not a duration like 10m` : undefined}
                >
                  <Input
                    id={`config-ttl-${period}`}
                    width={9}
                    value={value}
                    placeholder="default"
                    onChange={(e) => setTtl(period, e.currentTarget.value.trim())}
                  />
                </InlineField>
              );
            })}
          </InlineFieldRow>
        </Field>
      </FieldSet>
      <AccessEditor
        jsonData={jsonData}
        onChange={(access) => onOptionsChange({ ...options, jsonData: { ...jsonData, ...access } })}
      />
    </>
  );
}
