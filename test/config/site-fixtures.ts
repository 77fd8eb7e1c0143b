// Shared helpers for the config tests: a small valid site, a fake driver with resources, and a
// way to get the formatted problems of a text.
import { expect } from 'vitest';
import type { DeviceConfigBase, DriverDescriptor, DriverFactory } from '../../src/driver-api/index.js';
import { ConfigError } from '../../src/config/config-error.js';
import { SiteValidator, type ValidateOptions } from '../../src/config/validate-site.js';
import type { ResolvedSite } from '../../src/config/resolved-site.js';
import { drivers as realDrivers } from '../../drivers/index.js';

export const lines = (...rows: string[]): string => rows.join('\n') + '\n';

/** A valid site; tests replace or append lines to break it in one place. */
export const BASE = lines(
  'site: plant-7', //                   1
  'gateway: gw-01', //                  2
  'mqtt:', //                           3
  '  url: mqtt://127.0.0.1:1883', //    4
  'devices:', //                        5
  '  - name: sim1', //                  6
  '    driver: sim', //                 7
  '    points:', //                     8
  '      - name: temp', //              9
  '        signal: sine', //            10
);

interface BusDevice extends DeviceConfigBase {
  port: string;
  baud?: number;
}

/** A fake serial-bus driver: devices on one port may share it only at the same baud rate. */
export const busDriver: DriverFactory<BusDevice> = {
  type: 'bus',
  description: 'fake bus driver for tests',
  deviceSchema: {
    properties: { port: { type: 'string', minLength: 1 }, baud: { type: 'integer', minimum: 1 } },
    required: ['port'],
  },
  pointSchema: {
    properties: {
      register: { type: 'integer', minimum: 0 },
      field: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'integer', minimum: 0 }] },
    },
    required: ['register'],
  },
  polled: () => true,
  check: (device) =>
    device.points.flatMap((p, i) => (p.register === 13 ? [{ path: ['points', i, 'register'], message: 'register 13 is unlucky' }] : [])),
  resources: (device) => [
    { id: `serial:${device.port}`, share: device.baud === undefined ? undefined : `baud=${device.baud}`, describe: `${device.baud ?? '?'} baud` },
  ],
  create: () => {
    throw new Error('not used in config tests');
  },
};

export const testDrivers: readonly DriverDescriptor[] = [...realDrivers, busDriver as unknown as DriverDescriptor];

// One validator per test file: compiling the schemas is the slow part (validateSiteText is
// `new SiteValidator(drivers).validate(…)`, tested on its own in validate-site.test.ts).
const validator = new SiteValidator(testDrivers);

export function validate(
  text: string,
  env: NodeJS.ProcessEnv = {},
  options: ValidateOptions = { hostname: 'test-host' },
  file = 'site.yaml',
): ResolvedSite {
  return validator.validate(text, file, env, options);
}

/** The formatted problems of an invalid text; fails the test when the text is valid. */
export function problems(text: string, env: NodeJS.ProcessEnv = {}, file = 'site.yaml'): string[] {
  try {
    validator.validate(text, file, env, { hostname: 'test-host' });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).format().split('\n');
  }
  expect.fail('expected the site file to be invalid');
}
