import { CommandError, parseDuration, toFiniteNumber, type Driver, type DriverContext, type Reading, type Scalar } from '../../src/driver-api/index.js';
import { SIM_DEFAULTS, type SimDeviceConfig, type SimPointConfig } from './descriptor.js';

export class SimDriver implements Driver {
  private step = 0;
  private readonly periods: number[];
  /** Values written by commands; a written point holds its value like a real setpoint register. */
  private readonly written = new Map<string, number>();

  constructor(
    private readonly device: SimDeviceConfig,
    private readonly ctx: DriverContext,
  ) {
    this.periods = device.points.map((p) => parseDuration(p.period!));
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  async poll(): Promise<Reading[]> {
    const ts = this.ctx.clock.now();
    const step = this.step++;
    return this.device.points.map((p, i) => ({
      point: p.name,
      value: this.written.get(p.name) ?? signalValue(p, step, ts, this.periods[i]!),
      ts,
    }));
  }

  async write(point: string, value: Scalar): Promise<void> {
    let n: number;
    try {
      n = toFiniteNumber(value);
    } catch (err) {
      throw new CommandError('bad_value', `sim point ${point} takes numbers`, { cause: err });
    }
    this.written.set(point, n);
  }
}

export function signalValue(p: SimPointConfig, step: number, ts: number, periodMs: number): number {
  const base = p.value ?? SIM_DEFAULTS.value;
  const amplitude = p.amplitude ?? SIM_DEFAULTS.amplitude;
  switch (p.signal) {
    case 'counter':
      return step;
    case 'sine':
      return Math.round((base + amplitude * Math.sin((2 * Math.PI * ts) / periodMs)) * 1000) / 1000;
    case 'random':
      return Math.round((base + Math.random() * amplitude) * 1000) / 1000;
    case 'constant':
      return base;
  }
}
