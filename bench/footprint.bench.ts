// Memory footprint of the gateway process itself at a steady load, as a Pi would see it: a sim site
// of 100 points (10 devices × 10) polled every 100 ms (1,000 readings/s) or every 10 ms (10,000/s),
// journal on, QoS 1 to a real mosquitto. The gateway runs as its own process (`fieldgate run`, the
// way systemd starts it); its VmRSS is read from /proc/PID/status every few seconds, because under
// qemu-user process.memoryUsage() is meaningless. A subscriber here counts what arrives.
//
//   node --import tsx bench/footprint.bench.ts [--rate 1000,10000] [--duration 5m] [--sample 5s]
//        [--flags="launcher;;--max-semi-space-size=1"]  flag sets to compare, ';'-separated:
//                  "launcher" = the packaged launcher's defaults (packaging/files/fieldgate, the
//                  default), "" = none, NAME=value sets an environment variable
//        [--tree release/work/arm64/fieldgate --arch arm64]          a packaged tree, run by its
//                                                                    bundled node (qemu for arm)
//        [--commit-interval 1s]  the site's buffer.commit_interval (default: unset, 0s)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { startMosquitto, disposeAllBrokers } from '../test/integration/harness/index.js';
import { parseDuration } from '../src/util/duration.js';
import { exitOnSignals, fmt, killOnExit, launcherFlags, machine, splitFlagSet } from './bench-util.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000,10000' },
    duration: { type: 'string', default: '60s' },
    sample: { type: 'string', default: '5s' },
    warmup: { type: 'string', default: '30s' },
    flags: { type: 'string' },
    tree: { type: 'string' },
    arch: { type: 'string', default: 'amd64' },
    'commit-interval': { type: 'string' },
  },
});
const EMULATORS: Record<string, { bin: string; sysroot: string } | undefined> = {
  amd64: undefined,
  arm64: { bin: 'qemu-aarch64-static', sysroot: '/usr/aarch64-linux-gnu' },
  armhf: { bin: 'qemu-arm-static', sysroot: '/usr/arm-linux-gnueabihf' },
};
const DEVICES = 10;
const POINTS = 10;

function site(url: string, dir: string, intervalMs: number): string {
  const lines = ['site: fp', 'gateway: gw', 'mqtt:', `  url: ${url}`, '  qos: 1', 'buffer:', `  path: ${path.join(dir, 'buffer.db')}`];
  if (values['commit-interval'] !== undefined) lines.push(`  commit_interval: ${values['commit-interval']}`);
  lines.push('devices:');
  for (let d = 0; d < DEVICES; d++) {
    lines.push(`  - name: dev-${d}`, '    driver: sim', `    interval: ${intervalMs}ms`, '    points:');
    for (let p = 0; p < POINTS; p++) lines.push(`      - { name: p${p}, signal: counter }`);
  }
  return lines.join('\n') + '\n';
}

function rssMiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Under qemu-user: the resident part of qemu's translation buffer (the one large anonymous
 * read-write-execute mapping, host code translated from the guest's), which a real device does
 * not have. The rest of the process is the guest program plus qemu's own bookkeeping.
 */
function translationBufferMiB(pid: number): number {
  let largest = 0;
  let current: { perms: string; named: boolean } | undefined;
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \S+\s*(\S*)/.exec(line);
    if (head) current = { perms: head[1]!, named: head[2] !== '' };
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && current?.perms === 'rwxp' && !current.named) largest = Math.max(largest, Number(rss[1]));
  }
  return largest / 1024;
}

/** CPU seconds (user + system) the process has used, from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

interface Result { rate: number; flags: string; delivered: number; cpuPercent: number; samples: { t: number; rss: number; tcg: number }[]; warmupMs: number }

async function measure(rate: number, flags: string, durationMs: number, sampleMs: number, warmupMs: number): Promise<Result> {
  const broker = await startMosquitto();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-footprint-'));
  const intervalMs = (DEVICES * POINTS * 1000) / rate;
  const file = path.join(dir, 'site.yaml');
  fs.writeFileSync(file, site(broker.url, dir, intervalMs));
  let delivered = 0;
  const sub = await mqtt.connectAsync(broker.url, { clientId: `fp-sub-${process.pid}` });
  await sub.subscribeAsync('fp/#', { qos: 0 });
  sub.on('message', () => { delivered += 1; });

  const tree = values.tree ? path.resolve(values.tree) : repo;
  const emu = values.tree ? EMULATORS[values.arch] : undefined;
  const node = values.tree ? path.join(tree, 'node/bin/node') : process.execPath;
  // A flag set mixes Node/V8 flags and NAME=value environment settings (e.g. MALLOC_ARENA_MAX=2).
  const set = splitFlagSet(flags);
  const env = set.env;
  const argv = [...set.argv, path.join(tree, 'bin/fieldgate.js'), 'run', '-c', file, '--log-level', 'warn'];
  const child = emu
    ? spawn(emu.bin, [node, ...argv], { env: { ...process.env, ...env, QEMU_LD_PREFIX: emu.sysroot }, stdio: ['ignore', 'ignore', 'inherit'] })
    : spawn(node, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const keep = killOnExit(() => [child]);
  const samples: { t: number; rss: number; tcg: number }[] = [];
  const start = Date.now();
  let deliveredAtWarmup = 0;
  let cpuAtWarmup = 0;
  let warmedAt = 0;
  while (Date.now() - start < durationMs) {
    await new Promise((r) => setTimeout(r, sampleMs));
    const rss = rssMiB(child.pid!);
    if (rss === undefined) throw new Error('the gateway exited');
    samples.push({ t: Date.now() - start, rss, tcg: emu ? translationBufferMiB(child.pid!) : 0 });
    if (warmedAt === 0 && Date.now() - start >= warmupMs) {
      warmedAt = Date.now();
      deliveredAtWarmup = delivered;
      cpuAtWarmup = cpuSeconds(child.pid!);
    }
  }
  const steadySeconds = (Date.now() - warmedAt) / 1000;
  const deliveredRate = (delivered - deliveredAtWarmup) / steadySeconds;
  const cpuPercent = ((cpuSeconds(child.pid!) - cpuAtWarmup) / steadySeconds) * 100;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  keep();
  await sub.endAsync();
  await broker.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
  return { rate, flags, delivered: deliveredRate, cpuPercent, samples, warmupMs };
}

function report(r: Result): void {
  const steady = r.samples.filter((s) => s.t >= r.warmupMs).map((s) => s.rss);
  const half = Math.floor(steady.length / 2);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  // Drift: mean of the second half of the steady samples minus the mean of the first half.
  const drift = avg(steady.slice(half)) - avg(steady.slice(0, half));
  console.log(`${fmt(r.rate).padStart(6)}/s  ${(r.flags || '(none)').padEnd(44)} delivered ${fmt(r.delivered).padStart(6)}/s  CPU ${r.cpuPercent.toFixed(0).padStart(3)}%  ` +
    `RSS after warm-up min ${Math.min(...steady).toFixed(1)}  max ${Math.max(...steady).toFixed(1)}  last ${steady.at(-1)!.toFixed(1)} MiB  ` +
    `drift ${drift >= 0 ? '+' : ''}${drift.toFixed(1)} MiB`);
  if (r.samples.some((x) => x.tcg > 0)) {
    const guest = r.samples.filter((x) => x.t >= r.warmupMs).map((x) => x.rss - x.tcg);
    console.log(`        without qemu's translation buffer: min ${Math.min(...guest).toFixed(1)}  max ${Math.max(...guest).toFixed(1)}  last ${guest.at(-1)!.toFixed(1)} MiB`);
  }
  const every = Math.max(1, Math.floor(r.samples.length / 10));
  console.log('        ' + r.samples.filter((_, i) => i % every === 0 || i === r.samples.length - 1)
    .map((s) => `${Math.round(s.t / 1000)}s:${s.rss.toFixed(0)}`).join(' '));
}

async function main(): Promise<void> {
  exitOnSignals();
  const durationMs = parseDuration(values.duration);
  const warmupMs = Math.min(parseDuration(values.warmup), durationMs / 2);
  const flagSets = (values.flags ?? 'launcher').split(';').map((f) => (f.trim() === 'launcher' ? launcherFlags() : f.trim()));
  console.log(`footprint: ${DEVICES * POINTS} sim points, journal on, QoS 1 → mosquitto; ${values.duration} per run, RSS of the gateway process`);
  console.log(`machine: ${machine()}`);
  if (values.tree) console.log(`gateway: ${values.tree} (${values.arch}${EMULATORS[values.arch] ? ', under qemu-user' : ''})`);
  for (const rate of values.rate.split(',').map(Number)) {
    for (const flags of flagSets) report(await measure(rate, flags, durationMs, parseDuration(values.sample), warmupMs));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
}).finally(() => disposeAllBrokers());
