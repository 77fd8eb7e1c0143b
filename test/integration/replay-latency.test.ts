// Time from the broker coming back to the first replayed message, at default settings: a broker
// that refuses connections is retried every 0.5–1 s, so the backlog starts moving within ~1 s
// whatever the length of the outage (backoff alone would wait up to 30 s after a long one).
import { expect, it } from 'vitest';
import { registerBrokerCleanup, startMosquitto } from './harness/index.js';
import { startTestGateway } from './harness/test-gateway.js';
import { simSite } from './site-yaml.js';

registerBrokerCleanup();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('replays within 2 s of the broker coming back after an outage of 6 s', async () => {
  const broker = await startMosquitto();
  const gw = await startTestGateway({ siteYaml: simSite({ url: broker.url, interval: '50ms', points: 2 }) });
  const published = async () => {
    const metric = await gw.gateway.metrics.published.get();
    return metric.values.filter((v) => v.labels.result === 'ok').reduce((sum, v) => sum + v.value, 0);
  };
  try {
    await expect.poll(published, { timeout: 5000 }).toBeGreaterThan(5);
    await broker.stop();
    // Long enough for plain backoff to be past its 4 s step (next attempt up to 8 s away).
    await sleep(6000);
    expect(gw.gateway.journalStats!.depth).toBeGreaterThan(50);
    const before = await published();
    const back = Date.now();
    await broker.restart();
    await expect.poll(published, { timeout: 10_000, interval: 10 }).toBeGreaterThan(before);
    expect(Date.now() - back).toBeLessThan(2000);
  } finally {
    await gw.stop();
    await broker.dispose();
  }
}, 30_000);
