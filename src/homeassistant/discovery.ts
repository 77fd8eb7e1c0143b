// Home Assistant MQTT discovery, device-based: one retained message per device on
// `<prefix>/device/<id>/config` with the device (`dev`), the origin (`o`), one component per point
// (`cmps`) and availability; the gateway itself is a device the others are `via_device` of.
// Pure: the site in, the messages out, so `fieldgate ha preview` prints exactly what is published.
//
// Availability is "all" of two topics: the gateway's status (its last will says offline) and a
// retained per-device topic that follows the device's health, so a dead meter shows unavailable
// while the gateway is online.
import type { DeviceConfigBase, DriverDescriptor, PointConfigBase, PointValueType } from '../driver-api/index.js';
import type { ResolvedSite } from '../config/resolved-site.js';
import { batchTopic, encodingOf, formatOf, pointTopic } from '../mapping/reading-mapper.js';
import { unitClasses } from './unit-classes.js';

export interface DiscoveryMessage {
  topic: string;
  /** The JSON config; '' removes what was discovered on the topic. */
  payload: string;
}

/** One device's discovery config, with the platform of each component (removals need it). */
export interface DeviceDiscovery {
  topic: string;
  config: Record<string, unknown>;
  platforms: Map<string, string>;
}

export interface DiscoveryPlan {
  prefix: string;
  devices: DeviceDiscovery[];
  /** Devices left out, with the reason (CBOR payloads, which Home Assistant cannot read). */
  skipped: { device: string; reason: string }[];
}

export interface DiscoveryOptions {
  version: string;
  /** What a point carries, from its driver (undefined when the driver cannot tell). */
  valueType(device: DeviceConfigBase, point: PointConfigBase): PointValueType | undefined;
}

export const ONLINE = 'online';
export const OFFLINE = 'offline';

/** Retained online/offline of one device, following its health. */
export function deviceAvailabilityTopic(statusTopic: string, device: string): string {
  return `${statusTopic}/device/${device}`;
}

/** Home Assistant's object ids take letters, digits, `_` and `-` only. */
export function objectId(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_');
}

export function gatewayId(site: Pick<ResolvedSite, 'site' | 'gateway'>): string {
  return objectId(`fieldgate_${site.site}_${site.gateway}`);
}

export function planDiscovery(site: ResolvedSite, prefix: string, options: DiscoveryOptions): DiscoveryPlan {
  const gwId = gatewayId(site);
  const origin = { name: 'fieldgate', sw: options.version };
  const status = site.mqtt.statusTopic;
  const devices: DeviceDiscovery[] = [{
    topic: `${prefix}/device/${gwId}/config`,
    config: {
      dev: { ids: [gwId], name: `fieldgate ${site.gateway}`, mf: 'fieldgate', mdl: 'gateway', sw: options.version },
      o: origin,
      cmps: {
        status: {
          p: 'binary_sensor', name: 'Status', uniq_id: `${gwId}_status`, dev_cla: 'connectivity', ent_cat: 'diagnostic',
          stat_t: status, pl_on: ONLINE, pl_off: OFFLINE,
        },
      },
      qos: 1,
    },
    platforms: new Map([['status', 'binary_sensor']]),
  }];
  const skipped: DiscoveryPlan['skipped'] = [];
  for (const device of site.devices) {
    if (encodingOf(site.mapping, device) === 'cbor') {
      skipped.push({ device: device.name, reason: 'its payloads are CBOR, which Home Assistant cannot read' });
      continue;
    }
    devices.push(deviceDiscovery(site, prefix, device, { gwId, origin, options }));
  }
  return { prefix, devices, skipped };
}

function deviceDiscovery(
  site: ResolvedSite,
  prefix: string,
  device: DeviceConfigBase,
  ctx: { gwId: string; origin: object; options: DiscoveryOptions },
): DeviceDiscovery {
  const devId = objectId(`${ctx.gwId}_${device.name}`);
  const format = formatOf(site.mapping, device);
  const stateTopicOfBatch = format === 'batch' ? batchTopic(site.mapping, device) : undefined;
  const cmps: Record<string, Record<string, unknown>> = {};
  const platforms = new Map<string, string>();
  for (const point of device.points) {
    const key = objectId(point.name);
    const topic = pointTopic(site.mapping, device, point);
    const component = pointComponent(point, ctx.options.valueType(device, point));
    const boolean = component === 'switch' || component === 'binary_sensor';
    const c: Record<string, unknown> = {
      p: component,
      name: point.name,
      uniq_id: `${devId}_${key}`,
      stat_t: stateTopicOfBatch ?? topic,
      ...valueTemplate(format, point.name, boolean),
    };
    const ha = (point.homeassistant ?? {}) as { device_class?: string; state_class?: string };
    const inferred = boolean || component === 'text' ? {} : unitClasses(point.unit);
    const deviceClass = ha.device_class ?? inferred.deviceClass;
    if (deviceClass !== undefined && deviceClass !== 'none') c.dev_cla = deviceClass;
    const stateClass = ha.state_class ?? inferred.stateClass;
    if (component === 'sensor' && stateClass !== undefined && stateClass !== 'none') c.stat_cla = stateClass;
    if (!boolean && component !== 'text' && point.unit !== undefined) c.unit_of_meas = inferred.unit ?? point.unit;
    if (boolean) Object.assign(c, { pl_on: 'true', pl_off: 'false' });
    if (point.writable === true) {
      c.cmd_t = `${topic}/set`;
      if (component === 'number') {
        // Home Assistant's number defaults to 1…100: a point without limits gets the widest it takes.
        Object.assign(c, { min: point.min ?? -1e15, max: point.max ?? 1e15, step: stepOf(point), mode: 'box' });
      }
    }
    cmps[key] = c;
    platforms.set(key, component);
  }
  const status = site.mqtt.statusTopic;
  return {
    topic: `${prefix}/device/${devId}/config`,
    config: {
      dev: { ids: [devId], name: device.name, mf: 'fieldgate', mdl: `${device.driver} device`, via_device: ctx.gwId },
      o: ctx.origin,
      cmps,
      avty: [{ t: status }, { t: deviceAvailabilityTopic(status, device.name) }],
      avty_mode: 'all',
      // The strictest QoS any of its points asks for (reduce: a long list must not be spread).
      qos: device.points.reduce((q, p) => Math.max(q, p.qos ?? site.mapping.qos), 0),
    },
    platforms,
  };
}

function pointComponent(point: PointConfigBase, type: PointValueType | undefined): string {
  const override = (point.homeassistant as { component?: string } | undefined)?.component;
  if (override) return override;
  if (point.writable === true) return type === 'boolean' ? 'switch' : type === 'text' ? 'text' : 'number';
  return type === 'boolean' ? 'binary_sensor' : 'sensor';
}

/** A number's step: the resolution its scale gives (0.1 for scale 0.1), else 1. */
function stepOf(point: PointConfigBase): number {
  const scale = Math.abs(point.scale ?? 1);
  return scale > 0 && scale < 1 ? scale : 1;
}

/**
 * Reads the point's value out of what fieldgate publishes. A bad reading (null) renders as None,
 * which Home Assistant shows as unknown. In a batch, a point that was not due keeps its state; one
 * in `errors` is unknown. Booleans render as true/false, matching pl_on/pl_off.
 */
function valueTemplate(format: string, point: string, boolean: boolean): { val_tpl?: string } {
  if (format === 'value') return {};
  const shown = (expr: string) => (boolean ? `(${expr} | tojson)` : expr);
  if (format === 'json') return { val_tpl: `{{ ${shown('value_json.value')} }}` };
  const k = JSON.stringify(point).replace(/^"|"$/g, "'");
  const kept = boolean ? "('true' if this.state == 'on' else 'false')" : 'this.state';
  return {
    val_tpl:
      `{% set v = value_json.get('values', {}) %}{% set e = value_json.get('errors', {}) %}` +
      `{{ ${shown(`v[${k}]`)} if ${k} in v else (None if ${k} in e else ${kept}) }}`,
  };
}

/** Every message of a plan, as published: retained JSON, one per device. */
export function discoveryMessages(plan: DiscoveryPlan): DiscoveryMessage[] {
  return plan.devices.map((d) => ({ topic: d.topic, payload: JSON.stringify(d.config) }));
}

/**
 * What must go out before `after` is announced so Home Assistant forgets what `before` had and
 * `after` has not: an empty message for a device that is gone, and for a device that lost points,
 * its new config with each lost component reduced to its platform (`p`), Home Assistant's way of
 * removing one component of a device.
 */
export function discoveryRemovals(before: DiscoveryPlan | undefined, after: DiscoveryPlan | undefined): DiscoveryMessage[] {
  if (!before) return [];
  const next = new Map((after?.devices ?? []).map((d) => [d.topic, d]));
  const out: DiscoveryMessage[] = [];
  for (const old of before.devices) {
    const now = next.get(old.topic);
    if (!now) {
      out.push({ topic: old.topic, payload: '' });
      continue;
    }
    const gone = [...old.platforms].filter(([key]) => !now.platforms.has(key));
    if (gone.length === 0) continue;
    const cmps = { ...(now.config.cmps as Record<string, unknown>) };
    for (const [key, p] of gone) cmps[key] = { p };
    out.push({ topic: now.topic, payload: JSON.stringify({ ...now.config, cmps }) });
  }
  return out;
}

/** The plan of a site with its drivers' value types, or undefined when discovery is off. */
export function sitePlan(site: ResolvedSite, drivers: readonly DriverDescriptor[], version: string): DiscoveryPlan | undefined {
  if (!site.homeassistant) return undefined;
  return planDiscovery(site, site.homeassistant.prefix, {
    version,
    valueType: (device, point) => drivers.find((d) => d.type === device.driver)?.valueType?.(device, point),
  });
}
