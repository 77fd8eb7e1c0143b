// A Modbus line: one connection (a TCP socket, or an RS-485 bus shared by every device on one serial
// port) with one frame on the wire at a time. Devices queue jobs; jobs are served round-robin between
// devices; RTU frames keep the inter-frame silence; a lost connection is re-opened in the background
// with backoff, for ever, while jobs fail fast instead of piling up.
// Error texts are stable (they become the error of published readings and the key that tells one
// fault from another): nothing in them that changes from one poll to the next, such as the time
// left before the next reconnect; that goes to the log as a field.
// The backoff resets once a frame is answered again, not when a connection opens: a TCP gateway
// that accepts connections while the device behind it is silent would otherwise be reconnected
// after every few timeouts at the shortest delay, and logged each time.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Backoff, type Logger, errorText } from '../../src/driver-api/index.js';
import { FairQueue } from './fair-queue.js';
import { ModbusError, toModbusError } from './modbus-error.js';
import type { Connection, ModbusClient } from './modbus-transport.js';
import { ReusableTimer } from './reusable-timer.js';

export type LineState = 'idle' | 'connecting' | 'open' | 'down' | 'stopped';

export interface LineOptions {
  /** "tcp 10.0.0.5:502" or "rtu /dev/ttyUSB0", for logs and error texts. */
  label: string;
  connect: () => Promise<Connection>;
  logger: Logger;
  reconnect: { initialMs: number; maxMs: number };
  /**
   * Consecutive timeouts after which the connection is dropped and re-opened (0 = never). Helps TCP
   * out of half-open sockets; on a serial bus a silent device says nothing about the port.
   */
  recycleAfterTimeouts: number;
  /** Injected for deterministic tests. */
  random?: () => number;
}

/** Per-job settings: the device the frames go to. */
export interface JobSettings {
  unitId: number;
  timeoutMs: number;
  /** Silence before each frame, measured from the end of the previous one. */
  frameGapMs: number;
}

/** What a job gets to talk to its device; every call is one frame, gap and timeout included. */
export interface LineClient {
  readRegisters(table: 'holding' | 'input', start: number, count: number): Promise<number[]>;
  readBits(table: 'coil' | 'discrete', start: number, count: number): Promise<boolean[]>;
  writeCoil(address: number, on: boolean): Promise<void>;
  writeCoils(address: number, states: boolean[]): Promise<void>;
  writeRegister(address: number, value: number): Promise<void>;
  writeRegisters(address: number, values: number[]): Promise<void>;
}

interface Pending {
  settings: JobSettings;
  op: (client: LineClient) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

// A frame the library never answers (its timer lost with the port) must still end.
const GUARD_MARGIN_MS = 500;

export class ModbusLine {
  private state: LineState = 'idle';
  private conn: Connection | undefined;
  private readonly queue = new FairQueue<Pending>();
  private busy = false;
  private lastFrameEnd = 0;
  private lastError: unknown;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryAt = 0;
  private consecutiveTimeouts = 0;
  /** Ends the guarded frame on the wire (see guarded()); unset between frames. */
  private dropInFlight: ((err: Error) => void) | undefined;
  private guardWhat = '';
  private readonly guard = new ReusableTimer(() => this.dropInFlight?.(new ModbusError('timeout', `${this.guardWhat}: no answer (timeout)`)));
  private readonly backoff: Backoff;
  /** A frame was answered (data or a Modbus exception) since the line last went down. */
  private answered = true;

  constructor(private readonly options: LineOptions) {
    this.backoff = new Backoff({
      initialMs: options.reconnect.initialMs,
      maxMs: options.reconnect.maxMs,
      ...(options.random ? { random: options.random } : {}),
    });
  }

  get status(): LineState {
    return this.state;
  }

  /** Idempotent: every device sharing the line calls it. */
  start(): void {
    if (this.state === 'idle') void this.connect();
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearTimeout(this.retryTimer);
    this.guard.stop();
    const err = new ModbusError('connection', `${this.options.label}: stopped`);
    this.dropInFlight?.(err);
    for (const p of this.queue.drain()) p.reject(err);
    const conn = this.conn;
    this.conn = undefined;
    await conn?.close();
  }

  /** Runs op with exclusive use of the line. Rejects at once with a 'connection' error when down. */
  run<T>(owner: string, settings: JobSettings, op: (client: LineClient) => Promise<T>): Promise<T> {
    if (this.state === 'idle') this.start();
    if (this.state === 'stopped') {
      return Promise.reject(new ModbusError('connection', `${this.options.label}: stopped`));
    }
    if (this.state === 'down') return Promise.reject(this.downError());
    return new Promise<T>((resolve, reject) => {
      this.queue.push(owner, { settings, op, resolve: resolve as (v: unknown) => void, reject });
      void this.pump();
    });
  }

  /** Drops an owner's queued jobs (its device stops); a job already on the wire finishes. */
  cancel(owner: string): void {
    const err = new ModbusError('connection', `${this.options.label}: device stopped`);
    for (const p of this.queue.removeOwner(owner)) p.reject(err);
  }

  private downError(): ModbusError {
    const cause = this.lastError instanceof Error ? this.lastError.message : String(this.lastError ?? 'not connected');
    return new ModbusError('connection', `${this.options.label}: not connected (${cause})`, { cause: this.lastError });
  }

  /** Milliseconds until the next reconnect attempt while down (for logs and diagnostics). */
  get retryInMs(): number {
    return this.state === 'down' ? Math.max(0, Math.round(this.retryAt - performance.now())) : 0;
  }

  private async connect(): Promise<void> {
    this.state = 'connecting';
    let conn: Connection;
    try {
      conn = await this.options.connect();
    } catch (err) {
      // stop() may have run while we waited.
      if (this.status === 'stopped') return;
      this.down(err);
      return;
    }
    if (this.status !== 'connecting') {
      await conn.close();
      return;
    }
    this.conn = conn;
    this.state = 'open';
    this.consecutiveTimeouts = 0;
    this.options.logger.debug({ line: this.options.label, attempt: this.backoff.attempts }, 'modbus line connected');
    conn.onClose((err) => this.lost(conn, err));
    void this.pump();
  }

  /** The connection went away (or is being recycled): fail what waits, then reconnect later. */
  private lost(conn: Connection, err: Error): void {
    if (this.conn !== conn || this.state !== 'open') return;
    this.conn = undefined;
    void conn.close();
    this.dropInFlight?.(new ModbusError('connection', `${this.options.label}: ${err.message}`, { cause: err }));
    this.down(err);
  }

  private down(err: unknown): void {
    this.lastError = err;
    const delay = this.backoff.next();
    this.state = 'down';
    this.retryAt = performance.now() + delay;
    const log = { line: this.options.label, err: errorText(err), retryMs: delay };
    // Once per outage: the line had answered something since it last went down (or never went down).
    if (this.answered) this.options.logger.warn(log, 'modbus line down');
    else this.options.logger.debug(log, 'modbus line still down');
    this.answered = false;
    const failure = this.downError();
    for (const p of this.queue.drain()) p.reject(failure);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let conn = this.conn; this.state === 'open' && conn; conn = this.conn) {
        const job = this.queue.shift();
        if (!job) break;
        conn.client.setID(job.settings.unitId);
        conn.client.setTimeout(job.settings.timeoutMs);
        try {
          job.resolve(await job.op(this.clientFor(conn, job.settings)));
        } catch (err) {
          job.reject(err);
        }
      }
    } finally {
      this.busy = false;
    }
  }

  private clientFor(conn: Connection, s: JobSettings): LineClient {
    const frame = <T>(what: string, send: (c: ModbusClient) => Promise<T>) => this.frame(conn, s, what, send);
    const unit = `unit ${s.unitId}`;
    return {
      readRegisters: async (table, start, count) => {
        const what = `read ${table} ${start}..${start + count - 1} (${unit})`;
        const res = await frame(what, (c) => (table === 'holding' ? c.readHoldingRegisters(start, count) : c.readInputRegisters(start, count)));
        if (res.data.length < count) throw shortAnswer(what, res.data.length, count, 'registers');
        return res.data;
      },
      readBits: async (table, start, count) => {
        const what = `read ${table} ${start}..${start + count - 1} (${unit})`;
        const res = await frame(what, (c) => (table === 'coil' ? c.readCoils(start, count) : c.readDiscreteInputs(start, count)));
        if (res.data.length < count) throw shortAnswer(what, res.data.length, count, 'bits');
        return res.data.slice(0, count);
      },
      writeCoil: async (address, on) => {
        await frame(`write coil ${address} (${unit}, FC05)`, (c) => c.writeCoil(address, on));
      },
      writeCoils: async (address, states) => {
        await frame(`write coils ${address}+${states.length} (${unit}, FC15)`, (c) => c.writeCoils(address, states));
      },
      writeRegister: async (address, value) => {
        await frame(`write register ${address} (${unit}, FC06)`, (c) => c.writeRegister(address, value));
      },
      writeRegisters: async (address, values) => {
        await frame(`write registers ${address}+${values.length} (${unit}, FC16)`, (c) => c.writeRegisters(address, values));
      },
    };
  }

  private async frame<T>(conn: Connection, s: JobSettings, what: string, send: (c: ModbusClient) => Promise<T>): Promise<T> {
    if (this.conn !== conn || this.state !== 'open') {
      throw new ModbusError('connection', `${what}: ${this.options.label} not connected`);
    }
    // Timers have millisecond granularity and may fire early against the monotonic clock: re-check.
    for (let wait = this.lastFrameEnd + s.frameGapMs - performance.now(); wait > 0; wait = this.lastFrameEnd + s.frameGapMs - performance.now()) {
      await sleep(Math.ceil(wait));
    }
    conn.discardInput();
    try {
      const result = await (conn.client.settlesEveryRequest ? send(conn.client) : this.guarded(conn.client, s, what, send));
      this.consecutiveTimeouts = 0;
      this.onAnswer();
      return result;
    } catch (err) {
      const failure = toModbusError(err, what);
      if (failure.fault === 'exception') this.onAnswer();
      this.afterFailure(conn, failure);
      throw failure;
    } finally {
      this.dropInFlight = undefined;
      this.lastFrameEnd = performance.now();
    }
  }

  /**
   * A request of a client that may never settle it (modbus-serial, its timer lost with the port):
   * it ends at the latest GUARD_MARGIN_MS after its timeout, or at once when the line drops it.
   */
  private guarded<T>(client: ModbusClient, s: JobSettings, what: string, send: (c: ModbusClient) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.dropInFlight = reject;
      this.guardWhat = what;
      this.guard.start(s.timeoutMs + GUARD_MARGIN_MS);
      send(client).then(resolve, reject);
    });
  }

  /** The device (or the gateway in front of it) answered: the line works. */
  private onAnswer(): void {
    if (this.answered) return;
    this.answered = true;
    if (this.backoff.attempts > 0) this.options.logger.info({ line: this.options.label }, 'modbus line answers again');
    this.backoff.reset();
  }

  private afterFailure(conn: Connection, failure: ModbusError): void {
    if (failure.fault === 'connection') {
      this.lost(conn, failure);
      return;
    }
    if (failure.fault !== 'timeout') {
      this.consecutiveTimeouts = 0;
      return;
    }
    this.consecutiveTimeouts += 1;
    const limit = this.options.recycleAfterTimeouts;
    if (limit > 0 && this.consecutiveTimeouts >= limit) {
      const level = this.answered ? 'warn' : 'debug';
      this.options.logger[level]({ line: this.options.label, timeouts: this.consecutiveTimeouts }, 'modbus line silent: reconnecting');
      this.lost(conn, new Error(`${this.consecutiveTimeouts} timeouts in a row`));
    }
  }
}

function shortAnswer(what: string, got: number, asked: number, unit: string): ModbusError {
  return new ModbusError('protocol', `${what}: short answer`, { cause: new Error(`${got} of ${asked} ${unit} in the answer`) });
}
