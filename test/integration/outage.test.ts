// Outages: the broker stopped and restarted, the network cut mid-stream, fieldgate killed with
// SIGKILL. In every case each seq must arrive, in order; duplicates only within the window.
import { describe, expect, it } from 'vitest';
import { collect, registerBrokerCleanup, startMosquitto, startTcpProxy } from './harness/index.js';
import { journalStats, spawnFieldgate, startTestGateway, writeSite } from './harness/test-gateway.js';
import { assertContiguous, seqsOf, simSite } from './site-yaml.js';
import { tempDirs } from '../support/temp-dirs.js';

registerBrokerCleanup();
const tempDir = tempDirs('fieldgate-outage-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('outages', () => {
  it('broker stopped for a while, then back: every seq delivered in order', async () => {
    const broker = await startMosquitto({ persistence: true });
    const sub = await collect(broker.url, 'it/#', { session: 'persistent', clientId: 'outage-sub-1' });
    const gw = await startTestGateway({ siteYaml: simSite({ url: broker.url, interval: '10ms', points: 3 }), dir: tempDir() });
    try {
      await sub.waitFor((m) => seqsOf(m).length >= 100, 10_000);
      await broker.stop();
      await sleep(2500); // readings keep being journaled
      expect(gw.gateway.journalStats!.depth).toBeGreaterThan(100);
      await broker.restart();
      const target = gw.gateway.journalStats!.lastSeq + 50;
      await sub.waitFor((m) => seqsOf(m).includes(target), 20_000);
      const { first, duplicates } = assertContiguous(seqsOf(sub.messages));
      expect(first).toBe(1);
      expect(duplicates).toBeLessThanOrEqual(100);
    } finally {
      await gw.stop();
      await sub.close();
      await broker.dispose();
    }
  });

  it('connection cut mid-stream: nothing lost, duplicates bounded by the window', async () => {
    const broker = await startMosquitto();
    const proxy = await startTcpProxy(broker.port);
    const sub = await collect(broker.url, 'it/#');
    const gw = await startTestGateway({
      siteYaml: simSite({ url: `mqtt://127.0.0.1:${proxy.port}`, interval: '5ms', points: 5, extraBuffer: '  inflight: 20' }),
      dir: tempDir(),
    });
    try {
      for (let i = 0; i < 3; i++) {
        await sleep(400);
        proxy.cut();
      }
      const target = (await (async () => {
        await sleep(300);
        return gw.gateway.journalStats!.lastSeq;
      })()) + 20;
      await sub.waitFor((m) => seqsOf(m).includes(target), 20_000);
      const { first, duplicates } = assertContiguous(seqsOf(sub.messages));
      expect(first).toBe(1);
      expect(duplicates).toBeLessThanOrEqual(3 * 20);
    } finally {
      await gw.stop();
      await sub.close();
      await proxy.close();
      await broker.dispose();
    }
  });

  it('fieldgate killed with SIGKILL mid-stream and restarted: no seq missing', async () => {
    const broker = await startMosquitto();
    const sub = await collect(broker.url, 'it/#');
    const dir = tempDir();
    const file = writeSite(dir, simSite({ url: broker.url, interval: '5ms', points: 4 }));
    const args = ['run', '-c', file, '--log-level', 'info'];
    try {
      for (let round = 0; round < 2; round++) {
        const proc = spawnFieldgate(args);
        await proc.waitForOutput(/gateway started/, 60_000);
        await sleep(300 + Math.floor(Math.random() * 400));
        proc.child.kill('SIGKILL');
        expect(await proc.exited).toBe('SIGKILL');
      }
      const last = spawnFieldgate(args);
      await last.waitForOutput(/gateway started/, 60_000);
      await sleep(500);
      last.child.kill('SIGTERM');
      expect(await last.exited).toBe(0);
      const seqs = seqsOf(sub.messages);
      const { first, last: lastSeq } = assertContiguous(seqs);
      expect(first).toBe(1);
      expect(lastSeq).toBeGreaterThan(200);
      // Everything journaled was delivered before the clean stop (the broker was up throughout).
      expect((await journalStats(file)).backlog).toBe(0);
    } finally {
      await sub.close();
      await broker.dispose();
    }
  }, 120_000);
});

describe('capacity', () => {
  for (const policy of ['drop_oldest', 'drop_newest'] as const) {
    it(`${policy}: the journal holds max_messages while offline; drops are counted`, async () => {
      const broker = await startMosquitto();
      const proxy = await startTcpProxy(broker.port);
      proxy.blackhole(true);
      const dir = tempDir();
      const sub = await collect(broker.url, 'it/#');
      const gw = await startTestGateway({
        siteYaml: simSite({
          url: `mqtt://127.0.0.1:${proxy.port}`, interval: '5ms', points: 2,
          extraBuffer: `  max_messages: 50\n  when_full: ${policy}`,
        }),
        dir,
      });
      try {
        await sleep(800);
        const stats = gw.gateway.journalStats!;
        expect(stats.depth).toBe(50);
        const dropped = stats.drops[policy];
        expect(dropped).toBeGreaterThan(50);
        const metrics = await gw.gateway.metrics.registry.getSingleMetricAsString('fieldgate_dropped_total');
        expect(metrics).toMatch(new RegExp(`reason="${policy}"} \\d+`));
        proxy.blackhole(false);
        proxy.cut();
        await sub.waitFor((m) => seqsOf(m).length >= 60, 15_000);
        const seqs = seqsOf(sub.messages);
        if (policy === 'drop_newest') {
          // The oldest 50 were kept: seq 1..50 arrive first, then live readings continue at 51.
          expect(seqs.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
        } else {
          // The newest were kept: the first seq delivered is well past 1, and the rest is contiguous.
          expect(seqs[0]).toBeGreaterThan(50);
          assertContiguous(seqs);
        }
      } finally {
        await gw.stop();
        await sub.close();
        await proxy.close();
        await broker.dispose();
      }
    });
  }
});
