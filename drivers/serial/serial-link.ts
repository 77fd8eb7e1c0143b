// One serial port that heals itself. A port missing at start, or one that disappears (USB
// unplugged, socat gone), is reported once per outage and reopened with jittered backoff, forever;
// when it comes back, data flows to the same handler as before and the device is reported
// recovered. Opening never uses SerialPort.list(): it needs udev and crashes where udev is absent.
//
// A vanished port is noticed two ways. serialport emits 'close' with err.disconnected when a read
// fails; but a hung-up tty reads 0 bytes, which serialport 13 retries in a loop without ever
// reporting (measured: about a third of socat unplugs, each burning a core's third). So the link
// also checks every second that the device path still leads to the node it opened.
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { SerialPort } from 'serialport';
import { Backoff, DeviceError, type BackoffOptions, type DriverContext, errorText } from '../../src/driver-api/index.js';
import type { SerialSettings } from './serial-config.js';

/** The parts of a serialport stream the link uses; tests may hand in a mock. */
export interface PortLike {
  open(callback: (err: Error | null) => void): void;
  close(callback?: (err: Error | null) => void): void;
  write(data: Buffer, callback?: (err: Error | null | undefined) => void): boolean;
  drain(callback?: (err: Error | null) => void): void;
  readonly isOpen: boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'close', listener: (err: (Error & { disconnected?: boolean }) | null) => void): this;
  on(event: 'error' | 'end', listener: (err?: Error) => void): this;
  removeAllListeners(): this;
}

export type PortOpener = (settings: SerialSettings) => PortLike;

export const openSerialPort: PortOpener = (s) =>
  new SerialPort({
    path: s.path,
    baudRate: s.baudRate,
    dataBits: s.dataBits,
    parity: s.parity,
    stopBits: s.stopBits,
    autoOpen: false,
  });

export interface LinkHandlers {
  /** A chunk of bytes as it arrived. */
  data(chunk: Buffer): void;
  /** The port is open (first time or again). */
  opened(): void;
}

const CLOSE_GRACE_MS = 2000;
const WATCH_MS = 1000;

/** Test seams besides the port opener. */
export interface LinkOptions {
  backoff?: BackoffOptions;
  /** How often the device path is checked while the port is open; 0 turns the check off (mock ports). */
  watchMs?: number;
}

export type LinkState = 'idle' | 'opening' | 'open' | 'waiting' | 'stopped';

export class SerialLink {
  private port: PortLike | undefined;
  private state: LinkState = 'idle';
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  /** True from a reported outage until the next successful open. */
  private down = false;
  /** Writes in flight, failed at once when the port goes away (a drain would wait for ever). */
  private readonly inFlight = new Set<(err: Error) => void>();
  private watchTimer: NodeJS.Timeout | undefined;
  private readonly watchMs: number;
  /** A port that stayed open this long (the backoff's cap) earns a fresh backoff when lost. */
  private readonly stableAfterMs: number;
  private openedAt = 0;

  constructor(
    private readonly settings: SerialSettings,
    private readonly ctx: DriverContext,
    private readonly handlers: LinkHandlers,
    private readonly opener: PortOpener = openSerialPort,
    options: LinkOptions = {},
  ) {
    const backoff = { ...settings.reconnect, ...options.backoff };
    this.backoff = new Backoff(backoff);
    this.stableAfterMs = backoff.maxMs ?? 30_000;
    this.watchMs = options.watchMs ?? WATCH_MS;
  }

  get isOpen(): boolean {
    return this.state === 'open' && this.port?.isOpen === true;
  }

  get linkState(): LinkState {
    return this.state;
  }

  /** Resolves after the first open attempt, whatever its outcome (a failure keeps retrying). */
  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    await this.attempt();
  }

  async stop(): Promise<void> {
    this.state = 'stopped';
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.unwatch();
    this.abortWrites('the driver is stopping');
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) {
      await Promise.race([
        new Promise<void>((resolve) => port.close(() => resolve())),
        new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref()),
      ]);
    }
    port?.removeAllListeners();
    port?.on('error', () => undefined);
  }

  /** Writes and waits until the bytes left for the wire; DeviceError when the port is not open. */
  async write(data: Buffer): Promise<void> {
    const port = this.port;
    if (!port || !this.isOpen) {
      throw new DeviceError('disconnected', `serial port ${this.settings.path} is not open`);
    }
    let abort: ((err: Error) => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        abort = reject;
        this.inFlight.add(reject);
        port.write(data, (err) => {
          if (err) return reject(new DeviceError('write', `write to ${this.settings.path} failed: ${err.message}`, { cause: err }));
          port.drain((drainErr) =>
            drainErr
              ? reject(new DeviceError('write', `drain on ${this.settings.path} failed: ${drainErr.message}`, { cause: drainErr }))
              : resolve(),
          );
        });
      });
    } finally {
      if (abort) this.inFlight.delete(abort);
    }
  }

  private abortWrites(why: string): void {
    for (const reject of this.inFlight) reject(new DeviceError('disconnected', `serial port ${this.settings.path}: ${why}`));
    this.inFlight.clear();
  }

  private async attempt(): Promise<void> {
    this.retryTimer = undefined;
    if (this.state === 'stopped') return;
    this.state = 'opening';
    let identity: string | undefined;
    if (this.watchMs > 0) {
      // Taken before opening, so a node swapped between this and the open is caught by the watch.
      try {
        identity = await nodeIdentity(this.settings.path);
      } catch (err) {
        return this.failed(err);
      }
    }
    let port: PortLike;
    try {
      port = this.opener(this.settings);
    } catch (err) {
      // Only invalid options throw here; the schema should have caught them, so keep trying anyway.
      return this.failed(err);
    }
    // Without an 'error' listener a stray stream error would crash the process.
    port.on('error', (err) => this.ctx.logger.debug({ err: err?.message, port: this.settings.path }, 'serial port error'));
    await new Promise<void>((resolve) => {
      port.open((err) => {
        if (err) {
          this.failed(err);
        } else if (this.state === 'stopped') {
          port.close();
        } else {
          this.opened(port, identity);
        }
        resolve();
      });
    });
  }

  private opened(port: PortLike, identity: string | undefined): void {
    this.port = port;
    this.state = 'open';
    // No backoff reset here: an adapter that opens and drops at once (a failing USB hub) would be
    // reopened, and logged, at the shortest delay for ever. lost() resets it after a stable spell.
    this.openedAt = performance.now();
    port.on('data', (chunk) => this.handlers.data(chunk));
    port.on('close', (err) => this.lost(port, err ?? new Error('port closed')));
    // A read of zero bytes ends the stream without a close; the port is unusable then too.
    port.on('end', () => this.lost(port, new Error('end of stream')));
    this.watch(port, identity);
    this.ctx.logger.info({ port: this.settings.path }, 'serial port open');
    if (this.down) {
      this.down = false;
      this.ctx.reportRecovered();
    }
    this.handlers.opened();
  }

  private lost(port: PortLike, err: Error): void {
    if (port !== this.port || this.state === 'stopped') return;
    this.port = undefined;
    this.unwatch();
    port.removeAllListeners();
    port.on('error', () => undefined);
    if (port.isOpen) port.close();
    if (performance.now() - this.openedAt >= this.stableAfterMs) this.backoff.reset();
    this.abortWrites(`port lost (${err.message})`);
    this.failed(err);
  }

  private watch(port: PortLike, identity: string | undefined): void {
    if (this.watchMs <= 0 || identity === undefined) return;
    const check = async (): Promise<void> => {
      let now: string;
      try {
        now = await nodeIdentity(this.settings.path);
      } catch (err) {
        return this.lost(port, new Error(`device path gone (${message(err)})`));
      }
      if (now !== identity) return this.lost(port, new Error('device path now leads to another device'));
      if (!port.isOpen) this.lost(port, new Error('port closed'));
    };
    void check();
    this.watchTimer = setInterval(() => void check(), this.watchMs);
    this.watchTimer.unref();
  }

  private unwatch(): void {
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watchTimer = undefined;
  }

  private failed(err: unknown): void {
    if (this.state === 'stopped') return;
    this.state = 'waiting';
    const delay = this.backoff.next();
    if (!this.down) {
      this.down = true;
      this.ctx.reportError('connection', new DeviceError('connection', `serial port ${this.settings.path}: ${message(err)}`, { cause: err }));
    } else {
      this.ctx.logger.debug({ port: this.settings.path, err: message(err), attempt: this.backoff.attempts, delay }, 'serial port still unavailable');
    }
    this.retryTimer = setTimeout(() => void this.attempt(), delay);
  }
}

/** Which node a path leads to now (symlinks followed): a replugged adapter is a new node. */
async function nodeIdentity(path: string): Promise<string> {
  const st = await stat(path);
  return `${st.dev}:${st.ino}:${st.rdev}`;
}

function message(err: unknown): string {
  return errorText(err);
}
