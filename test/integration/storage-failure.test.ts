// An SD card that wears out goes read-only under the running gateway (ext4 errors=remount-ro).
// The broker is fine, so readings must keep reaching it, in order and without a gap: the journal
// goes on in memory. A `fieldgate run` process with its journal on a loop-device disk that is
// failed mid-run (harness/loop-disk.ts; needs root), against a real mosquitto.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canMakeLoopDisks, collect, freePort, makeLoopDisk, registerBrokerCleanup, startMosquitto, startTcpProxy } from './harness/index.js';
import { spawnFieldgate, writeSite } from './harness/test-gateway.js';
import { assertContiguous, seqsOf, simSite } from './site-yaml.js';
import { tempDirs } from '../support/temp-dirs.js';

const tempDir = tempDirs('fieldgate-storage-failure-');
registerBrokerCleanup();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!canMakeLoopDisks())('a journal whose SD card goes read-only mid-run (loop-device disk; needs root)', () => {
  it('keeps publishing every reading, in order, from memory, bridges an outage there, and says so', async () => {
    const broker = await startMosquitto();
    // The gateway reaches the broker through a proxy that can be cut: an outage while in memory.
    const proxy = await startTcpProxy(broker.port);
    const port = await freePort();
    const dir = tempDir();
    const disk = makeLoopDisk(dir, 64 * 1024 * 1024);
    const sub = await collect(broker.url, 'it/dev/#');
    const site = simSite({
      url: `mqtt://127.0.0.1:${proxy.port}`, interval: '100ms', points: 5, bufferPath: path.join(disk.mnt, 'buffer.db'),
      extraTop: `http: { listen: "127.0.0.1:${port}" }`,
    });
    const proc = spawnFieldgate(['run', '-c', writeSite(dir, site), '--log-level', 'info']);
    try {
      await proc.waitForOutput(/gateway started/, 60_000);
      await sleep(1_500);
      disk.fail();
      const atFailure = sub.messages.length;
      await sleep(2_000);
      expect(proc.child.exitCode).toBeNull();
      // 50 readings a second kept coming: nothing was refused or lost.
      expect(sub.messages.length - atFailure).toBeGreaterThan(60);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { checks: { journal: { detail: string } } }).checks.journal.detail).toMatch(/storage failed: in memory/);
      expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/^fieldgate_journal_in_memory 1$/m);
      const status = (await (await fetch(`http://127.0.0.1:${port}/api/status`)).json()) as { backlog: { available: boolean; storage: string } };
      expect(status.backlog).toMatchObject({ available: true, storage: 'memory' });
      // An outage of 2 s while in memory: its readings wait there and follow once it ends.
      proxy.blackhole(true);
      proxy.cut();
      await sleep(2_000);
      proxy.blackhole(false);
      await sleep(3_000);
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      const { first, last, duplicates } = assertContiguous(seqsOf(sub.messages));
      expect(first).toBe(1);
      expect(last).toBeGreaterThan(400);
      expect(duplicates).toBeLessThan(200);
      // The outage was real: the gateway had to connect again.
      expect(proc.output().match(/"msg":"uplink connected"/g)?.length).toBeGreaterThanOrEqual(2);
      const failed = proc.output().split('\n').filter((l) => l.includes('journal storage failed'));
      expect(failed).toHaveLength(1);
      expect(proc.output()).not.toMatch(/readings of this batch are lost|journal closed while in memory/);
    } finally {
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
      await proc.exited;
      await sub.close();
      await proxy.close();
      disk.close();
    }
  }, 90_000);
});
