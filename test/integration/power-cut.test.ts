// A power cut during an outage must not take more than buffer.sync_interval of readings from the
// journal. Two `fieldgate run` processes, each with its journal on a loop-device disk of its own
// (harness/loop-disk.ts), no broker: the default (sync_interval 1s) and sync_interval 30s, which
// leaves the journal to the kernel's own writeback (up to 30 s) and shows that the cut is real.
// Both are stopped at once, their disks copied as a cut leaves them, and each copy's journal is
// opened as the next boot would open it.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canMakeLoopDisks, filesAfterCut, freePort, journalReadings, makeLoopDisk, type LoopDisk } from './harness/index.js';
import { type GatewayProcess, spawnFieldgate, writeSite } from './harness/test-gateway.js';
import { simSite } from './site-yaml.js';
import { tempDirs } from '../support/temp-dirs.js';

const tempDir = tempDirs('fieldgate-cut-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// 5 points every 100 ms.
const PER_SECOND = 50;

describe.skipIf(!canMakeLoopDisks())('a power cut during an outage (loop-device disks; needs root)', () => {
  it('takes at most about sync_interval of readings from the journal', async () => {
    const url = `mqtt://127.0.0.1:${await freePort()}`;
    const disks: LoopDisk[] = [];
    const procs: GatewayProcess[] = [];
    try {
      const runs = ['', '  sync_interval: 30s'].map((extra) => {
        const dir = tempDir();
        const disk = makeLoopDisk(dir);
        disks.push(disk);
        const journal = path.join(disk.mnt, 'buffer.db');
        const site = writeSite(dir, simSite({ url, interval: '100ms', points: 5, bufferPath: journal, extraBuffer: extra }));
        const proc = spawnFieldgate(['run', '-c', site, '--log-level', 'info']);
        procs.push(proc);
        return { dir, disk, journal, proc };
      });
      for (const r of runs) await r.proc.waitForOutput(/gateway started/, 60_000);
      await sleep(6_000);
      for (const r of runs) r.proc.child.kill('SIGSTOP');
      const cutAt = Date.now();
      for (const r of runs) r.disk.cut(path.join(r.dir, 'cut.img'));
      for (const r of runs) r.proc.child.kill('SIGCONT');
      for (const r of runs) r.proc.child.kill('SIGTERM');
      for (const r of runs) expect(await r.proc.exited).toBe(0);
      const [synced, unsynced] = runs.map((r) => {
        const taken = journalReadings(r.journal, cutAt);
        const kept = journalReadings(path.join(filesAfterCut(path.join(r.dir, 'cut.img'), 'buffer.db', path.join(r.dir, 'after')), 'buffer.db'));
        return { taken: taken.rows, kept: kept.rows, lostSeconds: (cutAt - kept.newest) / 1000 };
      });
      // Six seconds of readings were taken by the cut; with the default, at most the last
      // second or so (plus a moment for the flush itself) is gone.
      expect(synced!.taken).toBeGreaterThan(3 * PER_SECOND);
      expect(synced!.kept).toBeGreaterThan(0);
      expect(synced!.lostSeconds).toBeLessThan(2.5);
      expect(synced!.taken - synced!.kept).toBeLessThan(2.5 * PER_SECOND);
      // Left to the kernel, the same cut takes far more: the disks are really cut.
      expect(unsynced!.taken - unsynced!.kept).toBeGreaterThan(3 * PER_SECOND);
    } finally {
      for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(procs.map((p) => p.exited));
      for (const d of disks) d.close();
    }
  }, 90_000);
});
