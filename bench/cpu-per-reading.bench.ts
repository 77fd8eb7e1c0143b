// CPU per reading: what does fieldgate cost, per reading delivered, next to the least any
// poll-and-publish program must do? One Modbus TCP simulator (100 holding registers that change
// at every read), one mosquitto and a counting subscriber live in this process; each variant runs
// as its own process and is measured from /proc/<pid>/stat (utime + stime) over a fixed window
// after warm-up, against the readings the subscriber received in that window:
//   (a) fieldgate, one JSON message per point (`node bin/fieldgate.js run`, journal on, from dist/)
//   (b) fieldgate with `payload: batch` (one message per poll; its values are counted)
//   (c) bare: bench/bare-poll-publish.ts — modbus-serial reads + mqtt.js QoS 1 publishes of the
//       same per-point payloads, window 100, no journal
//   and, when asked for (VARIANTS=json,batch,bare,bare-batch), the same bare loop publishing one
//   batch message per poll: the least a batch publisher can cost, for reference
// at 1,000 readings/s (100 registers every 100 ms) and 10,000/s (every 10 ms). Runs are
// interleaved (a, b, c, a, b, c, …) so drift in the machine's load hits every variant alike.
// Run: node --import tsx bench/cpu-per-reading.bench.ts   (ROUNDS=5 WARMUP_S=3 WINDOW_S=10 RATES=1000,10000)
// Build first (npx tsc -p tsconfig.build.json): variants (a) and (b) run the compiled gateway.
// FIELDGATE_BEFORE=<another built checkout> adds its json and batch runs (json@before,
// batch@before) to the same interleaved rounds, for before/after figures from one run.
// CPU_PROF=<dir> runs every child with --cpu-prof (profiles land in <dir>); REGISTERS=<n> changes
// the registers per poll (REGISTERS=1 RATES=10 shows the fixed cost of a poll).
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import M from 'modbus-serial';
import mqtt from 'mqtt';
import { disposeAllBrokers, freePort, startMosquitto } from '../test/integration/harness/index.js';
import { fmt, machine, median } from './bench-util.js';

const ROUNDS = Number(process.env.ROUNDS ?? 5);
const WARMUP_S = Number(process.env.WARMUP_S ?? 3);
const WINDOW_S = Number(process.env.WINDOW_S ?? 10);
const RATES = (process.env.RATES ?? '1000,10000').split(',').map(Number);
const BEFORE = process.env.FIELDGATE_BEFORE;
const VARIANTS = (process.env.VARIANTS ?? `json,batch,bare${BEFORE ? ',json@before,batch@before' : ''}`).split(',') as Variant[];
const REGISTERS = Number(process.env.REGISTERS ?? 100);
const CLOCK_TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux
const dir = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(dir);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Variant = 'json' | 'batch' | 'bare' | 'bare-batch' | 'json@before' | 'batch@before';

function startSimulator(port: number): Promise<{ close(): Promise<void> }> {
  let reads = 0;
  const vector = {
    getHoldingRegister: (addr: number) => (reads + addr) & 0xffff,
    // Values change at every read, so nothing is held back by report-by-exception.
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

function siteYaml(payload: 'json' | 'batch', modbusPort: number, url: string, intervalMs: number, db: string): string {
  const points = Array.from({ length: REGISTERS }, (_, i) => `      - { name: p${i}, table: holding, address: ${i}, type: uint16 }`);
  return [
    'site: bench',
    'gateway: gw',
    `mqtt: { url: "${url}", qos: 1 }`,
    `buffer: { path: "${db}", inflight: 100 }`,
    'topic: "{site}/{device}/{point}"',
    `payload: ${payload}`,
    'devices:',
    '  - name: m',
    '    driver: modbus',
    `    tcp: { host: 127.0.0.1, port: ${modbusPort} }`,
    '    unit_id: 1',
    `    interval: ${intervalMs}ms`,
    '    timeout: 2s',
    '    points:',
    ...points,
    '',
  ].join('\n');
}

/** Counts readings arriving under bench/#: a batch message counts its values. */
async function startCounter(url: string): Promise<{ readings: () => number; close(): Promise<void> }> {
  const client = await mqtt.connectAsync(url, { clientId: `cpu-bench-counter-${process.pid}`, reconnectPeriod: 0 });
  let readings = 0;
  client.on('message', (topic, payload) => {
    if (topic.endsWith('/meta')) return;
    if (topic === 'bench/m' || topic === 'bench/b') {
      const body = JSON.parse(payload.toString()) as { values?: Record<string, unknown> };
      readings += Object.keys(body.values ?? {}).length;
    } else {
      readings += 1;
    }
  });
  await client.subscribeAsync('bench/#', { qos: 0 });
  return { readings: () => readings, close: () => client.endAsync() };
}

function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function launch(variant: Variant, modbusPort: number, url: string, intervalMs: number, work: string): ChildProcess {
  const extra = process.env.CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CPU_PROF}`] : [];
  if (variant === 'bare' || variant === 'bare-batch') {
    return spawn(process.execPath, [...extra, '--import', 'tsx', path.join(dir, 'bare-poll-publish.ts'),
      String(modbusPort), url, String(intervalMs), String(REGISTERS), variant === 'bare' ? 'point' : 'batch'],
    { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const [payload, build] = variant.split('@') as ['json' | 'batch', string | undefined];
  const checkout = build === 'before' ? BEFORE! : root;
  const site = path.join(work, 'site.yaml');
  fs.writeFileSync(site, siteYaml(payload, modbusPort, url, intervalMs, path.join(work, 'buffer.db')));
  return spawn(process.execPath, [...extra, path.join(checkout, 'bin', 'fieldgate.js'), 'run', '-c', site, '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'inherit'], cwd: work });
}

interface Sample { cpuPer1000: number; deliveredPerS: number; rss: number }

async function measure(variant: Variant, modbusPort: number, url: string, rate: number, counter: { readings(): number }): Promise<Sample> {
  const intervalMs = (REGISTERS * 1000) / rate;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-cpu-'));
  const child = launch(variant, modbusPort, url, intervalMs, work);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await sleep(WARMUP_S * 1000);
    if (child.exitCode !== null) throw new Error(`${variant} exited early with ${child.exitCode}`);
    const pid = child.pid!;
    const cpu0 = cpuSeconds(pid);
    const n0 = counter.readings();
    const t0 = process.hrtime.bigint();
    await sleep(WINDOW_S * 1000);
    const cpu1 = cpuSeconds(pid);
    const n1 = counter.readings();
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const rss = rssMiB(pid);
    const delivered = n1 - n0;
    return { cpuPer1000: (cpu1 - cpu0) / (delivered / 1000), deliveredPerS: delivered / secs, rss };
  } finally {
    // SIGINT: with --cpu-prof the profile is written on a clean exit.
    child.kill('SIGINT');
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    fs.rmSync(work, { recursive: true, force: true });
    await sleep(500); // let the last messages of this run reach the counter before the next starts
  }
}

function spread(xs: number[]): string {
  return `${fmt(Math.min(...xs), 4)}–${fmt(Math.max(...xs), 4)}`;
}

async function main(): Promise<void> {
  const modbusPort = await freePort();
  const sim = await startSimulator(modbusPort);
  const broker = await startMosquitto({ maxQueuedMessages: 1_000_000 });
  const counter = await startCounter(broker.url);
  console.log(`cpu-per-reading: ${REGISTERS} holding registers over Modbus TCP, QoS 1, ${ROUNDS} interleaved rounds,` +
    ` ${WARMUP_S} s warm-up + ${WINDOW_S} s window per run`);
  console.log(`machine: ${machine()}`);
  try {
    for (const rate of RATES) {
      const samples = new Map<Variant, Sample[]>(VARIANTS.map((v) => [v, []]));
      for (let round = 1; round <= ROUNDS; round++) {
        for (const variant of VARIANTS) {
          const s = await measure(variant, modbusPort, broker.url, rate, counter);
          samples.get(variant)!.push(s);
          console.log(`  ${fmt(rate)}/s round ${round} ${variant.padEnd(12)}: ${fmt(s.cpuPer1000, 4)} CPU s/1,000 readings,` +
            ` ${fmt(s.deliveredPerS)} delivered/s, RSS ${fmt(s.rss)} MiB`);
        }
      }
      console.log(`\n${fmt(rate)} readings/s offered:`);
      console.log('| variant | CPU s per 1,000 readings (median) | spread | delivered/s | RSS MiB | ratio to bare |');
      console.log('| --- | --- | --- | --- | --- | --- |');
      const bare = samples.has('bare') ? median(samples.get('bare')!.map((s) => s.cpuPer1000)) : NaN;
      for (const [variant, ss] of samples) {
        const cpu = median(ss.map((s) => s.cpuPer1000));
        console.log(`| ${variant} | ${fmt(cpu, 4)} | ${spread(ss.map((s) => s.cpuPer1000))} | ${fmt(median(ss.map((s) => s.deliveredPerS)))}` +
          ` | ${fmt(median(ss.map((s) => s.rss)))} | ${fmt(cpu / bare, 2)} |`);
      }
      // Ratios within each round too: the spread of the ratio is what the targets are judged on.
      if (samples.has('bare')) {
        for (const variant of VARIANTS.filter((v) => v !== 'bare')) {
          const ratios = samples.get(variant)!.map((s, i) => s.cpuPer1000 / samples.get('bare')![i]!.cpuPer1000);
          console.log(`${variant}/bare per round: ${ratios.map((r) => fmt(r, 2)).join(', ')} (median ${fmt(median(ratios), 2)})`);
        }
      }
      console.log('');
    }
  } finally {
    await counter.close();
    await sim.close();
    await disposeAllBrokers();
  }
}

await main();
