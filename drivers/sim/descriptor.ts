// The simulated device's descriptor: signal types, schema and checks (no implementation loaded).
import { durationSchema, type DriverDescriptor, type DeviceConfigBase, type PointConfigBase, type ConfigIssue } from '../../src/driver-api/index.js';

export type SimSignal = 'counter' | 'sine' | 'random' | 'constant';

export interface SimPointConfig extends PointConfigBase {
  signal: SimSignal;
  /** constant: the value; sine: the centre line; random: the lower bound. */
  value?: number;
  /** sine: half the peak-to-peak swing; random: width of the range. Default 10. */
  amplitude?: number;
  /** sine: the period, e.g. "60s". */
  period?: string;
}

export interface SimDeviceConfig extends DeviceConfigBase {
  points: SimPointConfig[];
}

/** The sim driver's defaults, in one place. */
export const SIM_DEFAULTS = { value: 0, amplitude: 10, period: '60s' } as const;

export const simDescriptor: DriverDescriptor<SimDeviceConfig> = {
  type: 'sim',
  description: 'simulated device (counter, sine, random and constant signals)',
  deviceSchema: { properties: {} },
  pointSchema: {
    properties: {
      signal: { enum: ['counter', 'sine', 'random', 'constant'], description: 'Signal shape.' },
      value: { type: 'number', description: 'constant: the value; sine: centre; random: lower bound.' },
      amplitude: { type: 'number', description: 'sine: half swing; random: range width. Default 10.' },
      period: durationSchema('sine: period, default 60s;', { min: '1ms', max: '366d' }),
    },
    required: ['signal'],
  },
  polled: () => true,
  valueType: () => 'number',
  withDefaults: (device) => ({
    ...device,
    points: device.points.map((p) => ({
      // A constant has no default value: the check asks for one.
      ...p, ...(p.signal === 'constant' ? {} : { value: p.value ?? SIM_DEFAULTS.value }), amplitude: p.amplitude ?? SIM_DEFAULTS.amplitude, period: p.period ?? SIM_DEFAULTS.period,
    })),
  }),
  check(device) {
    const issues: ConfigIssue[] = [];
    device.points.forEach((p, i) => {
      if (p.signal === 'constant' && p.value === undefined) {
        issues.push({ path: ['points', i], message: 'a constant signal needs a value' });
      }
    });
    return issues;
  },
};
