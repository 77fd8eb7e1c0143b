import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SdNotify } from '../../src/service/sd-notify.js';
import { Watchdog, type ProgressReport } from '../../src/service/watchdog.js';
import { FieldgateError } from '../../src/util/errors.js';
import { captureLogger, ERROR, INFO } from './capture-logger.js';

function fakeNotify(): { watchdog: () => void; pings: number } {
  const fake = { pings: 0, watchdog: () => { fake.pings += 1; } };
  return fake;
}

describe('Watchdog (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps its check interval within what a timer can hold, whatever WATCHDOG_USEC says', () => {
    const { logger } = captureLogger();
    const dog = new Watchdog({ notify: fakeNotify(), periodMs: 365 * 86_400_000, progress: () => ({ ok: true }), logger });
    expect(dog.intervalMs).toBe(2 ** 31 - 1);
  });

  it('pings three times per period while the gateway makes progress', () => {
    const notify = fakeNotify();
    const { logger, lines } = captureLogger();
    const dog = new Watchdog({ notify, periodMs: 30_000, progress: () => ({ ok: true }), logger });
    dog.start();
    expect(notify.pings).toBe(1); // at once, not a full interval later
    expect(dog.intervalMs).toBe(10_000);
    vi.advanceTimersByTime(9_999);
    expect(notify.pings).toBe(1);
    vi.advanceTimersByTime(1);
    expect(notify.pings).toBe(2);
    vi.advanceTimersByTime(60_000);
    expect(notify.pings).toBe(8);
    expect(dog.current).toBe('progressing');
    expect(lines).toEqual([]);
    dog.stop();
  });

  it('withholds pings while stalled, logs the reason once, and resumes on recovery', () => {
    const notify = fakeNotify();
    const { logger, lines } = captureLogger();
    let report: ProgressReport = { ok: true };
    const dog = new Watchdog({ notify, periodMs: 3_000, progress: () => report, logger });
    dog.start();
    vi.advanceTimersByTime(3_000);
    expect(notify.pings).toBe(4);

    report = { ok: false, reason: 'journal has not accepted a write for 45s' };
    vi.advanceTimersByTime(10_000); // 10 checks, far past the 3 s systemd would allow
    expect(notify.pings).toBe(4);
    expect(dog.current).toBe('stalled');
    const errors = lines.filter((l) => l.level === ERROR);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.reason).toBe('journal has not accepted a write for 45s');
    expect(errors[0]!.msg).toMatch(/withholding watchdog pings/);

    report = { ok: true };
    vi.advanceTimersByTime(1_000);
    expect(notify.pings).toBe(5);
    const infos = lines.filter((l) => l.level === INFO);
    expect(infos).toHaveLength(1);
    expect(infos[0]!.stalledForMs).toBe(10_000);

    // a second stall is a new state change and is logged again
    report = { ok: false, reason: 'forwarder wedged' };
    vi.advanceTimersByTime(5_000);
    expect(notify.pings).toBe(5);
    expect(lines.filter((l) => l.level === ERROR).map((l) => l.reason)).toEqual([
      'journal has not accepted a write for 45s', 'forwarder wedged',
    ]);
    dog.stop();
  });

  it('treats a throwing probe as no progress', () => {
    const notify = fakeNotify();
    const { logger, lines } = captureLogger();
    const dog = new Watchdog({ notify, periodMs: 3_000, progress: () => { throw new Error('scheduler gone'); }, logger });
    dog.start();
    vi.advanceTimersByTime(6_000);
    expect(notify.pings).toBe(0);
    const errors = lines.filter((l) => l.level === ERROR);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.reason).toBe('progress probe failed: scheduler gone');
    dog.stop();
  });

  it('stops pinging after stop()', () => {
    const notify = fakeNotify();
    const dog = new Watchdog({ notify, periodMs: 2_000, progress: () => ({ ok: true }), logger: captureLogger().logger, checksPerPeriod: 2 });
    dog.start();
    vi.advanceTimersByTime(2_000);
    expect(notify.pings).toBe(3);
    dog.stop();
    vi.advanceTimersByTime(10_000);
    expect(notify.pings).toBe(3);
    expect(dog.current).toBe('idle');
  });

  it('refuses a period that would never ping', () => {
    const { logger } = captureLogger();
    for (const periodMs of [0, -5, Number.NaN]) {
      const dog = new Watchdog({ notify: fakeNotify(), periodMs, progress: () => ({ ok: true }), logger });
      expect(() => dog.start()).toThrow(FieldgateError);
    }
    const once = new Watchdog({ notify: fakeNotify(), periodMs: 1000, progress: () => ({ ok: true }), logger, checksPerPeriod: 1 });
    expect(() => once.start()).toThrow(/at least 2 checks/);
  });
});

describe('Watchdog with SdNotify and a real notify socket', () => {
  let dir: string;
  let close: (() => void) | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fg-watchdog-'));
  });
  afterEach(() => {
    close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends WATCHDOG=1 datagrams only while progress is reported', async () => {
    const socketPath = path.join(dir, 'notify');
    const unix = createRequire(import.meta.url)('unix-dgram') as {
      createSocket(t: 'unix_dgram', l: (b: Buffer) => void): { bind(p: string): void; close(): void };
    };
    const got: string[] = [];
    const socket = unix.createSocket('unix_dgram', (b) => got.push(b.toString()));
    socket.bind(socketPath);
    close = () => socket.close();

    const { logger } = captureLogger();
    const notify = new SdNotify({ logger, env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '300000' } });
    let ok = true;
    const dog = new Watchdog({ notify, periodMs: notify.watchdogPeriodMs!, progress: () => ({ ok, reason: 'test stall' }), logger });
    dog.start();
    await new Promise((r) => setTimeout(r, 250)); // checks at 0, 100, 200 ms
    const whileOk = got.length;
    expect(whileOk).toBeGreaterThanOrEqual(2);
    expect(new Set(got)).toEqual(new Set(['WATCHDOG=1']));
    ok = false;
    await new Promise((r) => setTimeout(r, 350));
    dog.stop();
    expect(got.length).toBe(whileOk);
  });
});
