// Every example of the BTHome v2 format reference (bthome.io/format), each behind the device
// information byte 0x40 (unencrypted, regular updates, version 2).
import { describe, expect, it } from 'vitest';
import { FieldgateError } from '../../../src/driver-api/index.js';
import { BTHOME_OBJECTS, decodeBthome, isBthomeField } from '../../../drivers/ble/bthome.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const packet = (objects: string): Buffer => hex(`40${objects}`);

const SENSOR_EXAMPLES: [string, string, number | string][] = [
  ['518756', 'acceleration', 22.151],
  ['0161', 'battery', 97],
  ['12E204', 'co2', 1250],
  ['56E803', 'conductivity', 1000],
  ['0960', 'count', 96],
  ['3D0960', 'count', 24585],
  ['3E2A2C0960', 'count', 1611213866],
  ['59EA', 'count', -22],
  ['5AEAEA', 'count', -5398],
  ['5BEA0234EA', 'count', -365690134],
  ['434E34', 'current', 13.39],
  ['5D02EA', 'current', -5.63],
  ['08CA06', 'dewpoint', 17.38],
  ['400C00', 'distance_mm', 12],
  ['414E00', 'distance_m', 7.8],
  ['424E3400', 'duration', 13.39],
  ['4D12138A14', 'energy', 344593.17],
  ['0A138A14', 'energy', 1346.067],
  ['4B138A14', 'gas', 1346.067],
  ['4C41018A01', 'gas', 25821.505],
  ['528756', 'gyroscope', 22.151],
  ['03BF13', 'humidity', 50.55],
  ['2E23', 'humidity', 35],
  ['05138A14', 'illuminance', 13460.67],
  ['065E1F', 'mass_kg', 80.3],
  ['073E1D', 'mass_lb', 74.86],
  ['14020C', 'moisture', 30.74],
  ['2F23', 'moisture', 35],
  ['0D120C', 'pm2_5', 3090],
  ['0E021C', 'pm10', 7170],
  ['0B021B00', 'power', 69.14],
  ['5C02FBFFFF', 'power', -12.78],
  ['04138A01', 'pressure', 1008.83],
  ['540C48656C6C6F20576F726C6421', 'raw', '48656c6c6f20576f726c6421'],
  ['3F020C', 'rotation', 307.4],
  ['444E34', 'speed', 133.9],
  ['57EA', 'temperature', -22],
  ['58EA', 'temperature', -7.7],
  ['451101', 'temperature', 27.3],
  ['02CA09', 'temperature', 25.06],
  ['530C48656C6C6F20576F726C6421', 'text', 'Hello World!'],
  ['505D396164', 'timestamp', 1684093277],
  ['133301', 'tvoc', 307],
  ['0C020C', 'voltage', 3.074],
  ['4A020C', 'voltage', 307.4],
  ['4E87562A01', 'volume', 19551.879],
  ['478756', 'volume', 2215.1],
  ['48DC87', 'volume_ml', 34780],
  ['5587562A01', 'volume_storage', 19551.879],
  ['49DC87', 'volume_flow_rate', 34.78],
  ['4632', 'uv_index', 5],
  ['4F87562A01', 'water', 19551.879],
  ['5E9F8C', 'direction', 359.99],
  ['5FA00F', 'precipitation', 4000],
  ['F00100', 'device_type_id', 1],
  ['F100010204', 'firmware_version', '4.2.1.0'],
  ['F2000106', 'firmware_version', '6.1.0'],
  ['0009', 'packet_id', 9],
];

const BINARY_EXAMPLES: [string, string, boolean][] = [
  ['1501', 'battery_low', true],
  ['1601', 'battery_charging', true],
  ['1700', 'carbon_monoxide', false],
  ['1801', 'cold', true],
  ['1900', 'connectivity', false],
  ['1A00', 'door', false],
  ['1B01', 'garage_door', true],
  ['1C01', 'gas_detected', true],
  ['0F01', 'generic_boolean', true],
  ['1D00', 'heat', false],
  ['1E01', 'light', true],
  ['1F01', 'lock', true],
  ['2001', 'moisture_wet', true],
  ['2100', 'motion', false],
  ['2201', 'moving', true],
  ['2301', 'occupancy', true],
  ['1100', 'opening', false],
  ['2400', 'plug', false],
  ['1001', 'power_on', true],
  ['2500', 'presence', false],
  ['2601', 'problem', true],
  ['2701', 'running', true],
  ['2800', 'safety', false],
  ['2901', 'smoke', true],
  ['2A00', 'sound', false],
  ['2B00', 'tamper', false],
  ['2C01', 'vibration', true],
  ['2D01', 'window', true],
];

const EVENT_EXAMPLES: [string, Record<string, string | number>][] = [
  ['3A01', { button: 'press' }],
  ['3A02', { button: 'double_press' }],
  ['3A03', { button: 'triple_press' }],
  ['3A04', { button: 'long_press' }],
  ['3A05', { button: 'long_double_press' }],
  ['3A06', { button: 'long_triple_press' }],
  ['3A80', { button: 'hold_press' }],
  ['3A00', {}],
  ['3C0103', { dimmer: 'rotate_left', dimmer_steps: 3 }],
  ['3C020A', { dimmer: 'rotate_right', dimmer_steps: 10 }],
  ['3C0000', {}],
];

describe('decodeBthome', () => {
  it('decodes the walk-through example of the format page', () => {
    // 0A 16 D2FC 40 02C409 03BF13: BlueZ hands over the service data after the UUID.
    const d = decodeBthome(hex('4002C40903BF13'));
    expect(d.fields).toEqual({ temperature: 25, humidity: 50.55 });
    expect(d.problem).toBeUndefined();
    expect(d.dedupeKey).toBeUndefined();
  });

  it.each(SENSOR_EXAMPLES)('sensor object %s -> %s = %s', (objects, field, value) => {
    const d = decodeBthome(packet(objects));
    expect(d.fields).toEqual({ [field]: value });
    expect(d.problem).toBeUndefined();
  });

  it.each(BINARY_EXAMPLES)('binary object %s -> %s = %s', (objects, field, value) => {
    expect(decodeBthome(packet(objects)).fields).toEqual({ [field]: value });
  });

  it.each(EVENT_EXAMPLES)('event object %s', (objects, fields) => {
    expect(decodeBthome(packet(objects)).fields).toEqual(fields);
  });

  it('has an example for every object id it knows', () => {
    const tested = new Set(
      [...SENSOR_EXAMPLES, ...BINARY_EXAMPLES, ...EVENT_EXAMPLES].map(([objects]) => Number.parseInt(objects.slice(0, 2), 16)),
    );
    expect([...BTHOME_OBJECTS.keys()].filter((id) => !tested.has(id))).toEqual([]);
  });

  it('uses the packet id as deduplication key', () => {
    const d = decodeBthome(packet('0009 02CA09'));
    expect(d.dedupeKey).toBe(9);
    expect(d.fields).toEqual({ packet_id: 9, temperature: 25.06 });
  });

  it('numbers repeated measurements in payload order', () => {
    const d = decodeBthome(packet('02CA09 02C409 451101 3A00 3A01 3C0103 3C020A'));
    expect(d.fields).toEqual({
      temperature: 25.06,
      temperature_2: 25,
      temperature_3: 27.3,
      button_2: 'press',
      dimmer: 'rotate_left',
      dimmer_steps: 3,
      dimmer_2: 'rotate_right',
      dimmer_2_steps: 10,
    });
  });

  it('stops at an unknown object id and keeps what came before', () => {
    const d = decodeBthome(packet('02CA09 7F0102 03BF13'));
    expect(d.fields).toEqual({ temperature: 25.06 });
    expect(d.problem).toMatch(/unknown BTHome object id 0x7f/);
  });

  it('stops at a truncated object', () => {
    const d = decodeBthome(packet('02CA09 03BF'));
    expect(d.fields).toEqual({ temperature: 25.06 });
    expect(d.problem).toMatch(/0x03 \(humidity\).*truncated/);
    expect(decodeBthome(packet('530C4865')).problem).toMatch(/truncated/);
    expect(decodeBthome(packet('53')).problem).toMatch(/truncated/);
  });

  it('refuses binary values other than 0 and 1 without inventing one', () => {
    const d = decodeBthome(packet('2102 0161'));
    expect(d.fields).toEqual({ battery: 97 });
    expect(d.problem).toMatch(/expected 0 or 1/);
  });

  it('rejects encrypted payloads, other versions and empty data', () => {
    expect(() => decodeBthome(hex('41 02CA09'))).toThrow(/encrypted/);
    expect(() => decodeBthome(hex('20 02CA09'))).toThrow(/version 1 is not supported/);
    expect(() => decodeBthome(Buffer.alloc(0))).toThrow(FieldgateError);
  });

  it('accepts the trigger-based flag', () => {
    expect(decodeBthome(hex('44 3A01')).fields).toEqual({ button: 'press' });
  });

  it('knows which field names it can produce', () => {
    for (const name of ['temperature', 'temperature_2', 'battery_low', 'pm2_5', 'pm2_5_3', 'dimmer_steps', 'dimmer_2_steps', 'packet_id']) {
      expect(isBthomeField(name), name).toBe(true);
    }
    for (const name of ['temp', 'temperature_1', 'temperature_x', 'dimmer_steps_2', 'dimmer_1_steps', 'rssi']) {
      expect(isBthomeField(name), name).toBe(false);
    }
  });
});
