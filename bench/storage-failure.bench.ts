// What a failing SD card costs in memory: the journal then goes on in memory (memory-fallback.ts),
// up to buffer.memory_fallback. A sim site of 100 points (10 devices × 10) every 100 ms, 1,000
// readings/s, JSON per point, QoS 1 to a real mosquitto, the gateway started as a package starts
// it (the launcher's flags), its journal on an ext4 loop-device disk (needs root). Phases:
//   disk ok       the baseline: RSS of the same process before anything fails
//   failed        the disk turned read-only (an ext4 error, errors=remount-ro); broker up
//   outage        broker stopped too: the backlog grows in memory until memory_fallback is full
//   full          still down: the oldest readings now make room (drop_oldest)
//   drain         broker back: time until memory is empty, and the RSS after
// RSS is the gateway process's own (VmRSS from /proc/PID/status), sampled every 2 s.
//
//   node --import tsx bench/storage-failure.bench.ts [--memory-fallback 16MiB] [--full 30s]
// Build first (npx tsc -p tsconfig.build.json): the gateway runs from dist/.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { canMakeLoopDisks, disposeAllBrokers, freePort, makeLoopDisk, startMosquitto } from '../test/integration/harness/index.js';
import { parseDuration, parseSize } from '../src/util/duration.js';
import { exitOnSignals, fmt, killOnExit, launcherFlags, machine, splitFlagSet } from './bench-util.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { 'memory-fallback': { type: 'string', default: '16MiB' }, full: { type: 'string', default: '30s' } } });
const DEVICES = 10;
const POINTS = 10;
const SAMPLE_MS = 2_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function site(url: string, journal: string, httpPort: number): string {
  const lines = ['site: sf', 'gateway: gw', 'mqtt:', `  url: ${url}`, '  qos: 1', '  keepalive: 5s', 'buffer:', `  path: ${journal}`,
    `  memory_fallback: ${values['memory-fallback']}`, `http: { listen: "127.0.0.1:${httpPort}" }`, 'devices:'];
  for (let d = 0; d < DEVICES; d++) {
    lines.push(`  - name: dev-${d}`, '    driver: sim', '    interval: 100ms', '    points:');
    for (let p = 0; p < POINTS; p++) lines.push(`      - { name: p${p}, signal: counter }`);
  }
  return `${lines.join('\n')}\n`;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error('the gateway exited');
  return Number(m[1]) / 1024;
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
}

interface Phase { name: string; seconds: number; rssMin: number; rssMax: number; backlogMiB: number; inMemory: number }

async function main(): Promise<void> {
  exitOnSignals();
  if (!canMakeLoopDisks()) throw new Error('needs root and loop devices (a disk that can fail)');
  const memoryBytes = parseSize(values['memory-fallback']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-storage-failure-'));
  const disk = makeLoopDisk(dir, 256 * 1024 * 1024);
  // Interrupted (Ctrl-C exits at once): the disk must not stay mounted.
  const release = (): void => {
    try {
      disk.close();
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // closed already
    }
  };
  process.once('exit', release);
  const broker = await startMosquitto();
  const httpPort = await freePort();
  const file = path.join(dir, 'site.yaml');
  fs.writeFileSync(file, site(broker.url, path.join(disk.mnt, 'buffer.db'), httpPort));
  const set = splitFlagSet(launcherFlags());
  const child = spawn(process.execPath, [...set.argv, path.join(repo, 'bin/fieldgate.js'), 'run', '-c', file, '--log-level', 'warn'],
    { env: { ...process.env, ...set.env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const keep = killOnExit(() => [child]);
  const phases: Phase[] = [];
  const run = async (name: string, until: (elapsedMs: number) => Promise<boolean>): Promise<void> => {
    const start = Date.now();
    const rss: number[] = [];
    for (;;) {
      await sleep(SAMPLE_MS);
      rss.push(rssMiB(child.pid!));
      if (await until(Date.now() - start)) break;
    }
    phases.push({
      name, seconds: (Date.now() - start) / 1000, rssMin: Math.min(...rss), rssMax: Math.max(...rss),
      backlogMiB: (await metric(httpPort, 'fieldgate_backlog_bytes')) / 2 ** 20, inMemory: await metric(httpPort, 'fieldgate_journal_in_memory'),
    });
  };
  try {
    await sleep(5_000);
    await run('disk ok (baseline)', async (t) => t >= 60_000);
    disk.fail();
    await run('disk failed, broker up', async (t) => t >= 30_000);
    await broker.stop();
    // Full: the backlog is within a row or two of memory_fallback.
    await run('disk failed, broker down: filling', async (t) => (await metric(httpPort, 'fieldgate_backlog_bytes')) >= 0.98 * memoryBytes || t >= 600_000);
    await run('full: the oldest make room', async (t) => t >= parseDuration(values.full));
    await broker.restart();
    await run('broker back: draining', async (t) => (await metric(httpPort, 'fieldgate_backlog_messages')) < 200 || t >= 600_000);
    await run('drained', async (t) => t >= 30_000);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    keep();
    await disposeAllBrokers();
    process.removeListener('exit', release);
    release();
  }
  const base = phases[0]!.rssMax;
  console.log(`storage-failure: ${DEVICES * POINTS} sim points every 100 ms (1,000 readings/s), JSON, QoS 1; launcher flags; memory_fallback ${values['memory-fallback']}`);
  console.log(`machine: ${machine()}`);
  console.log('| phase | seconds | RSS MiB (min–max) | RSS above the baseline, MiB | backlog MiB at the end | in memory |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const p of phases) {
    console.log(`| ${p.name} | ${fmt(p.seconds)} | ${p.rssMin.toFixed(1)}–${p.rssMax.toFixed(1)} | ${(p.rssMax - base >= 0 ? '+' : '')}${(p.rssMax - base).toFixed(1)} | ${p.backlogMiB.toFixed(1)} | ${p.inMemory} |`);
  }
  const full = phases.find((p) => p.name.startsWith('full'))!;
  console.log(`\nRSS per MiB held in memory: ${((full.rssMax - base) / full.backlogMiB).toFixed(2)} MiB`);
}

await main();
