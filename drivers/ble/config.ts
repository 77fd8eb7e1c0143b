// Site-file shape of BLE devices and the small normalisations every other module relies on
// (addresses upper-case with colons, UUIDs as BlueZ reports them: lower-case 128-bit).
import { parseDuration, type DeviceConfigBase, type PointConfigBase } from '../../src/driver-api/index.js';
import { VALUE_TYPES, type ValueType } from './value-codec.js';

export type PointMode = 'read' | 'notify';
export type WriteMode = 'request' | 'command';
export type AdvertisementFormat = 'ruuvi' | 'bthome';

export interface BlePointConfig extends PointConfigBase {
  /** GATT: service UUID, 16-bit short form ("181a") or 128-bit. */
  service?: string;
  /** GATT: characteristic UUID, same forms as service. */
  characteristic?: string;
  mode?: PointMode;
  type?: ValueType;
  /** GATT: where the value starts inside the characteristic value (several points may share one). */
  byte_offset?: number;
  /** GATT writes: with response (request, default) or without (command). */
  write_mode?: WriteMode;
  /** Advertisement: the decoded field; defaults to the point name. */
  field?: string;
}

export interface BleDeviceConfig extends DeviceConfigBase {
  adapter?: string;
  address: string;
  advertisement?: AdvertisementFormat;
  /** Connect plus service resolution, default 20s. */
  connect_timeout?: string;
  /** One read or write, default 10s. */
  timeout?: string;
  /** Retry delays after a failure: the first (default 1s), doubling with jitter up to max (default 60s). */
  reconnect?: { initial?: string; max?: string };
  points: BlePointConfig[];
}

export const DEFAULT_ADAPTER = 'hci0';
export const DEFAULTS = {
  connect_timeout: '20s',
  timeout: '10s',
  reconnect: { initial: '1s', max: '60s' },
} as const;

export const ADDRESS_PATTERN = '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$';
export const ADAPTER_PATTERN = '^hci[0-9]{1,3}$';
export const UUID_PATTERN = '^([0-9A-Fa-f]{4}|[0-9A-Fa-f]{8}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$';

const ADDRESS_RE = new RegExp(ADDRESS_PATTERN);
const UUID_RE = new RegExp(UUID_PATTERN);
const BASE_UUID_SUFFIX = '-0000-1000-8000-00805f9b34fb';

export function isValidAddress(address: unknown): address is string {
  return typeof address === 'string' && ADDRESS_RE.test(address);
}

export function normalizeAddress(address: string): string {
  return address.toUpperCase();
}

export function isValidUuid(uuid: unknown): uuid is string {
  return typeof uuid === 'string' && UUID_RE.test(uuid);
}

/** "181a" → "0000181a-0000-1000-8000-00805f9b34fb": the form BlueZ uses in its UUID properties. */
export function normalizeUuid(uuid: string): string {
  const u = uuid.toLowerCase();
  if (u.length === 4) return `0000${u}${BASE_UUID_SUFFIX}`;
  if (u.length === 8) return `${u}${BASE_UUID_SUFFIX}`;
  return u;
}

/** Short form for messages: 16-bit UUIDs of the Bluetooth base range as 4 hex digits. */
export function shortUuid(uuid: string): string {
  const u = normalizeUuid(uuid);
  return u.startsWith('0000') && u.endsWith(BASE_UUID_SUFFIX) ? u.slice(4, 8) : u;
}

export function adapterOf(device: BleDeviceConfig): string {
  return device.adapter ?? DEFAULT_ADAPTER;
}

/** BlueZ's D-Bus object path of a device, e.g. /org/bluez/hci0/dev_C4_7C_8D_6A_12_34. */
export function devicePath(adapter: string, address: string): string {
  return `/org/bluez/${adapter}/dev_${normalizeAddress(address).replace(/:/g, '_')}`;
}

export function isGattDevice(device: BleDeviceConfig): boolean {
  return device.advertisement === undefined;
}

/** Backoff settings of a device, defaults filled in. */
export function reconnectOptions(device: BleDeviceConfig): { initialMs: number; maxMs: number } {
  return {
    initialMs: parseDuration(device.reconnect?.initial ?? DEFAULTS.reconnect.initial),
    maxMs: parseDuration(device.reconnect?.max ?? DEFAULTS.reconnect.max),
  };
}

export function isValueType(type: unknown): type is ValueType {
  return typeof type === 'string' && (VALUE_TYPES as readonly string[]).includes(type);
}
