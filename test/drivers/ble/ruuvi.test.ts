// Byte vectors from the Ruuvi data format 5 (RAWv2) specification's test-vector section. The
// minimum-values vector is the corrected one (ruuvi-sensor-protocols issue #30: the first
// published vector encoded -0.01 °C, not the minimum).
import { describe, expect, it } from 'vitest';
import { FieldgateError } from '../../../src/driver-api/index.js';
import { RUUVI_FIELDS, decodeRuuvi } from '../../../drivers/ble/ruuvi.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/^0x/, ''), 'hex');

describe('decodeRuuvi (data format 5)', () => {
  it('decodes the "valid data" vector', () => {
    const d = decodeRuuvi(hex('0x0512FC5394C37C0004FFFC040CAC364200CDCBB8334C884F'));
    expect(d.fields).toEqual({
      temperature: 24.3,
      humidity: 53.49,
      pressure: 100044,
      acceleration_x: 0.004,
      acceleration_y: -0.004,
      acceleration_z: 1.036,
      tx_power: 4,
      battery_voltage: 2.977,
      movement_counter: 66,
      measurement_sequence: 205,
      mac: 'CB:B8:33:4C:88:4F',
    });
    expect(d.unavailable).toEqual([]);
    expect(d.dedupeKey).toBe(205);
  });

  it('decodes the "maximum values" vector', () => {
    const d = decodeRuuvi(hex('0x057FFFFFFEFFFE7FFF7FFF7FFFFFDEFEFFFECBB8334C884F'));
    expect(d.fields).toMatchObject({
      temperature: 163.835,
      humidity: 163.835,
      pressure: 115534,
      acceleration_x: 32.767,
      acceleration_y: 32.767,
      acceleration_z: 32.767,
      tx_power: 20,
      battery_voltage: 3.646,
      movement_counter: 254,
      measurement_sequence: 65534,
    });
  });

  it('decodes the "minimum values" vector', () => {
    const d = decodeRuuvi(hex('0x058001000000008001800180010000000000CBB8334C884F'));
    expect(d.fields).toMatchObject({
      temperature: -163.835,
      humidity: 0,
      pressure: 50000,
      acceleration_x: -32.767,
      acceleration_y: -32.767,
      acceleration_z: -32.767,
      tx_power: -40,
      battery_voltage: 1.6,
      movement_counter: 0,
      measurement_sequence: 0,
    });
  });

  it('reports the "invalid values" vector as unavailable, with no numbers at all', () => {
    const d = decodeRuuvi(hex('0x058000FFFFFFFF800080008000FFFFFFFFFFFFFFFFFFFFFF'));
    expect(d.fields).toEqual({});
    expect(new Set(d.unavailable)).toEqual(new Set(RUUVI_FIELDS.map((f) => f.name)));
    expect(d.dedupeKey).toBeUndefined();
  });

  it('marks single invalid fields and keeps the others', () => {
    // valid vector with temperature 0x8000 and humidity 0xFFFF
    const d = decodeRuuvi(hex('0x058000FFFFC37C0004FFFC040CAC364200CDCBB8334C884F'));
    expect(d.unavailable).toEqual(['temperature', 'humidity']);
    expect(d.fields.pressure).toBe(100044);
    expect('temperature' in d.fields).toBe(false);
  });

  it('rejects short buffers and other data formats', () => {
    expect(() => decodeRuuvi(hex('0512FC5394C37C0004FFFC040CAC364200CDCBB8334C88'))).toThrow(/24 bytes/);
    expect(() => decodeRuuvi(hex('03291A1ECE1EFC18F94202CA0B53'))).toThrow(/format 3 is not supported/);
    expect(() => decodeRuuvi(Buffer.alloc(0))).toThrow(FieldgateError);
  });
});
