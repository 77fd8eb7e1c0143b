// The simulated device: deterministic signals for demos, tests and benchmarks.
import type { DriverFactory } from '../../src/driver-api/index.js';
import { simDescriptor, type SimDeviceConfig } from './descriptor.js';
import { SimDriver } from './sim-driver.js';
export type { SimSignal, SimPointConfig, SimDeviceConfig } from './descriptor.js';

export const simDriver: DriverFactory<SimDeviceConfig> = {
  ...simDescriptor,
  // withDefaults is idempotent: the core applied it already; a direct caller (a test) gets it here.
  create: (device, ctx) => new SimDriver(simDescriptor.withDefaults!(device), ctx),
};
