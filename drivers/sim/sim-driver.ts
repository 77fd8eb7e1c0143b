import { parseDuration, type Driver, type DriverContext, type Reading } from '../../src/driver-api/index.js';
import type { SimDeviceConfig, SimPointConfig } from './index.js';

export class SimDriver implements Driver {
  private step = 0;
  private readonly periods: number[];

  constructor(
    private readonly device: SimDeviceConfig,
    private readonly ctx: DriverContext,
  ) {
    this.periods = device.points.map((p) => parseDuration(p.period ?? '60s'));
  }

  async start(): Promise<void> {}

  async stop(): Promise<void> {}

  async poll(): Promise<Reading[]> {
    const ts = this.ctx.clock.now();
    const step = this.step++;
    return this.device.points.map((p, i) => ({ point: p.name, value: signalValue(p, step, ts, this.periods[i]!), ts }));
  }

  async write(point: string, value: number | boolean | string | bigint): Promise<void> {
    const p = this.device.points.find((q) => q.name === point);
    if (p) p.value = Number(value);
  }
}

export function signalValue(p: SimPointConfig, step: number, ts: number, periodMs: number): number {
  const base = p.value ?? 0;
  const amplitude = p.amplitude ?? 10;
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
