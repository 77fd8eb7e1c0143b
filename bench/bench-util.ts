// Shared pieces of the benchmarks: machine description, a raw mqtt.js baseline, formatting, the
// packaged launcher's settings.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import M from 'modbus-serial';
import mqtt from 'mqtt';

/**
 * The V8 flags and environment packaging/files/fieldgate starts the gateway with, as one
 * space-separated set ("--flag … MALLOC_ARENA_MAX=2"), read from the launcher itself.
 */
export function launcherFlags(): string {
  const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  const text = fs.readFileSync(path.join(repo, 'packaging/files/fieldgate'), 'utf8');
  const flags = /\$\{FIELDGATE_NODE_FLAGS:-([^}]*)\}/.exec(text)?.[1];
  // Every `export NAME="${NAME:-default}"` of the launcher (the malloc settings).
  const env = [...text.matchAll(/^export ([A-Z_]+)="\$\{\1:-([^}]*)\}"$/gm)].map((m) => `${m[1]}=${m[2]}`);
  if (flags === undefined || env.length === 0) throw new Error('cannot read the defaults of packaging/files/fieldgate');
  return [flags, ...env].join(' ');
}

/** A flag set split into Node/V8 flags and NAME=value environment settings. */
export function splitFlagSet(flags: string): { argv: string[]; env: Record<string, string> } {
  const tokens = flags.split(/\s+/).filter(Boolean);
  const env = Object.fromEntries(tokens.filter((t) => /^[A-Z_]+=/.test(t)).map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]));
  return { argv: tokens.filter((t) => t.startsWith('-')), env };
}

export function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}

/** A JSON payload of the size fieldgate publishes (~90 bytes). */
export function samplePayload(seq: number): Buffer {
  return Buffer.from(`{"value":231.4,"ts":"2026-11-26T06:40:00.123Z","seq":${seq},"unit":"V"}`);
}

/**
 * The baseline: a bare mqtt.js client publishing `count` QoS 1 messages with `window` in flight
 * (mqtt.js has no limit of its own; without a window it breaks past 65,535 outstanding).
 */
export async function rawPublishRate(url: string, count: number, window: number, qos: 0 | 1 | 2 = 1): Promise<number> {
  const client = await mqtt.connectAsync(url, { clientId: `bench-raw-${process.pid}`, reconnectPeriod: 0 });
  const payloads = Array.from({ length: 1000 }, (_, i) => samplePayload(i));
  const rate = await new Promise<number>((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const start = process.hrtime.bigint();
    const onAck = (err?: Error) => {
      if (err) return reject(err);
      acked += 1;
      if (acked === count) return resolve(count / (Number(process.hrtime.bigint() - start) / 1e9));
      if (sent < count) send();
    };
    const send = () => {
      const i = sent++;
      client.publish('bench/raw', payloads[i % 1000]!, { qos }, onAck);
    };
    while (sent < Math.min(window, count)) send();
  });
  await client.endAsync();
  return rate;
}

/**
 * A Modbus TCP server (unit 1) whose holding registers change at every read, so report-by-exception
 * holds nothing back: the device the CPU and disk benchmarks poll.
 */
export function startChangingModbusSim(port: number): Promise<{ close(): Promise<void> }> {
  let reads = 0;
  const vector = {
    getHoldingRegister: (addr: number) => (reads + addr) & 0xffff,
    getMultipleHoldingRegisters: (addr: number, length: number) => {
      reads += 1;
      return Array.from({ length }, (_, i) => (reads + addr + i) & 0xffff);
    },
  };
  const server = new M.ServerTCP(vector, { host: '127.0.0.1', port, unitID: 1 });
  server.on('error', () => {});
  return new Promise((resolve) => {
    server.on('initialized', () => resolve({ close: () => new Promise((r) => server.close(() => r())) }));
  });
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Ctrl-C or `timeout` (SIGINT, SIGTERM) ends the benchmark through process.exit, so that 'exit'
 * hooks run: the test harness's stops the brokers it started, `killOnExit` the measured processes.
 * The signals' default action skips those hooks and left mosquitto and the gateways running.
 */
export function exitOnSignals(): void {
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
}

/** Kills these processes if the benchmark exits before it stops them; returns the undo. */
export function killOnExit(children: () => Iterable<ChildProcess>): () => void {
  const kill = (): void => {
    for (const child of children()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', kill);
  return () => process.off('exit', kill);
}
