// The GATT plan of a device, compiled once in create(): points grouped by characteristic, so a
// characteristic carrying several values (byte_offset) is read once per poll and subscribed once.
// Turning a characteristic value into readings is pure and unit tested.
import { errorText } from '../../src/driver-api/index.js';
import type { Reading } from '../../src/driver-api/index.js';
import { normalizeUuid, shortUuid, type BleDeviceConfig, type PointMode, type WriteMode } from './config.js';
import { decodeValue, type ValueType } from './value-codec.js';

export interface BoundPoint {
  name: string;
  mode: PointMode;
  type: ValueType;
  offset: number;
  writable: boolean;
  writeMode: WriteMode;
}

export interface CharacteristicGroup {
  /** "<service uuid>/<characteristic uuid>", both normalised. */
  key: string;
  service: string;
  characteristic: string;
  /** For messages: short UUIDs, e.g. "181a/2a6e". */
  label: string;
  points: BoundPoint[];
}

export interface GattPlan {
  groups: CharacteristicGroup[];
  /** Point name -> its group and binding. */
  byPoint: Map<string, { group: CharacteristicGroup; point: BoundPoint }>;
  polled: boolean;
}

/** Assumes check() passed: every point has service, characteristic, mode and type. */
export function compileGattPlan(device: BleDeviceConfig): GattPlan {
  const groups = new Map<string, CharacteristicGroup>();
  const byPoint = new Map<string, { group: CharacteristicGroup; point: BoundPoint }>();
  for (const p of device.points) {
    const service = normalizeUuid(p.service ?? '');
    const characteristic = normalizeUuid(p.characteristic ?? '');
    const key = `${service}/${characteristic}`;
    let group = groups.get(key);
    if (!group) {
      group = { key, service, characteristic, label: `${shortUuid(service)}/${shortUuid(characteristic)}`, points: [] };
      groups.set(key, group);
    }
    const point: BoundPoint = {
      name: p.name,
      mode: p.mode ?? 'read',
      type: p.type ?? 'uint8',
      offset: p.byte_offset ?? 0,
      writable: p.writable === true,
      writeMode: p.write_mode ?? 'request',
    };
    group.points.push(point);
    byPoint.set(p.name, { group, point });
  }
  const list = [...groups.values()];
  return { groups: list, byPoint, polled: list.some((g) => g.points.some((p) => p.mode === 'read')) };
}

/** Readings for `points` from one characteristic value; a point whose bytes are missing reads bad. */
export function readingsFromValue(points: readonly BoundPoint[], value: Buffer, ts: number): Reading[] {
  return points.map((p) => {
    try {
      return { point: p.name, value: decodeValue(p.type, value, p.offset), ts, quality: 'good' as const };
    } catch (err) {
      return badReading(p.name, ts, errorText(err));
    }
  });
}

export function badReading(point: string, ts: number, error: string): Reading {
  return { point, value: null, ts, quality: 'bad', error };
}
