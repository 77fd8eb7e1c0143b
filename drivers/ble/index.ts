// The BLE driver: GATT devices through BlueZ (node-ble), RuuviTag and BTHome advertisements.
import type { DriverFactory } from '../../src/driver-api/index.js';
import { bleDescriptor, type BleDeviceConfig } from './descriptor.js';
import { BleDriver } from './ble-driver.js';
export type { BleDeviceConfig, BlePointConfig } from './config.js';

export const bleDriver: DriverFactory<BleDeviceConfig> = {
  ...bleDescriptor,
  create: (device, ctx) => new BleDriver(device, ctx),
};
