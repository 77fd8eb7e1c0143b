// A Pi that boots with a stale clock, end to end against a real mosquitto: readings taken before
// the clock is synchronized are held in the journal, and once the clock is synchronized (a step
// of +3 years) they are published with their times corrected; /metrics says
// fieldgate_clock_synchronized 0, then 1. The clock source is injected; the rest is real.
import { expect, it } from 'vitest';
import { collect, registerBrokerCleanup, startMosquitto } from './harness/index.js';
import { startTestGateway } from './harness/test-gateway.js';
import { simSite } from './site-yaml.js';
import type { ClockSource } from '../../src/clock/clock-source.js';
import { unpackMessage } from '../../src/wire/unpack.js';

registerBrokerCleanup();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const YEAR = 365 * 86_400_000;

it('holds readings until the clock is synchronized, then publishes them re-stamped by +3 years', async () => {
  let skew = -3 * YEAR;
  let synced = false;
  const source: ClockSource = {
    synchronized: () => synced,
    wallMs: () => Date.now() + skew,
    monotonicMs: () => Number(process.hrtime.bigint() / 1_000_000n),
    bootId: () => 'boot-test',
  };
  const broker = await startMosquitto();
  const gw = await startTestGateway({
    siteYaml: simSite({ url: broker.url, interval: '50ms', points: 1 }),
    clock: { now: () => Date.now() + skew },
    clockSource: source,
  });
  const sub = await collect(broker.url, 'it/dev/#');
  const metric = async () => (await gw.gateway.metrics.registry.getSingleMetric('fieldgate_clock_synchronized')!.get()).values[0]!.value;
  try {
    await sleep(1500);
    expect(gw.gateway.journalStats!.lastSeq).toBeGreaterThan(10);
    expect(sub.messages).toHaveLength(0);
    expect(await metric()).toBe(0);
    const heldUpTo = gw.gateway.journalStats!.lastSeq;
    // NTP gets through: the clock steps to the real time and the system reports it synchronized.
    const syncedAt = Date.now();
    skew = 0;
    synced = true;
    await sub.waitFor((m) => m.some((x) => unpackMessage(x.payload)[0]!.seq > heldUpTo), 5000);
    expect(await metric()).toBe(1);
    const rows = sub.messages.map((m) => unpackMessage(m.payload)[0]!);
    const held = rows.filter((r) => r.seq <= heldUpTo);
    expect(held.map((r) => r.seq)).toEqual(Array.from({ length: heldUpTo }, (_, i) => i + 1));
    for (const r of held) {
      const ts = Date.parse(r.ts as string);
      // Taken in the 1.5 s before the sync, by the corrected clock (not 3 years ago).
      expect(ts).toBeGreaterThan(syncedAt - 3000);
      expect(ts).toBeLessThanOrEqual(syncedAt + 50);
      expect(r.clock).toBeUndefined();
    }
  } finally {
    await sub.close();
    await gw.stop();
    await broker.dispose();
  }
}, 30_000);
