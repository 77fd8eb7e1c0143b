// A DriverContext that records what a driver reports, for serial driver tests.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { DriverContext, Reading, SharedResources } from '../../../src/driver-api/index.js';

export interface RecordedError {
  kind: string;
  err: unknown;
}

export interface FakeContext extends DriverContext {
  readings: Reading[];
  errors: RecordedError[];
  recovered: number;
  /** Parsed pino log records, debug and up. */
  logs: Record<string, unknown>[];
  errorsOf(kind: string): RecordedError[];
}

export function fakeContext(device = 'weather', now: () => number = Date.now): FakeContext {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const resources: SharedResources = {
    acquire: (_key, create) => create(),
    release: async () => undefined,
  };
  const ctx: FakeContext = {
    logger: pino({ level: 'debug' }, sink).child({ device }),
    clock: { now },
    readings: [],
    errors: [],
    recovered: 0,
    logs,
    emit: (readings) => void ctx.readings.push(...readings),
    reportError: (kind, err) => void ctx.errors.push({ kind, err }),
    reportRecovered: () => void (ctx.recovered += 1),
    resources,
    errorsOf: (kind) => ctx.errors.filter((e) => e.kind === kind),
  };
  return ctx;
}

/** Polls `check` every 10 ms until it returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
