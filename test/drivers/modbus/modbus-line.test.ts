// Scheduling logic of the shared line against a fake transport (the wire itself is covered by the
// integration tests): round-robin fairness, one frame at a time, inter-frame gap, fail-fast while
// down, reconnect with backoff.
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FairQueue } from '../../../drivers/modbus/fair-queue.js';
import { ModbusError } from '../../../drivers/modbus/modbus-error.js';
import { ModbusLine, type JobSettings } from '../../../drivers/modbus/modbus-line.js';
import type { Connection, ModbusClient } from '../../../drivers/modbus/modbus-transport.js';

describe('FairQueue', () => {
  it('serves owners round-robin, each in its own FIFO order', () => {
    const q = new FairQueue<string>();
    for (let i = 1; i <= 4; i++) q.push('a', `a${i}`);
    q.push('b', 'b1');
    q.push('b', 'b2');
    q.push('c', 'c1');
    expect(q.size).toBe(7);
    const out = [q.shift(), q.shift(), q.shift()];
    q.push('c', 'c2'); // c comes back after a and b had their turn
    while (q.size > 0) out.push(q.shift());
    expect(out).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'c2', 'a3', 'a4']);
    expect(q.shift()).toBeUndefined();
  });
  it('removes an owner without disturbing the others', () => {
    const q = new FairQueue<number>();
    q.push('a', 1);
    q.push('b', 2);
    q.push('a', 3);
    expect(q.removeOwner('a')).toEqual([1, 3]);
    expect(q.drain()).toEqual([2]);
  });
});

interface Frame {
  unit: number;
  start: number;
  end: number;
}

/** A fake bus: unit ids in `silent` never answer (the client's own timeout fires), others after `latencyMs`. */
class FakeBus {
  frames: Frame[] = [];
  inFlight = 0;
  maxInFlight = 0;
  connects = 0;
  failConnects = 0;
  silent = new Set<number>();
  latencyMs = 2;
  private closeListeners: ((err: Error) => void)[] = [];

  connect = async (): Promise<Connection> => {
    this.connects += 1;
    if (this.failConnects > 0) {
      this.failConnects -= 1;
      throw new Error('ENOENT: no such port');
    }
    let unit = 1;
    let timeout = 1000;
    const frame = <T>(value: T) => {
      const f: Frame = { unit, start: performance.now(), end: 0 };
      this.inFlight += 1;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      return new Promise<T>((resolve, reject) => {
        const done = (fn: () => void) => {
          this.inFlight -= 1;
          f.end = performance.now();
          this.frames.push(f);
          fn();
        };
        if (this.silent.has(unit)) setTimeout(() => done(() => reject({ name: 'TransactionTimedOutError', message: 'Timed out', errno: 'ETIMEDOUT' })), timeout);
        else setTimeout(() => done(() => resolve(value)), this.latencyMs);
      });
    };
    const client: ModbusClient = {
      setID: (id) => { unit = id; },
      setTimeout: (ms) => { timeout = ms; },
      readHoldingRegisters: (_a, n) => frame({ data: new Array<number>(n).fill(unit) }),
      readInputRegisters: (_a, n) => frame({ data: new Array<number>(n).fill(unit) }),
      readCoils: (_a, n) => frame({ data: new Array<boolean>(n).fill(true) }),
      readDiscreteInputs: (_a, n) => frame({ data: new Array<boolean>(n).fill(true) }),
      writeCoil: () => frame({}),
      writeCoils: () => frame({}),
      writeRegister: () => frame({}),
      writeRegisters: () => frame({}),
    };
    this.closeListeners = [];
    return {
      client,
      onClose: (l) => this.closeListeners.push(l),
      discardInput: () => {},
      close: async () => {},
    };
  };

  unplug(): void {
    for (const l of this.closeListeners) l(new Error('port disconnected'));
  }
}

const lines: ModbusLine[] = [];
function makeLine(bus: FakeBus, recycleAfterTimeouts = 0, logger = pino({ level: 'silent' })): ModbusLine {
  const line = new ModbusLine({
    label: 'rtu /dev/fake',
    connect: bus.connect,
    logger,
    reconnect: { initialMs: 50, maxMs: 200 },
    recycleAfterTimeouts,
    random: () => 0.5,
  });
  lines.push(line);
  line.start();
  return line;
}
afterEach(async () => {
  await Promise.all(lines.splice(0).map((l) => l.stop()));
});

const settings = (unitId: number, extra: Partial<JobSettings> = {}): JobSettings => ({ unitId, timeoutMs: 200, frameGapMs: 0, ...extra });
const read = (line: ModbusLine, owner: string, s: JobSettings) => line.run(owner, s, (c) => c.readRegisters('holding', 0, 1));

describe('ModbusLine', () => {
  it('serves devices round-robin, not in whole polls', async () => {
    const bus = new FakeBus();
    const line = makeLine(bus);
    const order: string[] = [];
    const job = (owner: string, unit: number, i: number) =>
      read(line, owner, settings(unit)).then(() => order.push(`${owner}${i}`));
    // A fast device queues a burst of 6 requests; a slow one queues 2 just after.
    const a = Array.from({ length: 6 }, (_, i) => job('a', 1, i));
    const b = [job('b', 2, 0), job('b', 2, 1)];
    await Promise.all([...a, ...b]);
    expect(order).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'a3', 'a4', 'a5']);
    expect(bus.maxInFlight).toBe(1);
  });

  it('keeps the inter-frame gap between any two frames', async () => {
    const bus = new FakeBus();
    bus.latencyMs = 1;
    const line = makeLine(bus);
    await Promise.all([
      ...Array.from({ length: 5 }, () => read(line, 'a', settings(1, { frameGapMs: 8 }))),
      ...Array.from({ length: 5 }, () => read(line, 'b', settings(2, { frameGapMs: 8 }))),
    ]);
    const frames = [...bus.frames].sort((x, y) => x.start - y.start);
    expect(frames).toHaveLength(10);
    for (let i = 1; i < frames.length; i++) {
      expect(frames[i]!.start - frames[i - 1]!.end).toBeGreaterThanOrEqual(7.5);
    }
  });

  it('a silent device costs the others no more than its own timeout', async () => {
    const bus = new FakeBus();
    bus.silent.add(3);
    const line = makeLine(bus);
    const dead = read(line, 'dead', settings(3, { timeoutMs: 150 })).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    await read(line, 'alive', settings(1));
    const waited = performance.now() - t0;
    expect(waited).toBeLessThan(150 + 120);
    const err = await dead;
    expect(err).toBeInstanceOf(ModbusError);
    expect((err as ModbusError).fault).toBe('timeout');
  });

  it('fails fast while down, reconnects with backoff, and serves again', async () => {
    const bus = new FakeBus();
    const line = makeLine(bus);
    expect(await read(line, 'a', settings(1))).toEqual([1]);
    bus.failConnects = 2;
    bus.unplug();
    expect(line.status).toBe('down');
    const t0 = performance.now();
    const err = await read(line, 'a', settings(1)).catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(50);
    expect(err).toMatchObject({ fault: 'connection' });
    // Stable: the same text at every poll while down (no countdown to the next attempt in it).
    expect((err as Error).message).toBe('rtu /dev/fake: not connected (port disconnected)');
    expect(line.retryInMs).toBeGreaterThan(0);
    // Two failed attempts (backoff 50, 100 ms with random 0.5 → 38, 75 ms), then success.
    const deadline = Date.now() + 2000;
    while (line.status !== 'open' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(line.status).toBe('open');
    expect(bus.connects).toBe(4);
    expect(await read(line, 'a', settings(1))).toEqual([1]);
  });

  it('rejects the queued jobs of a lost connection instead of letting them wait', async () => {
    const bus = new FakeBus();
    bus.latencyMs = 30;
    const line = makeLine(bus);
    const jobs = Array.from({ length: 4 }, () => read(line, 'a', settings(1)).then(() => 'ok', (e: ModbusError) => e.fault));
    await new Promise((r) => setTimeout(r, 10));
    bus.unplug();
    expect(await Promise.all(jobs)).toEqual(['connection', 'connection', 'connection', 'connection']);
  });

  it('recycles a TCP connection after consecutive timeouts', async () => {
    const bus = new FakeBus();
    bus.silent.add(1);
    const line = makeLine(bus, 2);
    await read(line, 'a', settings(1, { timeoutMs: 20 })).catch(() => {});
    expect(line.status).toBe('open');
    await read(line, 'a', settings(1, { timeoutMs: 20 })).catch(() => {});
    expect(line.status).toBe('down');
    bus.silent.clear();
    const deadline = Date.now() + 1000;
    while (line.status !== 'open' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(bus.connects).toBe(2);
  });

  it('a connection that opens to a silent device: the backoff grows, one warning, one line when it answers', async () => {
    const bus = new FakeBus();
    bus.silent.add(1);
    const logs: { level: number; msg: string; retryMs?: number }[] = [];
    const line = makeLine(bus, 2, pino({ level: 'debug' }, { write: (l: string) => void logs.push(JSON.parse(l) as { level: number; msg: string }) }));
    const until = Date.now() + 1200;
    while (Date.now() < until) {
      await read(line, 'a', settings(1, { timeoutMs: 20 })).catch(() => {});
      await new Promise((r) => setTimeout(r, 5));
    }
    // Reset on every connect, each cycle was 2 timeouts + 38 ms: about 15 connections in 1.2 s.
    expect(bus.connects).toBeLessThanOrEqual(8);
    const delays = logs.filter((l) => l.retryMs !== undefined).map((l) => l.retryMs);
    expect(delays.slice(0, 4)).toEqual([38, 75, 150, 150]);
    expect(logs.filter((l) => l.level >= 40).map((l) => l.msg)).toEqual(['modbus line silent: reconnecting', 'modbus line down']);
    bus.silent.clear();
    const deadline = Date.now() + 1000;
    let answered = false;
    while (!answered && Date.now() < deadline) {
      answered = await read(line, 'a', settings(1)).then(() => true, () => false);
      if (!answered) await new Promise((r) => setTimeout(r, 10));
    }
    expect(answered).toBe(true);
    expect(logs.filter((l) => l.msg === 'modbus line answers again')).toHaveLength(1);
    // Answered: the backoff starts over.
    bus.unplug();
    expect(logs.at(-1)).toMatchObject({ msg: 'modbus line down', level: 40, retryMs: 38 });
  });

  it('cancel() drops one device’s queued jobs; stop() the rest', async () => {
    const bus = new FakeBus();
    bus.latencyMs = 20;
    const line = makeLine(bus);
    const a = Array.from({ length: 3 }, () => read(line, 'a', settings(1)).then(() => 'ok', () => 'rejected'));
    const b = Array.from({ length: 3 }, () => read(line, 'b', settings(2)).then(() => 'ok', () => 'rejected'));
    await new Promise((r) => setTimeout(r, 5));
    line.cancel('b');
    expect(await Promise.all(b)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await Promise.all(a)).toEqual(['ok', 'ok', 'ok']);
    const late = read(line, 'a', settings(1)).then(() => 'ok', () => 'rejected');
    await line.stop();
    expect(await late).toBe('rejected');
    await expect(read(line, 'a', settings(1))).rejects.toMatchObject({ fault: 'connection' });
  });
});

/** A link whose library loses a request now and then: `hang` makes every request never settle. */
function hangingConnection(): Connection {
  const never = () => new Promise<never>(() => {});
  const client: ModbusClient = {
    setID: () => {},
    setTimeout: () => {},
    readHoldingRegisters: never,
    readInputRegisters: never,
    readCoils: never,
    readDiscreteInputs: never,
    writeCoil: never,
    writeCoils: never,
    writeRegister: never,
    writeRegisters: never,
  };
  return { client, onClose: () => {}, discardInput: () => {}, close: async () => {} };
}

describe('ModbusLine with a client that may never settle a request (modbus-serial)', () => {
  it('ends such a request by its guard soon after the timeout, and stop() ends one at once', async () => {
    const line = new ModbusLine({
      label: 'rtu /dev/fake', connect: async () => hangingConnection(), logger: pino({ level: 'silent' }),
      reconnect: { initialMs: 50, maxMs: 200 }, recycleAfterTimeouts: 0,
    });
    lines.push(line);
    const t0 = performance.now();
    const err = await read(line, 'a', settings(1, { timeoutMs: 20 })).catch((e: unknown) => e);
    const waited = performance.now() - t0;
    expect(err).toMatchObject({ fault: 'timeout', message: 'read holding 0..0 (unit 1): no answer (timeout)' });
    expect(waited).toBeGreaterThanOrEqual(515);
    expect(waited).toBeLessThan(520 + 300);
    const onWire = read(line, 'a', settings(1, { timeoutMs: 10_000 })).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    const t1 = performance.now();
    await line.stop();
    expect(await onWire).toMatchObject({ fault: 'connection' });
    expect(performance.now() - t1).toBeLessThan(100);
  });
});
