// Home Assistant discovery messages, checked field by field against HA's documented device-based
// discovery schema: the keys a device config, the device and origin maps and a component may have
// (full names or HA's abbreviations), unit → device/state class, templates per payload format,
// writable points as number/switch/text, CBOR devices left out, and removals after a reload.
import { describe, expect, it } from 'vitest';
import { drivers } from '../../drivers/index.js';
import { validate, lines } from '../config/site-fixtures.js';
import { discoveryMessages, discoveryRemovals, planDiscovery, sitePlan, type DiscoveryPlan } from '../../src/homeassistant/discovery.js';
import { unitClasses } from '../../src/homeassistant/unit-classes.js';

// From Home Assistant's MQTT documentation: the shared options of a device discovery payload, the
// device and origin mappings (with their abbreviations) and the component options fieldgate uses.
const DEVICE_CONFIG_KEYS = new Set(['dev', 'device', 'o', 'origin', 'cmps', 'components', 'avty', 'availability', 'avty_mode', 'availability_mode', 'avty_t', 'availability_topic', 'qos', 'e', 'encoding', 'stat_t', 'state_topic', 'cmd_t', 'command_topic']);
const DEVICE_KEYS = new Set(['ids', 'identifiers', 'name', 'mf', 'manufacturer', 'mdl', 'model', 'sw', 'sw_version', 'hw', 'hw_version', 'sn', 'serial_number', 'via_device', 'sa', 'suggested_area', 'cns', 'connections', 'cu', 'configuration_url']);
const ORIGIN_KEYS = new Set(['name', 'sw', 'sw_version', 'url', 'support_url']);
const AVAILABILITY_KEYS = new Set(['t', 'topic', 'pl_avail', 'payload_available', 'pl_not_avail', 'payload_not_available', 'val_tpl', 'value_template']);
const COMPONENT_KEYS = new Set([
  'p', 'platform', 'name', 'uniq_id', 'unique_id', 'stat_t', 'state_topic', 'cmd_t', 'command_topic', 'val_tpl', 'value_template',
  'unit_of_meas', 'unit_of_measurement', 'dev_cla', 'device_class', 'stat_cla', 'state_class', 'pl_on', 'payload_on', 'pl_off', 'payload_off',
  'min', 'max', 'step', 'mode', 'ent_cat', 'entity_category',
]);
const PLATFORMS = new Set(['sensor', 'binary_sensor', 'number', 'switch', 'text']);

const HEAD = ['site: plant-7', 'gateway: gw-01', 'mqtt:', '  url: mqtt://127.0.0.1:1883', 'homeassistant: { enabled: true }'];
const SITE = lines(
  ...HEAD,
  'devices:',
  '  - name: meter-1',
  '    driver: modbus',
  '    tcp: { host: 127.0.0.1 }',
  '    points:',
  '      - { name: energy, table: input, address: 0, type: uint32, unit: kWh }',
  '      - { name: p_l1, table: input, address: 2, unit: W }',
  '      - { name: temp, table: input, address: 3, unit: C, scale: 0.1 }',
  '      - { name: limit, table: holding, address: 4, unit: W, writable: true, min: 0, max: 6000, scale: 0.1 }',
  '      - { name: relay, table: coil, address: 0, writable: true }',
  '      - { name: alarm, table: discrete, address: 0 }',
  '      - { name: label, table: holding, address: 10, type: string, length: 4, writable: true }',
  '      - { name: co2, table: input, address: 20, unit: ppm, homeassistant: { device_class: none, state_class: total } }',
  '      - { name: p_total, expr: "p_l1 * 3", unit: W }',
  '  - name: thin',
  '    driver: sim',
  '    payload: value',
  '    points: [ { name: level, signal: sine, unit: "%" } ]',
  '  - name: batched',
  '    driver: sim',
  '    payload: batch',
  '    points: [ { name: a-b, signal: sine, unit: V } ]',
  '  - name: packed',
  '    driver: sim',
  '    payload_encoding: cbor',
  '    points: [ { name: x, signal: sine } ]',
);

function plan(text = SITE): DiscoveryPlan {
  return sitePlan(validate(text), drivers, '9.9.9')!;
}

function checkKeys(what: string, value: Record<string, unknown>, allowed: Set<string>): void {
  const extra = Object.keys(value).filter((k) => !allowed.has(k));
  expect(extra, `${what} has keys Home Assistant does not document`).toEqual([]);
}

describe('Home Assistant discovery messages', () => {
  const p = plan();
  const messages = discoveryMessages(p);
  const byTopic = new Map(messages.map((m) => [m.topic, JSON.parse(m.payload) as Record<string, any>]));
  const meter = byTopic.get('homeassistant/device/fieldgate_plant-7_gw-01_meter-1/config')!;

  it('one retained device message per device plus the gateway; CBOR devices left out with the reason', () => {
    expect([...byTopic.keys()]).toEqual([
      'homeassistant/device/fieldgate_plant-7_gw-01/config',
      'homeassistant/device/fieldgate_plant-7_gw-01_meter-1/config',
      'homeassistant/device/fieldgate_plant-7_gw-01_thin/config',
      'homeassistant/device/fieldgate_plant-7_gw-01_batched/config',
    ]);
    expect(p.skipped).toEqual([{ device: 'packed', reason: 'its payloads are CBOR, which Home Assistant cannot read' }]);
  });

  it('every message has only documented keys, a device with ids, an origin, and components with a platform and a unique id', () => {
    const ids = new Set<string>();
    for (const [topic, config] of byTopic) {
      expect(topic).toMatch(/^homeassistant\/device\/[A-Za-z0-9_-]+\/config$/);
      checkKeys(topic, config, DEVICE_CONFIG_KEYS);
      checkKeys(`${topic} dev`, config.dev, DEVICE_KEYS);
      checkKeys(`${topic} o`, config.o, ORIGIN_KEYS);
      expect(config.dev.ids.length).toBeGreaterThan(0);
      expect(config.o).toEqual({ name: 'fieldgate', sw: '9.9.9' });
      for (const a of config.avty ?? []) checkKeys(`${topic} avty`, a, AVAILABILITY_KEYS);
      for (const [key, c] of Object.entries(config.cmps as Record<string, Record<string, unknown>>)) {
        expect(key).toMatch(/^[A-Za-z0-9_-]+$/);
        checkKeys(`${topic} cmps.${key}`, c, COMPONENT_KEYS);
        expect(PLATFORMS.has(c.p as string), `${key}: platform ${String(c.p)}`).toBe(true);
        expect(ids.has(c.uniq_id as string), `unique id ${String(c.uniq_id)} repeats`).toBe(false);
        ids.add(c.uniq_id as string);
      }
    }
  });

  it('the gateway is a device the others are via_device of; availability is the gateway status and the device topic, both', () => {
    const gw = byTopic.get('homeassistant/device/fieldgate_plant-7_gw-01/config')!;
    expect(gw.dev).toMatchObject({ ids: ['fieldgate_plant-7_gw-01'], name: 'fieldgate gw-01' });
    expect(gw.cmps.status).toMatchObject({ p: 'binary_sensor', dev_cla: 'connectivity', stat_t: 'plant-7/gw-01/status', pl_on: 'online', pl_off: 'offline' });
    expect(meter.dev).toEqual({ ids: ['fieldgate_plant-7_gw-01_meter-1'], name: 'meter-1', mf: 'fieldgate', mdl: 'modbus device', via_device: 'fieldgate_plant-7_gw-01' });
    expect(meter.avty).toEqual([{ t: 'plant-7/gw-01/status' }, { t: 'plant-7/gw-01/status/device/meter-1' }]);
    expect(meter.avty_mode).toBe('all');
  });

  it('sensors: device and state class from the unit, HA spelling of the unit, overrides per point, computed points too', () => {
    expect(meter.cmps.energy).toEqual({
      p: 'sensor', name: 'energy', uniq_id: 'fieldgate_plant-7_gw-01_meter-1_energy', stat_t: 'plant-7/meter-1/energy',
      val_tpl: '{{ value_json.value }}', dev_cla: 'energy', stat_cla: 'total_increasing', unit_of_meas: 'kWh',
    });
    expect(meter.cmps.p_l1).toMatchObject({ dev_cla: 'power', stat_cla: 'measurement', unit_of_meas: 'W' });
    expect(meter.cmps.temp).toMatchObject({ dev_cla: 'temperature', stat_cla: 'measurement', unit_of_meas: '°C' });
    expect(meter.cmps.co2).toMatchObject({ stat_cla: 'total', unit_of_meas: 'ppm' });
    expect(meter.cmps.co2.dev_cla).toBeUndefined();
    expect(meter.cmps.alarm).toMatchObject({ p: 'binary_sensor', val_tpl: '{{ (value_json.value | tojson) }}', pl_on: 'true', pl_off: 'false' });
    expect(meter.cmps.p_total).toMatchObject({ p: 'sensor', dev_cla: 'power', stat_t: 'plant-7/meter-1/p_total' });
  });

  it('writable points: number with min/max and a step from the scale, switch for booleans, text for strings; commands on <topic>/set', () => {
    expect(meter.cmps.limit).toMatchObject({ p: 'number', cmd_t: 'plant-7/meter-1/limit/set', min: 0, max: 6000, step: 0.1, mode: 'box', dev_cla: 'power' });
    expect(meter.cmps.limit.stat_cla).toBeUndefined();
    expect(meter.cmps.relay).toMatchObject({ p: 'switch', cmd_t: 'plant-7/meter-1/relay/set', pl_on: 'true', pl_off: 'false', val_tpl: '{{ (value_json.value | tojson) }}' });
    expect(meter.cmps.label).toMatchObject({ p: 'text', cmd_t: 'plant-7/meter-1/label/set' });
  });

  it('templates follow the payload format: none for bare values, the batch map for batches', () => {
    const thin = byTopic.get('homeassistant/device/fieldgate_plant-7_gw-01_thin/config')!;
    expect(thin.cmps.level).toEqual({
      p: 'sensor', name: 'level', uniq_id: 'fieldgate_plant-7_gw-01_thin_level', stat_t: 'plant-7/thin/level', stat_cla: 'measurement', unit_of_meas: '%',
    });
    const batched = byTopic.get('homeassistant/device/fieldgate_plant-7_gw-01_batched/config')!;
    expect(batched.cmps['a-b']).toMatchObject({ stat_t: 'plant-7/batched', dev_cla: 'voltage' });
    expect(batched.cmps['a-b'].val_tpl).toBe(
      "{% set v = value_json.get('values', {}) %}{% set e = value_json.get('errors', {}) %}{{ v['a-b'] if 'a-b' in v else (None if 'a-b' in e else this.state) }}",
    );
  });
});

describe('unitClasses', () => {
  const table: [string | undefined, ReturnType<typeof unitClasses>][] = [
    ['kWh', { deviceClass: 'energy', stateClass: 'total_increasing', unit: 'kWh' }],
    ['Wh', { deviceClass: 'energy', stateClass: 'total_increasing', unit: 'Wh' }],
    ['W', { deviceClass: 'power', stateClass: 'measurement', unit: 'W' }],
    ['V', { deviceClass: 'voltage', stateClass: 'measurement', unit: 'V' }],
    ['A', { deviceClass: 'current', stateClass: 'measurement', unit: 'A' }],
    ['Hz', { deviceClass: 'frequency', stateClass: 'measurement', unit: 'Hz' }],
    ['°C', { deviceClass: 'temperature', stateClass: 'measurement', unit: '°C' }],
    ['C', { deviceClass: 'temperature', stateClass: 'measurement', unit: '°C' }],
    ['hPa', { deviceClass: 'pressure', stateClass: 'measurement', unit: 'hPa' }],
    ['Pa', { deviceClass: 'pressure', stateClass: 'measurement', unit: 'Pa' }],
    ['ppm', { deviceClass: 'carbon_dioxide', stateClass: 'measurement', unit: 'ppm' }],
    ['%', { stateClass: 'measurement', unit: '%' }],
    [undefined, {}],
  ];
  it.each(table)('%s', (unit, expected) => expect(unitClasses(unit)).toEqual(expected));
});

describe('removals after a reload', () => {
  it('a removed device gets an empty retained message; a removed point is sent as its platform only, before the new config', () => {
    const before = plan();
    const after = plan(SITE.replace('      - { name: p_l1, table: input, address: 2, unit: W }\n', '').replace(/ {2}- name: thin\n(.*\n){3}/, '').replace('p_l1 * 3', 'energy * 3'));
    const removals = discoveryRemovals(before, after);
    expect(removals.map((m) => [m.topic, m.payload === '' ? '' : 'config'])).toEqual([
      ['homeassistant/device/fieldgate_plant-7_gw-01_meter-1/config', 'config'],
      ['homeassistant/device/fieldgate_plant-7_gw-01_thin/config', ''],
    ]);
    const meter = JSON.parse(removals[0]!.payload) as { cmps: Record<string, unknown> };
    expect(meter.cmps.p_l1).toEqual({ p: 'sensor' });
    expect(Object.keys(meter.cmps)).toContain('energy');
  });

  it('switching discovery off (or a new prefix) removes every device under the old prefix', () => {
    const before = plan();
    expect(discoveryRemovals(before, undefined).map((m) => m.payload)).toEqual(before.devices.map(() => ''));
    const moved = planDiscovery(validate(SITE), 'ha2', { version: '1', valueType: () => undefined });
    expect(discoveryRemovals(before, moved).every((m) => m.payload === '' && m.topic.startsWith('homeassistant/'))).toBe(true);
    expect(sitePlan(validate(SITE.replace('enabled: true', 'enabled: false')), drivers, '1')).toBeUndefined();
  });
});
