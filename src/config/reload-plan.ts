// What a reload (SIGHUP) has to do, decided by a pure function of the running and the new site
// file. The rules live in the site schema, next to the keys they govern (`x-reload` on a property,
// as Zigbee2MQTT marks `requiresRestart`); this module only walks the schema and the two files.
//
//   devices     every device restarts (the names that topics are rendered from changed)
//   uplink      the MQTT connection and the forwarder are rebuilt (the journal stays open)
//   http        the metrics/health server restarts
//   next_start  applies only when the process starts again; the running value is kept
//
// A changed device (or one that is added or removed) restarts on its own: its resolved settings,
// inherited ones included, are compared as a whole. A key with no rule is treated as needing
// everything, so forgetting a rule costs a reconnect, never a setting silently ignored.
import { isRecord } from '../util/is-record.js';
import type { SiteConfig } from './site-config.js';
import type { JsonSchema } from './schema-units.js';
import { topLevelSchema } from './site-schema.js';

export const RELOAD_EFFECTS = ['devices', 'uplink', 'http', 'next_start'] as const;
export type ReloadEffect = (typeof RELOAD_EFFECTS)[number];
export const RELOAD_KEYWORD = 'x-reload';

export interface ReloadPlan {
  /** Rebuild the uplink and forwarder. */
  reconnect: boolean;
  /** Restart the metrics/health server. */
  restartHttp: boolean;
  /** Changed keys that wait for the next start (their running values are kept). */
  nextStart: string[];
  /** Devices to stop: removed, changed, or all when `devices` applies. */
  stop: string[];
  /** Devices to start: added, changed, or all; in the order of the new file. */
  start: string[];
  /** Every changed key path outside `devices`, for the log. */
  changed: string[];
}

interface Change {
  path: string[];
  effects: readonly ReloadEffect[];
}

const EVERYTHING: readonly ReloadEffect[] = ['devices', 'uplink', 'http'];

export function planReload(before: SiteConfig, after: SiteConfig, schema: JsonSchema = topLevelSchema()): ReloadPlan {
  const changes: Change[] = [];
  const { devices: _b, ...restBefore } = before;
  const { devices: _a, ...restAfter } = after;
  diff(restBefore, restAfter, schema, [], undefined, changes);
  const effects = new Set(changes.flatMap((c) => c.effects));
  const all = effects.has('devices');
  const oldByName = new Map(before.devices.map((d) => [d.name, JSON.stringify(d)]));
  const newByName = new Map(after.devices.map((d) => [d.name, JSON.stringify(d)]));
  const stop = before.devices.map((d) => d.name).filter((n) => all || newByName.get(n) !== oldByName.get(n));
  const start = after.devices.map((d) => d.name).filter((n) => all || newByName.get(n) !== oldByName.get(n));
  return {
    reconnect: effects.has('uplink'),
    restartHttp: effects.has('http'),
    nextStart: changes.filter((c) => c.effects.includes('next_start')).map((c) => c.path.join('.')),
    stop,
    start,
    changed: changes.map((c) => c.path.join('.')),
  };
}

/** The new file as it will actually run: keys that wait for the next start keep their running values. */
export function runningConfig(before: SiteConfig, after: SiteConfig, plan: ReloadPlan): SiteConfig {
  const out = structuredClone(after) as unknown as Record<string, unknown>;
  for (const key of plan.nextStart) {
    const path = key.split('.');
    const old = path.reduce<unknown>((v, k) => (isRecord(v) ? v[k] : undefined), before);
    let target: Record<string, unknown> = out;
    for (const k of path.slice(0, -1)) {
      if (!isRecord(target[k])) target[k] = {};
      target = target[k] as Record<string, unknown>;
    }
    const last = path.at(-1)!;
    if (old === undefined) delete target[last];
    else target[last] = structuredClone(old);
  }
  return out as unknown as SiteConfig;
}

/** The effects a property's schema declares, or undefined. */
export function reloadEffects(schema: JsonSchema | undefined): readonly ReloadEffect[] | undefined {
  const rule = (schema as Record<string, unknown> | undefined)?.[RELOAD_KEYWORD];
  return Array.isArray(rule) ? (rule as ReloadEffect[]) : undefined;
}

function diff(
  before: unknown, after: unknown, schema: JsonSchema | undefined, path: string[],
  inherited: readonly ReloadEffect[] | undefined, out: Change[],
): void {
  if (JSON.stringify(before) === JSON.stringify(after)) return;
  const own = path.length === 0 ? undefined : reloadEffects(schema);
  const effects = own ?? inherited;
  const properties = (schema as { properties?: Record<string, JsonSchema> } | undefined)?.properties;
  const nestedRules = properties !== undefined && Object.values(properties).some((p) => reloadEffects(p) !== undefined);
  if ((path.length === 0 || nestedRules) && isRecord(before ?? {}) && isRecord(after ?? {})) {
    const b = (before ?? {}) as Record<string, unknown>;
    const a = (after ?? {}) as Record<string, unknown>;
    for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
      // `x-…` only holds anchors; what it changes shows up where it is merged.
      if (path.length === 0 && key.startsWith('x-')) continue;
      diff(b[key], a[key], properties?.[key], [...path, key], effects, out);
    }
    return;
  }
  out.push({ path, effects: effects ?? EVERYTHING });
}

