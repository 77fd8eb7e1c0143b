// A real mosquitto per test file: config in a temp dir, its own port on 127.0.0.1, and handles to
// simulate outages (stop/kill/pause/restart on the same port). Every broker started here is
// tracked in a process-wide registry so that a failing test cannot leak a broker: call
// `disposeAllBrokers()` in afterAll (or `registerBrokerCleanup()` once per file), and an 'exit'
// hook SIGKILLs whatever is still alive when the worker process ends.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { freePort } from './free-port.js';
import { makeTestPki, type TestPki } from './pki.js';

export interface StartMosquittoOptions {
  /** Require this user (allow_anonymous false + password_file). */
  auth?: { username: string; password: string };
  /**
   * 'server': TLS with a test CA (url becomes mqtts://localhost:port). 'mutual': also requires a
   * client certificate signed by that CA and uses its CN as the username.
   */
  tls?: 'server' | 'mutual';
  /** Keep sessions and retained messages across stop()/restart() (reliable with SIGTERM only). */
  persistence?: boolean;
  /** Listen on this port instead of a fresh free one. */
  port?: number;
  /** Per-client queue limit; default 1,000,000 so bursty tests do not lose messages at the broker. */
  maxQueuedMessages?: number;
  /** Per-client QoS 1/2 messages in flight towards subscribers; default 100 (mosquitto: 20). */
  maxInflightMessages?: number;
  /** Overrides the default (true without auth/mTLS, false with them). */
  allowAnonymous?: boolean;
  /** Extra mosquitto.conf lines, appended last. */
  extraConfig?: string[];
  /** How long to wait for the port to accept connections; default 5 s. */
  readyTimeoutMs?: number;
}

export interface Broker {
  readonly port: number;
  /** mqtt://127.0.0.1:port, or mqtts://localhost:port with TLS (the certificate names localhost). */
  readonly url: string;
  /** Temp dir holding mosquitto.conf, the password file, PKI and persistence data. */
  readonly dir: string;
  /** PKI paths when started with `tls`. */
  readonly pki: TestPki | undefined;
  readonly running: boolean;
  /** The broker's stdout+stderr so far (the last ~256 KiB): print it when a test fails. */
  output(): string;
  /** SIGTERM and wait for exit (saves persistence). No-op when not running. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: a crash, nothing saved. No-op when not running. */
  kill(): Promise<void>;
  /** SIGSTOP: a hung broker (sockets stay open, nothing answers). */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Start again on the same port with the same config; waits until it accepts connections. */
  restart(): Promise<void>;
  /** Kill if running and delete the temp dir. Idempotent. */
  dispose(): Promise<void>;
}

const OUTPUT_LIMIT = 256 * 1024;
const DEFAULT_READY_TIMEOUT_MS = 5000;
const STOP_GRACE_MS = 5000;

// The one piece of module state in the harness: the exit hook has to find every live broker.
const liveBrokers = new Set<MosquittoBroker>();
process.on('exit', () => {
  for (const broker of liveBrokers) broker.killSync();
});

/** Starts a mosquitto and resolves once it accepts TCP connections. */
export async function startMosquitto(options: StartMosquittoOptions = {}): Promise<Broker> {
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-mosquitto-'));
  try {
    const port = options.port ?? (await freePort());
    const pki = options.tls ? await makeTestPki(join(dir, 'pki')) : undefined;
    const conf = join(dir, 'mosquitto.conf');
    await writeFile(conf, await buildConfig(dir, port, options, pki));
    const broker = new MosquittoBroker(dir, conf, port, pki, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    liveBrokers.add(broker);
    try {
      await broker.launch();
    } catch (err) {
      await broker.dispose();
      throw err;
    }
    return broker;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Disposes every broker this process started and has not disposed yet. */
export async function disposeAllBrokers(): Promise<void> {
  await Promise.all([...liveBrokers].map((b) => b.dispose()));
}

/** Call once at the top level of a test file: disposes all brokers after the file's tests. */
export function registerBrokerCleanup(): void {
  afterAll(disposeAllBrokers);
}

async function buildConfig(dir: string, port: number, o: StartMosquittoOptions, pki?: TestPki): Promise<string> {
  const lines = [
    `listener ${port} 127.0.0.1`,
    `allow_anonymous ${o.allowAnonymous ?? (o.auth === undefined && o.tls !== 'mutual')}`,
    `max_queued_messages ${o.maxQueuedMessages ?? 1_000_000}`,
    `max_inflight_messages ${o.maxInflightMessages ?? 100}`,
    'set_tcp_nodelay true',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'log_timestamp_format %H:%M:%S',
  ];
  // As root, mosquitto would otherwise drop to user "mosquitto" and fail to read the temp dir.
  if (process.getuid?.() === 0) lines.push('user root');
  if (o.auth) {
    const passwd = join(dir, 'passwd');
    await writeFile(passwd, '');
    await runToEnd('mosquitto_passwd', ['-b', passwd, o.auth.username, o.auth.password]);
    lines.push(`password_file ${passwd}`);
  }
  if (pki) {
    lines.push(`cafile ${pki.caCert}`, `certfile ${pki.serverCert}`, `keyfile ${pki.serverKey}`);
    if (o.tls === 'mutual') lines.push('require_certificate true', 'use_identity_as_username true');
  }
  if (o.persistence) {
    lines.push('persistence true', `persistence_location ${dir}/`, 'autosave_interval 0');
  }
  lines.push(...(o.extraConfig ?? []));
  return `${lines.join('\n')}\n`;
}

function runToEnd(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${stderr}`)),
    );
  });
}

class MosquittoBroker implements Broker {
  readonly url: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private paused = false;
  private out = '';
  private disposed = false;

  constructor(
    readonly dir: string,
    private readonly conf: string,
    readonly port: number,
    readonly pki: TestPki | undefined,
    private readonly readyTimeoutMs: number,
  ) {
    this.url = pki ? `mqtts://localhost:${port}` : `mqtt://127.0.0.1:${port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  output(): string {
    return this.out;
  }

  async launch(): Promise<void> {
    if (this.disposed) throw new Error('broker disposed');
    if (this.child) throw new Error('broker already running');
    const child = spawn('mosquitto', ['-c', this.conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.paused = false;
    const append = (d: Buffer) => {
      this.out += d.toString();
      if (this.out.length > OUTPUT_LIMIT) this.out = this.out.slice(-OUTPUT_LIMIT / 2);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        append(Buffer.from(`[harness] mosquitto exited (code ${code}, signal ${signal})\n`));
        if (this.child === child) this.child = undefined;
        resolve();
      });
      child.once('error', (err) => {
        append(Buffer.from(`[harness] spawn failed: ${err.message}\n`));
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    await this.waitReady(child);
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    for (;;) {
      if (this.child !== child) {
        throw new Error(`mosquitto on port ${this.port} did not start:\n${this.out}`);
      }
      if (await canConnect(this.port)) return;
      if (Date.now() > deadline) {
        throw new Error(`mosquitto on port ${this.port} not accepting after ${this.readyTimeoutMs} ms:\n${this.out}`);
      }
      await new Promise((r) => setTimeout(r, 15));
    }
  }

  async stop(): Promise<void> {
    await this.signalAndWait('SIGTERM');
  }

  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL');
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill(signal);
    // A stopped process only acts on SIGTERM once it runs again.
    if (this.paused && signal !== 'SIGKILL') this.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  pause(): void {
    if (!this.child) throw new Error('broker not running');
    this.child.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (!this.child) throw new Error('broker not running');
    this.child.kill('SIGCONT');
    this.paused = false;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.kill();
    liveBrokers.delete(this);
    await rm(this.dir, { recursive: true, force: true });
  }

  /** For the exit hook: nothing async can run there. */
  killSync(): void {
    this.child?.kill('SIGKILL');
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
