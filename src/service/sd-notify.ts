// Talks to systemd's notification socket (sd_notify(3)) so a Type=notify unit knows when the gateway
// is ready, reloading or stopping, and receives watchdog pings.
//
// Why unix-dgram and not `systemd-notify`: the unit uses NotifyAccess=main, so systemd accepts
// messages only from the main PID. A `systemd-notify` child has another PID; systemd drops its
// messages unless NotifyAccess=all (which lets any process of the service, including anything a
// compromised dependency spawns, claim READY or feed the watchdog), and when the child exits before
// systemd reads the datagram systemd cannot even tell which unit sent it. Node has no Unix datagram
// sockets of its own, so the main process sends through the small native `unix-dgram` addon (no
// system library needed). The addon copies the address with strncpy and passes the full sockaddr
// length, so it cannot reach abstract names ('@' in NOTIFY_SOCKET); only for those we fall back to
// spawning `systemd-notify` (which then needs NotifyAccess=all). systemd itself always hands
// services a path (/run/systemd/notify), so the fallback is for unusual container managers.
//
// Nothing here ever throws at the caller: a lost notification must not take the gateway down.
// Failures are logged once per episode (first failure, then a line when sending works again).
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Logger } from 'pino';

export type NotifyAddress =
  | { kind: 'path'; path: string }
  /** Linux abstract namespace; `name` starts with the NUL byte that '@' stands for. */
  | { kind: 'abstract'; name: string }
  | { kind: 'unsupported'; raw: string };

/** Decodes $NOTIFY_SOCKET; undefined when it is unset or empty (not started by systemd). */
export function parseNotifySocket(value: string | undefined): NotifyAddress | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.startsWith('/')) return { kind: 'path', path: value };
  if (value.startsWith('@') && value.length > 1) return { kind: 'abstract', name: `\0${value.slice(1)}` };
  // e.g. "vsock:2:1234" (systemd ≥ 253 in VMs): not something a gateway on a Pi meets.
  return { kind: 'unsupported', raw: value };
}

/**
 * The watchdog period systemd expects pings within (WatchdogSec=), in milliseconds, or undefined when
 * the watchdog is off or meant for another process (WATCHDOG_PID names a different PID).
 */
export function watchdogPeriodFromEnv(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usecText = env.WATCHDOG_USEC;
  if (usecText === undefined || !/^\d+$/.test(usecText)) return undefined;
  const usec = Number(usecText);
  if (usec <= 0) return undefined;
  const pidText = env.WATCHDOG_PID;
  if (pidText !== undefined && pidText !== '' && Number(pidText) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 1000));
}

/** Sends one notification datagram. Reports failure through `done`; never throws. */
export interface NotifyTransport {
  send(address: NotifyAddress & { kind: 'path' | 'abstract' }, message: string, done: (err?: Error) => void): void;
}

/** The minimal surface of the unix-dgram addon we use (it ships no type declarations). */
interface UnixDgramSocket {
  on(event: 'error', listener: (err: Error) => void): void;
  send(buf: Buffer, offset: number, length: number, path: string, callback: (err?: Error) => void): void;
  close(): void;
}
interface UnixDgramModule {
  createSocket(type: 'unix_dgram'): UnixDgramSocket;
}

/**
 * Datagrams from this process through unix-dgram. A socket per message, like libsystemd: the addon
 * keeps a referenced libuv poll handle while a socket is open, which would hold the event loop (and
 * the process) open at shutdown; at one message every few seconds the extra socket costs nothing.
 */
export class UnixDgramTransport implements NotifyTransport {
  private module: UnixDgramModule | undefined;

  send(address: NotifyAddress & { kind: 'path' | 'abstract' }, message: string, done: (err?: Error) => void): void {
    if (address.kind !== 'path') {
      done(new Error('unix-dgram cannot address abstract socket names'));
      return;
    }
    let socket: UnixDgramSocket;
    try {
      // Loaded on first use so a machine without systemd never needs the native addon.
      this.module ??= createRequire(import.meta.url)('unix-dgram') as UnixDgramModule;
      socket = this.module.createSocket('unix_dgram');
    } catch (err) {
      done(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    socket.on('error', () => undefined); // errors arrive through the send callback
    const buf = Buffer.from(message, 'utf8');
    // The addon reports a full receive queue as error code 1 with the text "congestion".
    socket.send(buf, 0, buf.length, address.path, (err) => {
      try {
        socket.close();
      } catch {
        // a datagram already handed to the kernel is not lost by a failed close; nothing to do
      }
      done(err ?? undefined);
    });
  }
}

/** Spawns `systemd-notify --no-block` (for abstract socket names only, see the file comment). */
export class SystemdNotifyTransport implements NotifyTransport {
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly binary = 'systemd-notify',
  ) {}

  send(address: NotifyAddress & { kind: 'path' | 'abstract' }, message: string, done: (err?: Error) => void): void {
    const socket = address.kind === 'path' ? address.path : `@${address.name.slice(1)}`;
    const args = ['--no-block', ...message.split('\n')];
    execFile(this.binary, args, { env: { ...this.env, NOTIFY_SOCKET: socket }, timeout: 5000 }, (err) => {
      done(err ?? undefined);
    });
  }
}

export interface SdNotifyOptions {
  logger: Logger;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Defaults to process.pid; compared with WATCHDOG_PID. */
  pid?: number;
  /** Replaces the transport chosen from the address (tests). */
  transport?: NotifyTransport;
}

/** Values for sd_notify(3) must stay on one line: a newline would start another assignment. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

export class SdNotify {
  private readonly address: NotifyAddress | undefined;
  private readonly env: NodeJS.ProcessEnv;
  private readonly pid: number;
  private transport: NotifyTransport | undefined;
  private failing = false;
  private warnedUnsupported = false;

  constructor(private readonly options: SdNotifyOptions) {
    this.env = options.env ?? process.env;
    this.pid = options.pid ?? process.pid;
    this.address = parseNotifySocket(this.env.NOTIFY_SOCKET);
  }

  /** True when started by a service manager that listens for notifications. */
  get enabled(): boolean {
    return this.address !== undefined && this.address.kind !== 'unsupported';
  }

  /** WatchdogSec= of the unit in ms, or undefined when systemd does not watch this process. */
  get watchdogPeriodMs(): number | undefined {
    return this.enabled ? watchdogPeriodFromEnv(this.env, this.pid) : undefined;
  }

  ready(status?: string): void {
    this.send(status === undefined ? ['READY=1'] : ['READY=1', `STATUS=${oneLine(status)}`]);
  }

  /**
   * Before re-reading the configuration. MONOTONIC_USEC (CLOCK_MONOTONIC, which is what
   * process.hrtime reads on Linux) lets systemd ≥ 253 tell this reload from an earlier one; call
   * ready() when the reload is over, whether it succeeded or not.
   */
  reloading(status?: string): void {
    const usec = process.hrtime.bigint() / 1000n;
    const fields = ['RELOADING=1', `MONOTONIC_USEC=${usec}`];
    if (status !== undefined) fields.push(`STATUS=${oneLine(status)}`);
    this.send(fields);
  }

  stopping(status?: string): void {
    this.send(status === undefined ? ['STOPPING=1'] : ['STOPPING=1', `STATUS=${oneLine(status)}`]);
  }

  status(text: string): void {
    this.send([`STATUS=${oneLine(text)}`]);
  }

  watchdog(): void {
    this.send(['WATCHDOG=1']);
  }

  /** Sends raw assignments ("KEY=value"); a no-op without $NOTIFY_SOCKET. */
  send(assignments: readonly string[]): void {
    const address = this.address;
    if (address === undefined || assignments.length === 0) return;
    if (address.kind === 'unsupported') {
      if (!this.warnedUnsupported) {
        this.warnedUnsupported = true;
        this.options.logger.warn({ notifySocket: address.raw }, 'NOTIFY_SOCKET has an address type fieldgate cannot use; not notifying systemd');
      }
      return;
    }
    const transport = this.transportFor(address);
    const message = assignments.join('\n');
    try {
      transport.send(address, message, (err) => this.settle(err, assignments[0]!));
    } catch (err) {
      this.settle(err instanceof Error ? err : new Error(String(err)), assignments[0]!);
    }
  }

  private transportFor(address: NotifyAddress & { kind: 'path' | 'abstract' }): NotifyTransport {
    if (this.transport !== undefined) return this.transport;
    if (this.options.transport !== undefined) {
      this.transport = this.options.transport;
    } else if (address.kind === 'path') {
      this.transport = new UnixDgramTransport();
    } else {
      this.options.logger.warn(
        { notifySocket: `@${address.name.slice(1)}` },
        'NOTIFY_SOCKET is an abstract socket name; notifying through systemd-notify, which needs NotifyAccess=all',
      );
      this.transport = new SystemdNotifyTransport(this.env);
    }
    return this.transport;
  }

  private settle(err: Error | undefined, first: string): void {
    if (err !== undefined) {
      if (!this.failing) {
        this.failing = true;
        this.options.logger.warn({ err: err.message, message: first }, 'cannot notify systemd; will keep trying silently');
      }
      return;
    }
    if (this.failing) {
      this.failing = false;
      this.options.logger.info('notifying systemd works again');
    }
  }
}
