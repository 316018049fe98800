/**
 * Every panel of every dashboard, fed the backend's real answer to its queries, must leave a
 * value to show once Grafana's own @grafana/data has decoded the frames and applied the panel's
 * transformations, field matchers and reduce options: what a viewer would see, short of the
 * drawing. The answers are golden files written by the Go test of dashboards/
 * (`go test ./dashboards -run TestPanelsThroughBackend -update`), which runs every panel's
 * queries through the plugin backend against a seeded database; they hold the frames as
 * Grafana's /api/ds/query returns them.
 */
import fs from 'fs';
import path from 'path';
import { lastValueFrom } from 'rxjs';
import {
  createTheme,
  DataFrame,
  DataFrameJSON,
  dataFrameFromJSON,
  DataTransformerConfig,
  FieldConfigSource,
  FieldType,
  getFieldDisplayName,
  getFieldDisplayValues,
  getFieldMatcher,
  ReduceDataOptions,
  standardTransformers,
  standardTransformersRegistry,
  transformDataFrame,
  TransformerRegistryItem,
} from '@grafana/data';

const DASHBOARDS = path.resolve(__dirname, '../../dashboards');
const GOLDEN = path.join(DASHBOARDS, 'testdata', 'frames');

interface Layer {
  location?: { mode?: string; lookup?: string };
  config?: { style?: { color?: { field?: string }; size?: { field?: string } } };
}

interface Panel {
  id: number;
  type: string;
  title: string;
  targets?: Array<{ refId: string; queryType?: string }>;
  panels?: Panel[];
  transformations?: DataTransformerConfig[];
  fieldConfig?: FieldConfigSource;
  options?: { reduceOptions?: ReduceDataOptions; layers?: Layer[] };
}

interface Dashboard {
  uid: string;
  panels: Panel[];
}

/** backend.QueryDataResponse as JSON: what /api/ds/query answers. */
interface QueryDataResponse {
  results: Record<string, { status?: number; error?: string; frames?: DataFrameJSON[] }>;
}

interface Golden {
  dashboard: string;
  variables: Record<string, string[]>;
  panels: Record<string, QueryDataResponse>;
}

// Grafana registers its transformers at start-up; @grafana/data's standard ones are those the
// dashboards use (calculateField, filterByValue, …). An unknown id makes get() throw.
// Two entries of standardTransformers share the id noop: keep the first of each id.
standardTransformersRegistry.setInit(() =>
  Object.values(standardTransformers)
    .filter((t, i, all) => all.findIndex((o) => o.id === t.id) === i)
    .map((t): TransformerRegistryItem => ({
      id: t.id,
      name: t.name,
      description: t.description,
      transformation: t,
      editor: () => null,
      imageDark: '',
      imageLight: '',
    }))
);

const theme = createTheme();

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

/** $name, ${name} and ${name:format} replaced by the values the golden answers were made with. */
function interpolator(vars: Record<string, string[]>) {
  return (text: string) =>
    text.replace(/\$\{([A-Za-z0-9_]+)(?::[a-z]+)?\}|\$([A-Za-z0-9_]+)/g, (m, a?: string, b?: string) => {
      const values = vars[a ?? b ?? ''];
      return values ? values.join(',') : m;
    });
}

/** The frames of a panel's targets, decoded as Grafana's frontend decodes them. */
function decode(panel: Panel, answer: QueryDataResponse | undefined): DataFrame[] {
  const frames: DataFrame[] = [];
  for (const t of panel.targets ?? []) {
    const r = answer?.results[t.refId];
    if (!r) {
      throw new Error(
        `no golden answer for refId ${t.refId}: run go test ./dashboards -run TestPanelsThroughBackend -update`
      );
    }
    if (r.error) {
      throw new Error(`refId ${t.refId} answered an error: ${r.error}`);
    }
    for (const f of r.frames ?? []) {
      frames.push({ ...dataFrameFromJSON(f), refId: t.refId });
    }
  }
  return frames;
}

function hasField(frames: DataFrame[], name: string): DataFrame | undefined {
  return frames.find(
    (f) => f.length > 0 && f.fields.some((fd) => fd.name === name || getFieldDisplayName(fd, f, frames) === name)
  );
}

/**
 * Why the panel would show nothing from these frames, or undefined when it has a value to show.
 */
async function nothingToShow(
  panel: Panel,
  decoded: DataFrame[],
  vars: Record<string, string[]>
): Promise<string | undefined> {
  const interpolate = interpolator(vars);
  const frames = await lastValueFrom(transformDataFrame(panel.transformations ?? [], decoded, { interpolate }));
  for (const o of panel.fieldConfig?.overrides ?? []) {
    const matches = getFieldMatcher(o.matcher);
    if (!frames.some((f) => f.fields.some((fd) => matches(fd, f, frames)))) {
      return `override matcher ${JSON.stringify(o.matcher)} matches no field`;
    }
  }
  const fields = frames.flatMap((f) =>
    f.fields.map((fd) => `${getFieldDisplayName(fd, f, frames)}:${fd.type}[${f.length}]`)
  );
  switch (panel.type) {
    case 'stat':
    case 'gauge':
    case 'bargauge': {
      const values = getFieldDisplayValues({
        data: frames,
        reduceOptions: panel.options?.reduceOptions ?? { calcs: [] },
        fieldConfig: panel.fieldConfig ?? { defaults: {}, overrides: [] },
        replaceVariables: interpolate,
        theme,
        timeZone: 'utc',
      });
      // A string field's count is shown as text, with no numeric value.
      const shown = values.filter(
        (v) => v.name !== 'No data' && (Number.isFinite(v.display.numeric) || (v.display.text ?? '') !== '')
      );
      return shown.length > 0
        ? undefined
        : `no value: reduceOptions ${JSON.stringify(panel.options?.reduceOptions)} over ${fields.join(', ')}`;
    }
    case 'timeseries':
    case 'barchart': {
      const ok = frames.some(
        (f) =>
          f.length > 0 &&
          f.fields.some((fd) => fd.type === FieldType.time) &&
          f.fields.some((fd) => fd.type === FieldType.number)
      );
      return ok ? undefined : `no time series with rows: ${fields.join(', ')}`;
    }
    case 'table':
      return frames.some((f) => f.length > 0 && f.fields.length > 0) ? undefined : `no rows: ${fields.join(', ')}`;
    case 'geomap':
      for (const layer of panel.options?.layers ?? []) {
        const lookup = layer.location?.mode === 'lookup' ? layer.location.lookup : undefined;
        const want = [lookup, layer.config?.style?.color?.field, layer.config?.style?.size?.field].filter(
          (n): n is string => !!n
        );
        for (const name of want) {
          if (!hasField(frames, name)) {
            return `no field ${name} with rows for the map layer: ${fields.join(', ')}`;
          }
        }
      }
      return frames.some((f) => f.length > 0) ? undefined : 'no rows';
    case 'row':
    case 'text':
      return undefined;
  }
  return `panel type ${panel.type}: no check`;
}

const files = fs.readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'));

describe.each(files)('dashboard %s', (file) => {
  const dashboard: Dashboard = JSON.parse(fs.readFileSync(path.join(DASHBOARDS, file), 'utf8'));
  const goldenPath = path.join(GOLDEN, file);
  // Live targets are Grafana Live streams, not QueryData queries: they have no golden answers
  // (dashboards/live_test.go, internal/live and the plugin's stream tests cover them).
  const panels = allPanels(dashboard.panels).filter(
    (p) => (p.targets ?? []).length > 0 && !(p.targets ?? []).every((t) => t.queryType === 'live')
  );

  it('has golden answers unless it only streams', () => {
    expect(fs.existsSync(goldenPath)).toBe(panels.length > 0);
  });

  if (panels.length > 0) {
    it.each(panels.map((p): [string, Panel] => [`${p.id} ${p.title}`, p]))(
      'panel %s has a value to show',
      async (_, panel) => {
        const golden: Golden = JSON.parse(fs.readFileSync(goldenPath, 'utf8'));
        expect(golden.dashboard).toBe(dashboard.uid);
        const why = await nothingToShow(panel, decode(panel, golden.panels[String(panel.id)]), golden.variables);
        expect(why).toBeUndefined();
      }
    );
  }
});

describe('the check sees what Grafana sees', () => {
  const health: Dashboard = JSON.parse(fs.readFileSync(path.join(DASHBOARDS, 'system-health.json'), 'utf8'));
  const golden: Golden = JSON.parse(fs.readFileSync(path.join(GOLDEN, 'system-health.json'), 'utf8'));
  const panel = (id: number): Panel => {
    const p = health.panels.find((x) => x.id === id);
    if (!p) {
      throw new Error(`system-health.json has no panel ${id}`);
    }
    return p;
  };

  // Before the status frames named their fields, Grafana displayed "cache degraded" and
  // "aggregation_lag lag_seconds" (two frames of different names), and the stat panels'
  // matchers /^degraded$/ and /^lag_seconds$/ found nothing: "No data".
  it('finds nothing to show in frames whose fields Grafana names after their frame', async () => {
    const answer: QueryDataResponse = JSON.parse(JSON.stringify(golden.panels['2']));
    for (const r of Object.values(answer.results)) {
      for (const f of r.frames ?? []) {
        for (const fd of f.schema?.fields ?? []) {
          if (fd.config) {
            delete fd.config.displayNameFromDS;
          }
        }
      }
    }
    const why = await nothingToShow(panel(2), decode(panel(2), answer), golden.variables);
    expect(why).toMatch(/no value.*cache degraded/);
  });

  it('shows the overdue seconds and the cache state', async () => {
    for (const id of [1, 2]) {
      expect(
        await nothingToShow(panel(id), decode(panel(id), golden.panels[String(id)]), golden.variables)
      ).toBeUndefined();
    }
  });
});
