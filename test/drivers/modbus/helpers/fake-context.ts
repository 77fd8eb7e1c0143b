// A DriverContext for driving the Modbus driver directly: records what the driver reports, and a
// small reference-counted SharedResources like the core's.
import { pino } from 'pino';
import type { DriverContext, Reading, SharedResources } from '../../../../src/driver-api/index.js';
import { SharedResourcePool } from '../../../../src/util/shared-resources.js';

/** The core's pool, counting how many shared objects were created. */
export class TestResources extends SharedResourcePool {
  created = 0;

  override acquire<T>(key: string, create: () => T, dispose: (value: T) => Promise<void> | void): T {
    return super.acquire(key, () => {
      this.created += 1;
      return create();
    }, dispose);
  }
}

export interface Recorder {
  ctx: DriverContext;
  errors: { kind: string; err: unknown }[];
  recovered: number;
  emitted: Reading[];
}

export function fakeContext(resources: SharedResources = new TestResources(), device = 'test'): Recorder {
  const rec: Recorder = {
    errors: [],
    recovered: 0,
    emitted: [],
    ctx: undefined as unknown as DriverContext,
  };
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }).child({ device });
  rec.ctx = {
    logger,
    clock: { now: () => Date.now() },
    emit: (readings) => rec.emitted.push(...readings),
    reportError: (kind, err) => rec.errors.push({ kind, err }),
    reportRecovered: () => {
      rec.recovered += 1;
    },
    resources,
  };
  return rec;
}

/** Readings by point name, for terse assertions. */
export function byName(readings: Reading[]): Record<string, Reading> {
  return Object.fromEntries(readings.map((r) => [r.point, r]));
}

/** Polls until check passes or the deadline runs out; returns the last poll's outcome. */
export async function eventually<T>(attempt: () => Promise<T>, check: (v: T) => boolean, timeoutMs: number, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await attempt();
      if (check(v)) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms; last: ${String(last instanceof Error ? last.message : JSON.stringify(last, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)))}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
