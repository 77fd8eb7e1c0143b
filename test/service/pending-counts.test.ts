import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/service/metrics.js';

const valueOf = async (metrics: Metrics, name: 'readings' | 'published', labels: Record<string, string>) =>
  (await metrics[name].get()).values.find((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))?.value;

describe('hot-path counters (readingsOf, publishedWith)', () => {
  it('show every count when the metrics are read, once, whatever the order of adds and reads', async () => {
    const metrics = new Metrics();
    const boiler = metrics.readingsOf('boiler');
    const meter = metrics.readingsOf('meter');
    const ok = metrics.publishedWith('ok');
    boiler(3);
    meter();
    ok();
    ok();
    expect(await valueOf(metrics, 'readings', { device: 'boiler' })).toBe(3);
    expect(await valueOf(metrics, 'readings', { device: 'meter' })).toBe(1);
    expect(await valueOf(metrics, 'published', { result: 'ok' })).toBe(2);
    // Read again without new counts: nothing is added twice.
    expect(await valueOf(metrics, 'published', { result: 'ok' })).toBe(2);
    boiler(2);
    // A second adder for the same device (a device restarted by a reload) counts into the same series.
    metrics.readingsOf('boiler')(5);
    expect(await metrics.registry.metrics()).toContain('fieldgate_readings_total{device="boiler"} 10');
    expect(await valueOf(metrics, 'readings', { device: 'boiler' })).toBe(10);
  });
});
