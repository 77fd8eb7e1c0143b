// The BLE driver's descriptor: schema, checks, adapter claims and plan, without BlueZ's D-Bus
// client (dbus-next, node-ble).
import { durationSchema, mergeDefaults, type DriverDescriptor, type ResourceClaim } from '../../src/driver-api/index.js';
import { checkDevice, planDevice } from './check.js';
import {
  ADAPTER_PATTERN,
  DEFAULTS,
  DEFAULT_ADAPTER,
  ADDRESS_PATTERN,
  UUID_PATTERN,
  adapterOf,
  isGattDevice,
  normalizeAddress,
  type BleDeviceConfig,
} from './config.js';
import { VALUE_TYPES } from './value-codec.js';

export type { BleDeviceConfig, BlePointConfig } from './config.js';

/** Ranges of the driver's durations (README lists them). */
export const BLE_RANGES = {
  connect_timeout: { min: '1ms', max: '10m' },
  timeout: { min: '1ms', max: '5m' },
  reconnect: { min: '1ms', max: '1d' },
} as const;

export const bleDescriptor: DriverDescriptor<BleDeviceConfig> = {
  type: 'ble',
  description: 'Bluetooth LE through BlueZ: GATT read/notify/write, RuuviTag and BTHome advertisements',
  deviceSchema: {
    properties: {
      adapter: { type: 'string', pattern: ADAPTER_PATTERN, description: 'BlueZ adapter, default hci0.' },
      address: { type: 'string', pattern: ADDRESS_PATTERN, description: 'Device address, e.g. "C4:7C:8D:6A:12:34".' },
      advertisement: {
        enum: ['ruuvi', 'bthome'],
        description: 'Listen to advertisements in this format instead of connecting (ruuvi: data format 5, bthome: v2 unencrypted).',
      },
      connect_timeout: durationSchema('GATT: connect plus service discovery, default 20s;', BLE_RANGES.connect_timeout),
      timeout: durationSchema('GATT: one read or write, default 10s;', BLE_RANGES.timeout),
      reconnect: {
        type: 'object',
        description: 'Retry backoff after a failure or link loss: first delay and cap (defaults 1s and 60s).',
        properties: { initial: durationSchema('First delay,', BLE_RANGES.reconnect), max: durationSchema('Cap,', BLE_RANGES.reconnect) },
        additionalProperties: false,
      },
    },
    required: ['address'],
  },
  pointSchema: {
    properties: {
      service: { type: 'string', pattern: UUID_PATTERN, description: 'GATT service UUID, 16-bit ("181a") or 128-bit.' },
      characteristic: { type: 'string', pattern: UUID_PATTERN, description: 'GATT characteristic UUID, 16-bit or 128-bit.' },
      mode: { enum: ['read', 'notify'], description: 'read: every interval; notify: on every notification.' },
      type: { enum: [...VALUE_TYPES], description: 'How the characteristic value is decoded.' },
      byte_offset: { type: 'integer', minimum: 0, maximum: 511, description: 'Where the value starts in the characteristic, default 0.' },
      write_mode: { enum: ['request', 'command'], description: 'Writes with response (request, default) or without (command).' },
      field: { type: 'string', description: 'Advertisement devices: the decoded field, default the point name.' },
    },
  },
  // A list of addresses: one device per sensor of the same kind.
  fanOut: { key: 'address', ranges: false },
  polled: (device) => isGattDevice(device) && device.points.some((p) => (p.mode ?? 'read') === 'read'),
  // Timeouts and backoff belong to GATT connections; an advertisement device has none to default.
  withDefaults: (device) => mergeDefaults<BleDeviceConfig>({
    adapter: DEFAULT_ADAPTER,
    ...(isGattDevice(device)
      ? { connect_timeout: DEFAULTS.connect_timeout, timeout: DEFAULTS.timeout, reconnect: { ...DEFAULTS.reconnect } }
      : {}),
  }, device),
  check: checkDevice,
  resources(device): ResourceClaim[] {
    const adapter = adapterOf(device);
    const claims: ResourceClaim[] = [{ id: `ble:${adapter}`, share: 'ble', describe: `BLE adapter ${adapter}` }];
    // One GATT connection per device: two site-file devices must not fight over it.
    if (isGattDevice(device) && typeof device.address === 'string') {
      claims.push({ id: `ble:${adapter}:${normalizeAddress(device.address)}`, describe: `GATT connection to ${normalizeAddress(device.address)}` });
    }
    return claims;
  },
  plan: planDevice,
};
