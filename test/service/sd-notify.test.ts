import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SdNotify, parseNotifySocket, watchdogPeriodFromEnv, type NotifyTransport } from '../../src/service/sd-notify.js';
import { captureLogger, INFO, WARN } from './capture-logger.js';

// Debian's interpreter: the python3 first on PATH may be a slow-starting shim.
const PYTHON = '/usr/bin/python3';

interface Receiver {
  messages: string[];
  close(): void;
}

/** A stand-in for systemd's notify socket: a Unix datagram socket bound to a path. */
function bindReceiver(socketPath: string): Receiver {
  const unix = createRequire(import.meta.url)('unix-dgram') as {
    createSocket(type: 'unix_dgram', listener: (buf: Buffer) => void): {
      bind(p: string): void; close(): void; on(e: string, l: (err: Error) => void): void;
    };
  };
  const messages: string[] = [];
  const socket = unix.createSocket('unix_dgram', (buf) => messages.push(buf.toString('utf8')));
  let bindError: Error | undefined;
  socket.on('error', (err) => { bindError = err; });
  socket.bind(socketPath);
  if (bindError) throw bindError;
  return { messages, close: () => socket.close() };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('parseNotifySocket', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['/run/systemd/notify', { kind: 'path', path: '/run/systemd/notify' }],
    ['@fieldgate/notify', { kind: 'abstract', name: '\0fieldgate/notify' }],
    ['@', { kind: 'unsupported', raw: '@' }],
    ['vsock:2:1234', { kind: 'unsupported', raw: 'vsock:2:1234' }],
    ['relative/path', { kind: 'unsupported', raw: 'relative/path' }],
  ])('%j', (input, expected) => {
    expect(parseNotifySocket(input)).toEqual(expected);
  });
});

describe('watchdogPeriodFromEnv', () => {
  it.each([
    [{ WATCHDOG_USEC: '30000000' }, 30_000],
    [{ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '4242' }, 30_000],
    [{ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }, undefined],
    [{ WATCHDOG_USEC: '0' }, undefined],
    [{ WATCHDOG_USEC: 'soon' }, undefined],
    [{ WATCHDOG_USEC: '500' }, 1],
    [{}, undefined],
  ])('%j', (env, expected) => {
    expect(watchdogPeriodFromEnv(env, 4242)).toBe(expected);
  });
});

describe('SdNotify', () => {
  let dir: string;
  let receiver: Receiver | undefined;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fg-notify-'));
  });
  afterEach(() => {
    receiver?.close();
    receiver = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('does nothing without NOTIFY_SOCKET', () => {
    const sent: string[] = [];
    const transport: NotifyTransport = { send: (_a, m, done) => { sent.push(m); done(); } };
    const { logger, lines } = captureLogger();
    const notify = new SdNotify({ logger, env: { WATCHDOG_USEC: '1000000' }, transport });
    notify.ready('up');
    notify.watchdog();
    notify.stopping();
    expect(notify.enabled).toBe(false);
    expect(notify.watchdogPeriodMs).toBeUndefined();
    expect(sent).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('sends READY, STATUS, WATCHDOG, RELOADING and STOPPING datagrams from this process', async () => {
    const socketPath = path.join(dir, 'notify');
    receiver = bindReceiver(socketPath);
    const { logger, lines } = captureLogger();
    const notify = new SdNotify({ logger, env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '30000000' } });
    expect(notify.enabled).toBe(true);
    expect(notify.watchdogPeriodMs).toBe(30_000);

    notify.ready('polling 3 devices\nsecond line');
    notify.watchdog();
    notify.status('journal 12 messages behind');
    const before = process.hrtime.bigint() / 1000n;
    notify.reloading('reloading configuration');
    const after = process.hrtime.bigint() / 1000n;
    notify.stopping('stopping');
    await until(() => receiver!.messages.length === 5);

    const [ready, ping, status, reloading, stopping] = receiver.messages;
    expect(ready).toBe('READY=1\nSTATUS=polling 3 devices second line');
    expect(ping).toBe('WATCHDOG=1');
    expect(status).toBe('STATUS=journal 12 messages behind');
    const m = /^RELOADING=1\nMONOTONIC_USEC=(\d+)\nSTATUS=reloading configuration$/.exec(reloading!);
    expect(m).not.toBeNull();
    const usec = BigInt(m![1]!);
    expect(usec >= before && usec <= after).toBe(true);
    expect(stopping).toBe('STOPPING=1\nSTATUS=stopping');
    expect(lines.filter((l) => l.level >= WARN)).toEqual([]);
  });

  it('stamps MONOTONIC_USEC from CLOCK_MONOTONIC, the clock systemd compares it with', () => {
    const sent: string[] = [];
    const transport: NotifyTransport = { send: (_a, m, done) => { sent.push(m); done(); } };
    const notify = new SdNotify({ logger: captureLogger().logger, env: { NOTIFY_SOCKET: '/nowhere' }, transport });
    const probe = 'import time; print(time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)';
    const lo = BigInt(execFileSync(PYTHON, ['-c', probe], { encoding: 'utf8' }).trim());
    notify.reloading();
    const hi = BigInt(execFileSync(PYTHON, ['-c', probe], { encoding: 'utf8' }).trim());
    const usec = BigInt(/MONOTONIC_USEC=(\d+)/.exec(sent[0]!)![1]!);
    expect(usec >= lo && usec <= hi).toBe(true);
  });

  it('logs a failing socket once, never throws, and says when it works again', async () => {
    const socketPath = path.join(dir, 'late');
    const { logger, lines } = captureLogger();
    const notify = new SdNotify({ logger, env: { NOTIFY_SOCKET: socketPath } });
    expect(() => {
      notify.ready();
      notify.watchdog();
      notify.watchdog();
    }).not.toThrow();
    const warnings = lines.filter((l) => l.level === WARN);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/cannot notify systemd/);
    expect(String(warnings[0]!.err)).toMatch(/send/);

    receiver = bindReceiver(socketPath);
    notify.watchdog();
    await until(() => receiver!.messages.length === 1);
    expect(receiver.messages).toEqual(['WATCHDOG=1']);
    expect(lines.filter((l) => l.level === INFO).map((l) => l.msg)).toEqual(['notifying systemd works again']);
  });

  it('swallows a transport that throws', () => {
    const { logger, lines } = captureLogger();
    const transport: NotifyTransport = { send: () => { throw new Error('boom'); } };
    const notify = new SdNotify({ logger, env: { NOTIFY_SOCKET: '/run/x' }, transport });
    expect(() => notify.ready()).not.toThrow();
    expect(() => notify.ready()).not.toThrow();
    expect(lines.filter((l) => l.level === WARN)).toHaveLength(1);
  });

  it('warns once about an address type it cannot use', () => {
    const { logger, lines } = captureLogger();
    const notify = new SdNotify({ logger, env: { NOTIFY_SOCKET: 'vsock:2:999' } });
    notify.ready();
    notify.watchdog();
    expect(notify.enabled).toBe(false);
    expect(lines.filter((l) => l.level === WARN)).toHaveLength(1);
  });

  describe('abstract socket names', () => {
    let py: ChildProcess | undefined;
    afterEach(() => {
      py?.kill();
      py = undefined;
    });

    it("reaches an '@' name through systemd-notify (unix-dgram cannot address it)", async () => {
      const name = `fieldgate-test-${process.pid}-${Date.now()}`;
      // Python binds abstract names with their exact length, as systemd-style managers do.
      const script = [
        'import socket, sys',
        's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
        `s.bind("\\0${name}")`,
        'print("bound", flush=True)',
        'while True:',
        '    print(repr(s.recv(4096).decode()), flush=True)',
      ].join('\n');
      py = spawn(PYTHON, ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const got: string[] = [];
      py.stdout!.setEncoding('utf8').on('data', (chunk: string) => got.push(...chunk.split('\n').filter(Boolean)));
      await until(() => got.includes('bound'));

      const { logger, lines } = captureLogger();
      const notify = new SdNotify({ logger, env: { ...process.env, NOTIFY_SOCKET: `@${name}` } });
      expect(notify.enabled).toBe(true);
      notify.ready('up');
      await until(() => got.length >= 2, 5000);
      expect(got[1]).toBe(repr('READY=1\nSTATUS=up'));
      expect(lines.some((l) => l.level === WARN && /NotifyAccess=all/.test(l.msg))).toBe(true);
    });
  });
});

/** Python's repr() of a short ASCII string with newlines, as the receiver prints it. */
function repr(text: string): string {
  return `'${text.replace(/\n/g, '\\n')}'`;
}
