// The explicit list of drivers. Adding a driver = one folder in drivers/ plus one line here.
import type { DriverFactory, DeviceConfigBase } from '../src/driver-api/index.js';
import { simDriver } from './sim/index.js';

export const drivers: readonly DriverFactory<DeviceConfigBase>[] = [
  simDriver as DriverFactory<DeviceConfigBase>,
];
