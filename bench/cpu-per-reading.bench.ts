// CPU per reading: what does fieldgate cost, per reading delivered, next to the least any
// poll-and-publish program must do? One Modbus TCP simulator (100 holding registers that change
// at every read), one mosquitto and a counting subscriber live in this process; each variant is a
// process of its own, measured from /proc/<pid>/stat (utime + stime) against the readings the
// subscriber received from it:
//   json        fieldgate, one JSON message per point (`node bin/fieldgate.js run`, journal on, dist/)
//   batch       fieldgate with `payload: batch` (one message per poll; its values are counted)
//   bare        bench/bare-poll-publish.ts — modbus-serial reads + mqtt.js QoS 1 publishes of the
//               same per-point payloads, window 100, no journal
//   bare-batch  the same bare loop publishing one batch message per poll: the floor for `batch`
//   json@before, batch@before  fieldgate from another built checkout (FIELDGATE_BEFORE=<dir>)
//   json@launcher, batch@launcher  this build started with the packaged launcher's V8 flags and
//               environment (packaging/files/fieldgate), as a package runs it
//   json@before-launcher, batch@before-launcher  the other checkout with those flags
//   json@flags, batch@flags  this build with the flag set in FLAG_SET ("--flag … NAME=value");
//               json@flags2, batch@flags2 with FLAG_SET2, to compare two sets in one run
//   json@commit, batch@commit  this build with `buffer.commit_interval: COMMIT_INTERVAL` (default
//               1s): one journal transaction for several polls
//   json@commit-launcher, batch@commit-launcher  the same with the launcher's flags, as a package runs it
// at 1,000 readings/s (100 registers every 100 ms) and 10,000/s (every 10 ms).
//
// Steady state, side by side. A gateway runs for months, so what counts is its cost once V8 has
// optimised the code it runs; code that runs ten times a second is optimised only after minutes
// (measured: the bare batch loop fell from 0.010 to 0.006 CPU s per 1,000 readings over its first
// 4 minutes at 1,000/s). So every variant runs for WARMUP_S first, then WINDOWS windows of
// WINDOW_S are measured. The variants run at the same time, against the same simulator and broker,
// so a change in the machine's load hits all of them in the same window; the ratios are taken
// window by window.
// Run: node --import tsx bench/cpu-per-reading.bench.ts
//   (RATES=1000,10000 WARMUP_S=150 WINDOWS=5 WINDOW_S=30 COPIES=1 VARIANTS=json,batch,bare,bare-batch)
// Build first (npx tsc -p tsconfig.build.json): the fieldgate variants run the compiled gateway.
// CPU_PROF=<dir> runs every child with --cpu-prof (CPU_PROF_INTERVAL_US, default 1000); CHILD_NODE_ARGS
// adds node options to every child and shows their output (--trace-gc, say); THREADS=1
// prints each variant's CPU by thread; REGISTERS=<n> changes the registers per poll.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { disposeAllBrokers, freePort, startMosquitto } from '../test/integration/harness/index.js';
import { exitOnSignals, fmt, killOnExit, launcherFlags, machine, median, splitFlagSet, startChangingModbusSim } from './bench-util.js';

const WARMUP_S = Number(process.env.WARMUP_S ?? 150);
const WINDOWS = Number(process.env.WINDOWS ?? 5);
const WINDOW_S = Number(process.env.WINDOW_S ?? 30);
const RATES = (process.env.RATES ?? '1000,10000').split(',').map(Number);
const BEFORE = process.env.FIELDGATE_BEFORE;
const VARIANTS = (process.env.VARIANTS ?? `json,batch,bare,bare-batch${BEFORE ? ',json@before,batch@before' : ''}`).split(',') as Variant[];
const REGISTERS = Number(process.env.REGISTERS ?? 100);
const COMMIT_INTERVAL = process.env.COMMIT_INTERVAL ?? '1s';
// Processes per variant. Two processes of the same program can differ by 15 % for their whole life
// (what V8 happened to optimise, heap layout), so the figure of a variant is the median of its copies.
const COPIES = Number(process.env.COPIES ?? 1);
const CLOCK_TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux
const dir = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(dir);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Variant = 'json' | 'batch' | 'bare' | 'bare-batch' | 'json@before' | 'batch@before' | 'json@launcher' | 'batch@launcher'
  | 'json@before-launcher' | 'batch@before-launcher' | 'json@flags' | 'batch@flags' | 'json@flags2' | 'batch@flags2'
  | 'json@commit' | 'batch@commit' | 'json@commit-launcher' | 'batch@commit-launcher';

/** Each process publishes under a prefix of its own, so the counter can tell them apart. */
const prefixOf = (v: Variant, copy: number) => `b-${v.replace('@', '-')}-${copy}`;

function siteYaml(variant: Variant, copy: number, modbusPort: number, url: string, intervalMs: number, db: string): string {
  const payload = variant.startsWith('batch') ? 'batch' : 'json';
  const points = Array.from({ length: REGISTERS }, (_, i) => `      - { name: p${i}, table: holding, address: ${i}, type: uint16 }`);
  return [
    `site: ${prefixOf(variant, copy)}`,
    'gateway: gw',
    `mqtt: { url: "${url}", qos: 1 }`,
    `buffer: { path: "${db}", inflight: 100${variant.includes('@commit') ? `, commit_interval: ${COMMIT_INTERVAL}` : ''} }`,
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

/** Counts readings per variant prefix: a batch message (`<prefix>/m`) counts its values. */
async function startCounter(url: string): Promise<{ readings: (v: Variant, copy: number) => number; close(): Promise<void> }> {
  const client = await mqtt.connectAsync(url, { clientId: `cpu-bench-counter-${process.pid}`, reconnectPeriod: 0 });
  const counts = new Map<string, number>();
  client.on('message', (topic, payload) => {
    if (topic.endsWith('/meta')) return;
    const slash = topic.indexOf('/');
    const prefix = topic.slice(0, slash);
    // Readings only (device `m`): not the gateway's status and journal announcements.
    if (topic[slash + 1] !== 'm' || (topic.length > slash + 2 && topic[slash + 2] !== '/')) return;
    let n = 1;
    if (topic.length - slash === 2) n = Object.keys((JSON.parse(payload.toString()) as { values?: object }).values ?? {}).length;
    counts.set(prefix, (counts.get(prefix) ?? 0) + n);
  });
  await client.subscribeAsync('#', { qos: 0 });
  return { readings: (v, copy) => counts.get(prefixOf(v, copy)) ?? 0, close: () => client.endAsync() };
}

/** utime and stime (fields 14 and 15) of a process or one of its threads, in seconds. */
function times(statPath: string): [number, number] {
  const stat = fs.readFileSync(statPath, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(fields[11]) / CLOCK_TICKS, Number(fields[12]) / CLOCK_TICKS];
}

interface Cpu { user: number; sys: number; main: number; threads: Map<number, number> }

/** The process's user and system time, its main thread's (the rest is GC and compiler threads), each thread's. */
function cpuTimes(pid: number): Cpu {
  const [user, sys] = times(`/proc/${pid}/stat`);
  const [mu, ms] = times(`/proc/${pid}/task/${pid}/stat`);
  const threads = new Map<number, number>();
  if (process.env.THREADS) {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const [u, s] = times(`/proc/${pid}/task/${tid}/stat`);
      threads.set(Number(tid), u + s);
    }
  }
  return { user, sys, main: mu + ms, threads };
}

function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function launch(variant: Variant, copy: number, modbusPort: number, url: string, intervalMs: number, work: string): ChildProcess {
  const extra = process.env.CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CPU_PROF}`, `--cpu-prof-interval=${process.env.CPU_PROF_INTERVAL_US ?? 1000}`]
    : [];
  // CHILD_NODE_ARGS="--trace-gc" and the like, for looking inside one variant (its output is shown).
  if (process.env.CHILD_NODE_ARGS) extra.push(...process.env.CHILD_NODE_ARGS.split(' '));
  const out = process.env.CHILD_NODE_ARGS ? 'inherit' : 'ignore';
  if (variant === 'bare' || variant === 'bare-batch') {
    return spawn(process.execPath, [...extra, '--import', 'tsx', path.join(dir, 'bare-poll-publish.ts'),
      String(modbusPort), url, String(intervalMs), String(REGISTERS), variant === 'bare' ? 'point' : 'batch', prefixOf(variant, copy)],
    { stdio: ['ignore', out, 'inherit'] });
  }
  const checkout = variant.includes('@before') ? BEFORE! : root;
  const site = path.join(work, 'site.yaml');
  fs.writeFileSync(site, siteYaml(variant, copy, modbusPort, url, intervalMs, path.join(work, 'buffer.db')));
  const flagSet = variant.endsWith('launcher') ? launcherFlags() : variant.endsWith('@flags') ? process.env.FLAG_SET ?? ''
    : variant.endsWith('@flags2') ? process.env.FLAG_SET2 ?? '' : '';
  const launcher = splitFlagSet(flagSet);
  return spawn(process.execPath, [...launcher.argv, ...extra, path.join(checkout, 'bin', 'fieldgate.js'), 'run', '-c', site, '--log-level', 'warn'],
    { stdio: ['ignore', out, 'inherit'], cwd: work, env: { ...process.env, ...launcher.env } });
}

interface Sample { cpuPer1000: number; deliveredPerS: number; sysShare: number; mainShare: number }

interface Running { variant: Variant; copy: number; child: ChildProcess; exited: Promise<void>; work: string }

async function runRate(rate: number, modbusPort: number, url: string, counter: Awaited<ReturnType<typeof startCounter>>): Promise<void> {
  const intervalMs = (REGISTERS * 1000) / rate;
  const running: Running[] = [];
  const keep = killOnExit(() => running.map((r) => r.child));
  for (let copy = 1; copy <= COPIES; copy++) {
    for (const variant of VARIANTS) {
      const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-cpu-'));
      const child = launch(variant, copy, modbusPort, url, intervalMs, work);
      running.push({ variant, copy, child, work, exited: new Promise<void>((resolve) => child.once('exit', () => resolve())) });
    }
  }
  const samples = new Map<Variant, Sample[]>(VARIANTS.map((v) => [v, []]));
  const rss = new Map<Variant, number>();
  try {
    await sleep(WARMUP_S * 1000);
    for (const r of running) if (r.child.exitCode !== null) throw new Error(`${r.variant} exited early with ${r.child.exitCode}`);
    let before = running.map((r) => ({ cpu: cpuTimes(r.child.pid!), n: counter.readings(r.variant, r.copy), t: process.hrtime.bigint() }));
    for (let w = 1; w <= WINDOWS; w++) {
      await sleep(WINDOW_S * 1000);
      const after = running.map((r) => ({ cpu: cpuTimes(r.child.pid!), n: counter.readings(r.variant, r.copy), t: process.hrtime.bigint() }));
      const window = new Map<Variant, Sample[]>(VARIANTS.map((v) => [v, []]));
      const line: string[] = [];
      running.forEach((r, i) => {
        const a = before[i]!;
        const b = after[i]!;
        const user = b.cpu.user - a.cpu.user;
        const sys = b.cpu.sys - a.cpu.sys;
        const cpu = user + sys;
        const delivered = b.n - a.n;
        const s: Sample = {
          cpuPer1000: cpu / (delivered / 1000), deliveredPerS: delivered / (Number(b.t - a.t) / 1e9),
          sysShare: sys / cpu, mainShare: (b.cpu.main - a.cpu.main) / cpu,
        };
        window.get(r.variant)!.push(s);
        line.push(`${r.variant}${COPIES > 1 ? `#${r.copy}` : ''} ${fmt(s.cpuPer1000, 4)} (${fmt(s.deliveredPerS)}/s)`);
        if (process.env.THREADS) {
          const deltas = [...b.cpu.threads].map(([tid, t]) => `${tid === r.child.pid ? 'main' : tid}:${Math.round((t - (a.cpu.threads.get(tid) ?? 0)) * 1000)}ms`);
          console.log(`    ${r.variant} threads: ${deltas.join(' ')}`);
        }
      });
      console.log(`  ${fmt(rate)}/s window ${w}: ${line.join(', ')}`);
      for (const [variant, ss] of window) samples.get(variant)!.push(medianSample(ss));
      before = after;
    }
    for (const r of running) if (r.copy === 1) rss.set(r.variant, rssMiB(r.child.pid!));
  } finally {
    // SIGINT: with --cpu-prof the profile is written on a clean exit.
    for (const r of running) r.child.kill('SIGINT');
    await Promise.race([Promise.all(running.map((r) => r.exited)), sleep(5000)]);
    for (const r of running) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    await Promise.all(running.map((r) => r.exited));
    for (const r of running) fs.rmSync(r.work, { recursive: true, force: true });
    keep();
  }
  report(rate, samples, rss);
}

/** The copies of one variant in one window: the median of each figure. */
function medianSample(ss: Sample[]): Sample {
  return {
    cpuPer1000: median(ss.map((s) => s.cpuPer1000)), deliveredPerS: median(ss.map((s) => s.deliveredPerS)),
    sysShare: median(ss.map((s) => s.sysShare)), mainShare: median(ss.map((s) => s.mainShare)),
  };
}

function spread(xs: number[]): string {
  return `${fmt(Math.min(...xs), 4)}–${fmt(Math.max(...xs), 4)}`;
}

/** Issue #17's targets, against the bare per-point loop: JSON at most 1.5 ×, batch at most 0.4 ×. */
function verdict(variant: Variant, ratios: number[]): string {
  const target = variant.startsWith('json') ? 1.5 : variant.startsWith('batch') ? 0.4 : undefined;
  if (target === undefined || ratios.length === 0) return '';
  const windows = ratios.filter((r) => r <= target).length;
  return `≤ ${target}: ${median(ratios) <= target ? '✓' : '✗'} (${windows} of ${ratios.length} windows)`;
}

function report(rate: number, samples: Map<Variant, Sample[]>, rss: Map<Variant, number>): void {
  console.log(`\n${fmt(rate)} readings/s offered (${WINDOWS} windows of ${WINDOW_S} s after ${WARMUP_S} s, ${COPIES} process(es) per variant):`);
  console.log('| variant | CPU s per 1,000 readings (median) | spread | delivered/s | RSS MiB | system time | main thread | ratio to bare: median (range) | target |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const bare = samples.get('bare');
  for (const [variant, ss] of samples) {
    const ratios = bare ? ss.map((s, i) => s.cpuPer1000 / bare[i]!.cpuPer1000) : [];
    const ratio = ratios.length > 0 ? `${fmt(median(ratios), 2)} (${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)})` : '-';
    console.log(`| ${variant} | ${fmt(median(ss.map((s) => s.cpuPer1000)), 4)} | ${spread(ss.map((s) => s.cpuPer1000))}` +
      ` | ${fmt(median(ss.map((s) => s.deliveredPerS)))} | ${fmt(rss.get(variant) ?? 0)} | ${fmt(100 * median(ss.map((s) => s.sysShare)))} %` +
      ` | ${fmt(100 * median(ss.map((s) => s.mainShare)))} % | ${ratio} | ${verdict(variant, ratios)} |`);
  }
  console.log('');
}

async function main(): Promise<void> {
  exitOnSignals();
  const modbusPort = await freePort();
  const sim = await startChangingModbusSim(modbusPort);
  const broker = await startMosquitto({ maxQueuedMessages: 1_000_000 });
  const counter = await startCounter(broker.url);
  console.log(`cpu-per-reading: ${REGISTERS} holding registers over Modbus TCP, QoS 1; ${COPIES} process(es) per variant, side by side,` +
    ` ${WARMUP_S} s warm-up, then ${WINDOWS} windows of ${WINDOW_S} s`);
  console.log(`machine: ${machine()}`);
  try {
    for (const rate of RATES) await runRate(rate, modbusPort, broker.url, counter);
  } finally {
    await counter.close();
    await sim.close();
    await disposeAllBrokers();
  }
}

await main();
