// What a power cut takes from the journal during an outage, per buffer setting. Each setting runs
// its own `fieldgate run` (from dist/) with its journal on an ext4 file system of its own on a
// loop device (test/integration/harness/loop-disk.ts; default mount options: data=ordered,
// commit=5s). The broker is unreachable, so every reading stays in the journal. A "cut" stops all
// gateways (SIGSTOP), copies each disk as a power cut would leave it, and lets them go on. Each
// copy is then mounted (ext4 replays its journal), SQLite opens the journal (replaying its WAL),
// and its readings are compared with those the same gateway had taken by the cut (counted from
// its journal after a clean stop at the end).
// A setting is normal|full[/sync=<duration>][/commit=<duration>] (buffer.synchronous,
// buffer.sync_interval, buffer.commit_interval). Needs root (losetup, mkfs.ext4, mount).
// Run: npx tsc -p tsconfig.build.json && node --import tsx bench/power-cut.bench.ts
//   (MODES=normal,normal/sync=30s,full,normal/commit=1s CUTS=8 FIRST_CUT_S=15 GAP_S=11)
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LoopDisk, canMakeLoopDisks, filesAfterCut, freePort, journalReadings, makeLoopDisk } from '../test/integration/harness/index.js';
import { exitOnSignals, fmt, killOnExit, machine, median } from './bench-util.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MODES = process.env.MODES?.split(',') ?? ['normal', 'normal/sync=30s', 'full', 'normal/commit=1s'];
const CUTS = Number(process.env.CUTS ?? 8);
const FIRST_CUT_S = Number(process.env.FIRST_CUT_S ?? 15);
// Cuts come GAP_S apart, give or take a third, so they fall at every point of the kernel's
// 5-second writeback cycle rather than at one.
const GAP_S = Number(process.env.GAP_S ?? 11);
const POINTS = 10;
const INTERVAL = '100ms';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sysctl = (name: string): string => fs.readFileSync(`/proc/sys/vm/${name}`, 'utf8').trim();

interface Mode { label: string; synchronous: 'normal' | 'full'; sync?: string; commit?: string }

function parseMode(label: string): Mode {
  const m = /^(normal|full)(?:\/sync=([0-9a-z]+))?(?:\/commit=([0-9a-z]+))?$/.exec(label);
  if (!m) throw new Error(`mode "${label}": expected normal|full[/sync=<duration>][/commit=<duration>], e.g. normal/sync=30s`);
  return { label, synchronous: m[1] as Mode['synchronous'], ...(m[2] ? { sync: m[2] } : {}), ...(m[3] ? { commit: m[3] } : {}) };
}

function siteYaml(mode: Mode, url: string, db: string): string {
  const points = Array.from({ length: POINTS }, (_, p) => `      - { name: p${p}, signal: counter }`);
  return [`site: cut`, 'gateway: gw', `mqtt: { url: "${url}", qos: 1 }`,
    `buffer: { path: "${db}", synchronous: ${mode.synchronous}${mode.sync ? `, sync_interval: ${mode.sync}` : ''}${mode.commit ? `, commit_interval: ${mode.commit}` : ''} }`,
    'devices:', '  - name: d', '    driver: sim', `    interval: ${INTERVAL}`, '    points:', ...points, ''].join('\n');
}

async function main(): Promise<void> {
  if (!canMakeLoopDisks()) throw new Error('power-cut.bench.ts needs root, /dev/loop-control, losetup and mkfs.ext4');
  exitOnSignals();
  const modes = MODES.map(parseMode);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fieldgate-cut-'));
  const children: ChildProcess[] = [];
  const cleanup = killOnExit(() => children);
  const disks: LoopDisk[] = [];
  // No broker listens there: an outage for the whole run.
  const url = `mqtt://127.0.0.1:${await freePort()}`;
  try {
    const runs = modes.map((mode, i) => {
      const dir = path.join(work, `m${i}`);
      fs.mkdirSync(dir);
      const disk = makeLoopDisk(dir);
      disks.push(disk);
      const file = path.join(dir, 'site.yaml');
      fs.writeFileSync(file, siteYaml(mode, url, path.join(disk.mnt, 'buffer.db')));
      const child = spawn(process.execPath, [path.join(repo, 'bin', 'fieldgate.js'), 'run', '-c', file, '--log-level', 'error'], { stdio: 'inherit' });
      children.push(child);
      return { mode, dir, disk, child, started: Date.now(), cuts: [] as Array<{ at: number; image: string }> };
    });
    console.log(`power-cut: ${modes.length} gateway(s) side by side, ${POINTS} sim points every ${INTERVAL} (JSON, ${POINTS * 1000 / 100} readings/s), broker unreachable, ${CUTS} cuts from ${FIRST_CUT_S} s, about ${GAP_S} s apart`);
    console.log(`machine: ${machine()}; vm.dirty_expire_centisecs ${sysctl('dirty_expire_centisecs')}, vm.dirty_writeback_centisecs ${sysctl('dirty_writeback_centisecs')}`);
    await sleep(FIRST_CUT_S * 1000);
    // What each disk was sent between the first and the last cut: the price of each setting in card wear.
    const writes = runs.map((r) => ({ from: r.disk.bytesWritten(), at: Date.now(), bytes: 0, seconds: 0 }));
    for (let k = 0; k < CUTS; k++) {
      for (const r of runs) r.child.kill('SIGSTOP');
      const at = Date.now();
      for (const r of runs) {
        const image = path.join(r.dir, `cut${k}.img`);
        r.disk.cut(image);
        r.cuts.push({ at, image });
      }
      for (const r of runs) r.child.kill('SIGCONT');
      // Pseudo-random gaps in [2/3, 4/3] × GAP_S, the same in every run.
      if (k < CUTS - 1) await sleep(GAP_S * 1000 * (2 / 3 + (((k * 7 + 3) % 11) / 10) * (2 / 3)));
    }
    for (const [i, r] of runs.entries()) {
      writes[i]!.bytes = r.disk.bytesWritten() - writes[i]!.from;
      writes[i]!.seconds = (Date.now() - writes[i]!.at) / 1000;
    }
    await Promise.all(runs.map((r) => new Promise((res) => { r.child.once('exit', res); r.child.kill('SIGTERM'); })));
    console.log('| setting | cut | readings taken by the cut | readings in the journal after it | lost | newest kept reading before the cut |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    const summary: string[] = [];
    for (const [i, r] of runs.entries()) {
      const live = path.join(r.disk.mnt, 'buffer.db');
      const lostS: number[] = [];
      for (const [k, cut] of r.cuts.entries()) {
        const taken = journalReadings(live, cut.at);
        const kept = journalReadings(path.join(filesAfterCut(cut.image, 'buffer.db', path.join(r.dir, `cut${k}`)), 'buffer.db'));
        const lost = taken.rows - kept.rows;
        const behind = (cut.at - (kept.rows > 0 ? kept.newest : r.started)) / 1000;
        lostS.push(behind);
        const newest = kept.rows > 0 ? `${fmt(behind, 2)} s` : `none (all ${fmt(behind, 1)} s since the start lost)`;
        console.log(`| ${r.mode.label} | ${k + 1} | ${fmt(taken.rows)} | ${fmt(kept.rows)} | ${fmt(lost)} | ${newest} |`);
      }
      const w = writes[i]!;
      summary.push(`${r.mode.label}: readings lost span ${fmt(Math.min(...lostS), 2)}–${fmt(Math.max(...lostS), 2)} s before the cut (median ${fmt(median(lostS), 2)} s); ` +
        `the disk was sent ${fmt(w.bytes / 1024 / w.seconds, 1)} KiB/s (${fmt(w.bytes * 86_400 / w.seconds / 1e9, 2)} GB a day)`);
    }
    for (const line of summary) console.log(line);
  } finally {
    cleanup();
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const d of disks) d.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
