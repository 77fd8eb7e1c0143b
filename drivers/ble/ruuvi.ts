// RuuviTag data format 5 ("RAWv2"), carried in manufacturer-specific data of company 0x0499.
// Layout (big-endian): format(1) temperature(i16, 0.005 °C) humidity(u16, 0.0025 %)
// pressure(u16, Pa - 50000) acc x/y/z(i16, mG) power(u16: 11 bits battery mV - 1600, 5 bits
// (tx dBm + 40) / 2) movement(u8) sequence(u16) mac(6).
// The sender marks "not available" with the largest unsigned / smallest signed value of a field
// (all bits set for the MAC); such fields are reported as unavailable, never as numbers.
import { FieldgateError } from '../../src/driver-api/index.js';
import type { DecodedAdvertisement, FieldInfo, FieldValue } from './decoded-advertisement.js';

export const RUUVI_COMPANY_ID = 0x0499;
export const RUUVI_DF5_LENGTH = 24;

export const RUUVI_FIELDS: readonly FieldInfo[] = [
  { name: 'temperature', unit: '°C', description: 'temperature, 0.005 °C steps' },
  { name: 'humidity', unit: '%', description: 'relative humidity, 0.0025 % steps' },
  { name: 'pressure', unit: 'Pa', description: 'air pressure, 1 Pa steps' },
  { name: 'acceleration_x', unit: 'g', description: 'acceleration, X axis' },
  { name: 'acceleration_y', unit: 'g', description: 'acceleration, Y axis' },
  { name: 'acceleration_z', unit: 'g', description: 'acceleration, Z axis' },
  { name: 'battery_voltage', unit: 'V', description: 'battery voltage, 1 mV steps' },
  { name: 'tx_power', unit: 'dBm', description: 'transmit power' },
  { name: 'movement_counter', unit: '', description: 'movement detections, wraps at 254' },
  { name: 'measurement_sequence', unit: '', description: 'measurement number; repeats are not republished' },
  { name: 'mac', unit: '', description: 'MAC address the tag reports (text)' },
];

export function decodeRuuvi(data: Uint8Array): DecodedAdvertisement {
  if (data.length < 1) throw decodeError('empty Ruuvi manufacturer data');
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const format = buf.readUInt8(0);
  if (format !== 5) throw decodeError(`Ruuvi data format ${format} is not supported (only format 5, RAWv2)`);
  if (buf.length < RUUVI_DF5_LENGTH) {
    throw decodeError(`Ruuvi data format 5 needs ${RUUVI_DF5_LENGTH} bytes, got ${buf.length}`);
  }

  const fields: Record<string, FieldValue> = {};
  const unavailable: string[] = [];
  const put = (name: string, valid: boolean, value: () => FieldValue): void => {
    if (valid) fields[name] = value();
    else unavailable.push(name);
  };

  const temperature = buf.readInt16BE(1);
  put('temperature', temperature !== -0x8000, () => temperature / 200);
  const humidity = buf.readUInt16BE(3);
  put('humidity', humidity !== 0xffff, () => humidity / 400);
  const pressure = buf.readUInt16BE(5);
  put('pressure', pressure !== 0xffff, () => pressure + 50_000);
  for (const [axis, offset] of [['x', 7], ['y', 9], ['z', 11]] as const) {
    const acc = buf.readInt16BE(offset);
    put(`acceleration_${axis}`, acc !== -0x8000, () => acc / 1000);
  }
  const power = buf.readUInt16BE(13);
  const battery = power >>> 5;
  const tx = power & 0x1f;
  put('battery_voltage', battery !== 0x7ff, () => (battery + 1600) / 1000);
  put('tx_power', tx !== 0x1f, () => tx * 2 - 40);
  const movement = buf.readUInt8(15);
  put('movement_counter', movement !== 0xff, () => movement);
  const sequence = buf.readUInt16BE(16);
  put('measurement_sequence', sequence !== 0xffff, () => sequence);
  const mac = buf.subarray(18, 24);
  put('mac', !mac.every((b) => b === 0xff), () => formatMac(mac));

  return sequence !== 0xffff ? { fields, unavailable, dedupeKey: sequence } : { fields, unavailable };
}

function formatMac(bytes: Buffer): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

function decodeError(message: string): FieldgateError {
  return new FieldgateError('decode', message);
}
