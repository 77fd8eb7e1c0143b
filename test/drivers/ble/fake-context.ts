// A DriverContext for driving the BLE driver directly: records emits, errors and recoveries, with
// a tiny reference-counted SharedResources like the core's.
import { pino } from 'pino';
import type { DriverContext, Reading, SharedResources } from '../../../src/driver-api/index.js';
import { SharedResourcePool } from '../../../src/util/shared-resources.js';

/** The core's reference-counted pool, under the name these tests use. */
export class TinySharedResources extends SharedResourcePool {}

export interface RecordedError {
  kind: string;
  message: string;
}

export class RecordingContext implements DriverContext {
  /** Everything logged at debug and above, parsed. */
  readonly logs: Record<string, unknown>[] = [];
  readonly logger = pino({ level: 'debug' }, {
    write: (line: string) => {
      this.logs.push(JSON.parse(line) as Record<string, unknown>);
      if (process.env['TEST_LOG']) process.stderr.write(line);
    },
  });
  readonly clock = { now: () => Date.now() };
  readonly emitted: Reading[] = [];
  readonly errors: RecordedError[] = [];
  recoveries = 0;

  constructor(readonly resources: SharedResources = new TinySharedResources()) {}

  emit(readings: Reading[]): void {
    this.emitted.push(...readings);
  }

  reportError(kind: string, err: unknown): void {
    this.errors.push({ kind, message: err instanceof Error ? err.message : String(err) });
  }

  reportRecovered(): void {
    this.recoveries += 1;
  }

  valuesOf(point: string): Reading['value'][] {
    return this.emitted.filter((r) => r.point === point).map((r) => r.value);
  }

  errorsOf(kind: string): RecordedError[] {
    return this.errors.filter((e) => e.kind === kind);
  }

  logged(pattern: RegExp): number {
    return this.logs.filter((l) => pattern.test(String(l['msg']))).length;
  }
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
