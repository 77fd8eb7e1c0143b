// The simulated device: deterministic signals for demos, tests and benchmarks.
import type { DriverFactory } from '../../src/driver-api/index.js';
import { simDescriptor, type SimDeviceConfig } from './descriptor.js';
import { SimDriver } from './sim-driver.js';
export type { SimSignal, SimPointConfig, SimDeviceConfig } from './descriptor.js';

export const simDriver: DriverFactory<SimDeviceConfig> = {
  ...simDescriptor,
  create: (device, ctx) => new SimDriver(device, ctx),
};
