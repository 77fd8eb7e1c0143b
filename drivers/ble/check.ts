// Semantic checks of a BLE device after the schema passed (no I/O), and the commissioning plan.
import { parseDuration, type ConfigIssue, errorText } from '../../src/driver-api/index.js';
import { ADVERTISEMENT_FORMATS } from './advertisement.js';
import {
  adapterOf,
  isGattDevice,
  isValidAddress,
  isValidUuid,
  isValueType,
  normalizeAddress,
  shortUuid,
  type BleDeviceConfig,
} from './config.js';
import { typeSize } from './value-codec.js';

const GATT_ONLY_KEYS = ['service', 'characteristic', 'mode', 'type', 'byte_offset', 'write_mode'] as const;


export function checkDevice(device: BleDeviceConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!isValidAddress(device.address)) {
    issues.push({ path: ['address'], message: `"${String(device.address)}" is not a Bluetooth address (expected e.g. C4:7C:8D:6A:12:34)` });
  }
  const durations: [(string | number)[], string | undefined][] = [
    [['connect_timeout'], device.connect_timeout],
    [['timeout'], device.timeout],
    [['reconnect', 'initial'], device.reconnect?.initial],
    [['reconnect', 'max'], device.reconnect?.max],
  ];
  for (const [path, value] of durations) {
    if (value === undefined) continue;
    try {
      if (parseDuration(value) <= 0) issues.push({ path, message: `${path.join('.')} must be longer than 0` });
    } catch (err) {
      issues.push({ path, message: errorText(err) });
    }
  }
  if (isGattDevice(device)) checkGattPoints(device, issues);
  else checkAdvertisementPoints(device, issues);
  return issues;
}

function checkGattPoints(device: BleDeviceConfig, issues: ConfigIssue[]): void {
  device.points.forEach((p, i) => {
    const at = (key?: string): (string | number)[] => (key ? ['points', i, key] : ['points', i]);
    for (const key of ['service', 'characteristic'] as const) {
      const value = p[key];
      if (value === undefined) issues.push({ path: at(), message: `GATT point ${p.name} needs ${key}` });
      else if (!isValidUuid(value)) issues.push({ path: at(key), message: `"${String(value)}" is not a UUID (16-bit like "2a6e" or 128-bit)` });
    }
    if (p.mode === undefined) issues.push({ path: at(), message: `GATT point ${p.name} needs mode (read or notify)` });
    if (p.type === undefined) issues.push({ path: at(), message: `GATT point ${p.name} needs type` });
    else if (!isValueType(p.type)) issues.push({ path: at('type'), message: `unknown type "${String(p.type)}"` });
    if (p.field !== undefined) issues.push({ path: at('field'), message: 'field is for advertisement devices; GATT points name a characteristic' });
    if (p.byte_offset !== undefined && (!Number.isInteger(p.byte_offset) || p.byte_offset < 0 || p.byte_offset > 511)) {
      issues.push({ path: at('byte_offset'), message: 'byte_offset must be an integer from 0 to 511' });
    }
    if (p.writable === true && (p.byte_offset ?? 0) !== 0) {
      issues.push({ path: at('byte_offset'), message: 'a writable point must start at byte 0: a write replaces the whole characteristic value' });
    }
    if (p.write_mode !== undefined && p.writable !== true) {
      issues.push({ path: at('write_mode'), message: 'write_mode only applies to writable points' });
    }
  });
  // Two writable points on one characteristic would overwrite each other's bytes.
  const writableByChar = new Map<string, string>();
  device.points.forEach((p, i) => {
    if (p.writable !== true || !isValidUuid(p.service) || !isValidUuid(p.characteristic)) return;
    const key = `${shortUuid(p.service)}/${shortUuid(p.characteristic)}`;
    const other = writableByChar.get(key);
    if (other) issues.push({ path: ['points', i, 'writable'], message: `point ${other} already writes characteristic ${key}` });
    else writableByChar.set(key, p.name);
  });
}

function checkAdvertisementPoints(device: BleDeviceConfig, issues: ConfigIssue[]): void {
  const format = device.advertisement;
  const spec = format ? ADVERTISEMENT_FORMATS[format] : undefined;
  if (!spec) {
    issues.push({ path: ['advertisement'], message: `unknown advertisement format "${String(format)}" (ruuvi or bthome)` });
    return;
  }
  device.points.forEach((p, i) => {
    for (const key of GATT_ONLY_KEYS) {
      if (p[key] !== undefined) issues.push({ path: ['points', i, key], message: `${key} is for GATT points; ${format} points only name a field` });
    }
    if (p.writable === true) issues.push({ path: ['points', i, 'writable'], message: 'advertisement points cannot be written' });
    const field = typeof p.field === 'string' ? p.field : p.name;
    if (!spec.hasField(field)) {
      const known = spec.fields.map((f) => f.name).join(', ');
      issues.push({
        path: ['points', i, p.field === undefined ? 'name' : 'field'],
        message: `${format} advertisements have no field "${field}" (fields: ${known}, rssi)`,
      });
    }
  });
}

/** The commissioning view for `fieldgate plan`. */
export function planDevice(device: BleDeviceConfig): string {
  const address = normalizeAddress(device.address);
  const adapter = adapterOf(device);
  if (!isGattDevice(device)) {
    const lines = device.points.map((p) => `  ${p.name} <- ${typeof p.field === 'string' ? p.field : p.name}`);
    return [`BLE ${device.advertisement} advertisements of ${address} via ${adapter} (passive listening, no connection)`, ...lines].join('\n');
  }
  const lines = device.points.map((p) => {
    const size = isValueType(p.type) ? typeSize(p.type) : undefined;
    const bytes = size === undefined ? `bytes ${p.byte_offset ?? 0}..end` : `bytes ${p.byte_offset ?? 0}..${(p.byte_offset ?? 0) + size - 1}`;
    const where = `${shortUuid(p.service ?? '')}/${shortUuid(p.characteristic ?? '')}`;
    const write = p.writable === true ? `, writable (${p.write_mode ?? 'request'})` : '';
    return `  ${p.name} <- ${where} ${p.mode ?? 'read'} ${p.type ?? '?'} ${bytes}${write}`;
  });
  return [`BLE GATT ${address} via ${adapter}, connect timeout ${device.connect_timeout ?? '20s'}`, ...lines].join('\n');
}
