// The serial-line (ASCII) driver: sensors and instruments that print text lines on a serial port,
// either on their own (listen mode) or when asked (request/response mode).
import type { DriverFactory } from '../../src/driver-api/index.js';
import { serialDescriptor, type SerialDeviceConfig } from './descriptor.js';
import { SerialDriver } from './serial-driver.js';
export type { SerialDeviceConfig, SerialPointConfig, LineFormat, Parity, FirstLine } from './serial-config.js';
export { SerialDriver, type SerialDriverOptions } from './serial-driver.js';

export const serialDriver: DriverFactory<SerialDeviceConfig> = {
  ...serialDescriptor,
  create: (device, ctx) => new SerialDriver(device, ctx),
};
