// The systemd-facing behaviour of a running gateway: sd_notify messages, the watchdog fed only on
// progress, SIGHUP reloads without losing a seq, /metrics and /healthz.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { collect, freePort, registerBrokerCleanup, startMosquitto } from './harness/index.js';
import { journalStats, spawnFieldgate, startTestGateway, testLogger, writeSite } from './harness/test-gateway.js';
import { assertContiguous, seqsOf, simSite } from './site-yaml.js';
import { ServiceRuntime } from '../../src/cli/service-runtime.js';
import { simDriver } from '../../drivers/sim/index.js';
import type { DriverFactory } from '../../src/driver-api/index.js';
import { tempDirs } from '../support/temp-dirs.js';

registerBrokerCleanup();
const tempDir = tempDirs('fieldgate-svc-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function notifyReceiver(socketPath: string): { messages: string[]; close(): void } {
  const unix = createRequire(import.meta.url)('unix-dgram') as {
    createSocket(type: 'unix_dgram', listener: (buf: Buffer) => void): { bind(p: string): void; close(): void; on(e: string, l: () => void): void };
  };
  const messages: string[] = [];
  const socket = unix.createSocket('unix_dgram', (buf) => messages.push(buf.toString('utf8')));
  socket.on('error', () => undefined);
  socket.bind(socketPath);
  return { messages, close: () => socket.close() };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('fieldgate run under a service manager', () => {
  it('notifies READY/STATUS/WATCHDOG, reloads on SIGHUP (valid, invalid, mqtt change) without a seq missing, and STOPPING', async () => {
    const broker = await startMosquitto();
    const sub = await collect(broker.url, 'it/#');
    const dir = tempDir();
    const notify = notifyReceiver(path.join(dir, 'notify.sock'));
    const site = simSite({ url: broker.url, interval: '10ms', points: 2 });
    const file = writeSite(dir, site);
    const proc = spawnFieldgate(['run', '-c', file], { NOTIFY_SOCKET: path.join(dir, 'notify.sock'), WATCHDOG_USEC: '600000' });
    try {
      await until(() => notify.messages.some((m) => m.includes('READY=1')), 60_000, 'READY');
      expect(notify.messages.find((m) => m.includes('READY=1'))).toMatch(/STATUS=/);
      await until(() => notify.messages.some((m) => m === 'WATCHDOG=1'), 5000, 'WATCHDOG');
      await sub.waitFor((m) => seqsOf(m).length > 20, 10_000);

      // 1. a valid change: a second device appears, the first keeps polling.
      writeSite(dir, site.replace('devices:\n', 'devices:\n  - name: extra\n    driver: sim\n    interval: 50ms\n    points: [ { name: x, signal: counter } ]\n'));
      proc.child.kill('SIGHUP');
      await sub.waitFor((m) => m.some((x) => x.topic === 'it/extra/x'), 10_000);
      expect(notify.messages.some((m) => m.startsWith('RELOADING=1'))).toBe(true);

      // 2. an invalid file: logged, the running configuration stays.
      fs.writeFileSync(file, 'site: [unclosed\n');
      proc.child.kill('SIGHUP');
      await proc.waitForOutput(/keeping the running one/, 10_000);
      const before = seqsOf(sub.messages).length;
      await sub.waitFor((m) => seqsOf(m).length > before + 20, 10_000);

      // 3. an mqtt change: reconnects, nothing queued is lost.
      writeSite(dir, site.replace('keepalive: 2s', 'keepalive: 3s'));
      proc.child.kill('SIGHUP');
      await proc.waitForOutput(/mqtt settings changed; reconnecting/, 10_000);
      const count = seqsOf(sub.messages).length;
      await sub.waitFor((m) => seqsOf(m).length > count + 50, 10_000);

      proc.child.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      expect(notify.messages.some((m) => m.startsWith('STOPPING=1'))).toBe(true);
      const { first } = assertContiguous(seqsOf(sub.messages));
      expect(first).toBe(1);
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
      notify.close();
      await sub.close();
      await broker.dispose();
    }
  }, 120_000);

  it('a second SIGTERM during shutdown exits at once and leaves the journal intact', async () => {
    const dir = tempDir();
    const deadPort = await freePort();
    const file = writeSite(dir, simSite({ url: `mqtt://127.0.0.1:${deadPort}`, interval: '5ms', points: 4 }));
    const proc = spawnFieldgate(['run', '-c', file]);
    await proc.waitForOutput(/gateway started/, 60_000);
    await sleep(500);
    proc.child.kill('SIGTERM');
    proc.child.kill('SIGTERM');
    const code = await proc.exited;
    expect([0, 130]).toContain(code);
    const { backlog: depth, lastSeq } = await journalStats(file);
    expect(depth).toBeGreaterThan(50);
    expect(depth).toBe(lastSeq); // nothing was delivered (no broker), nothing lost
  }, 120_000);

  it('withholds WATCHDOG=1 while the scheduler is stalled', async () => {
    const broker = await startMosquitto();
    const dir = tempDir();
    const notify = notifyReceiver(path.join(dir, 'notify.sock'));
    let stalled = false;
    const sim = simDriver as unknown as DriverFactory;
    // The sim driver, except that its poll never returns while `stalled` is set.
    const stalling: DriverFactory = {
      ...sim,
      create(device, ctx) {
        const inner = sim.create(device, ctx);
        return {
          start: () => inner.start(),
          stop: () => inner.stop(),
          poll: async () => {
            while (stalled) await sleep(50);
            return inner.poll!();
          },
        };
      },
    };
    const gw = await startTestGateway({ siteYaml: simSite({ url: broker.url, interval: '50ms' }), dir, drivers: [stalling] });
    const logger = testLogger();
    const env = { NOTIFY_SOCKET: path.join(dir, 'notify.sock'), WATCHDOG_USEC: '300000' };
    const service = new ServiceRuntime({ gateway: gw.gateway, site: gw.gateway.resolvedSite, logger, env, maxIdleMs: 400 });
    try {
      await service.start();
      await sleep(600);
      const pingsWhileRunning = notify.messages.filter((m) => m === 'WATCHDOG=1').length;
      expect(pingsWhileRunning).toBeGreaterThanOrEqual(3);
      stalled = true;
      await sleep(800); // maxIdle passes; pings stop
      const atStall = notify.messages.filter((m) => m === 'WATCHDOG=1').length;
      await sleep(800);
      expect(notify.messages.filter((m) => m === 'WATCHDOG=1').length).toBe(atStall);
      stalled = false;
      await sleep(600);
      expect(notify.messages.filter((m) => m === 'WATCHDOG=1').length).toBeGreaterThan(atStall);
    } finally {
      stalled = false;
      await service.stop();
      await gw.stop();
      notify.close();
      await broker.dispose();
    }
  });

  it('serves /metrics and a /healthz that fails once the broker is gone longer than the grace', async () => {
    const broker = await startMosquitto();
    const port = await freePort();
    const dir = tempDir();
    const gw = await startTestGateway({
      siteYaml: simSite({ url: broker.url, interval: '20ms', extraTop: `http: { listen: "127.0.0.1:${port}", unhealthy_after: 1s }` }),
      dir,
    });
    const service = new ServiceRuntime({ gateway: gw.gateway, site: gw.gateway.resolvedSite, logger: testLogger(), env: {} });
    try {
      await service.start();
      await sleep(500);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const readings = /fieldgate_readings_total\{device="dev"\} (\d+)/.exec(metrics);
      expect(Number(readings?.[1])).toBeGreaterThan(5);
      expect(metrics).toMatch(/fieldgate_publish_total\{result="ok"\} [1-9]/);
      expect(metrics).toMatch(/fieldgate_mqtt_connected 1/);
      expect(metrics).toMatch(/fieldgate_backlog_messages \d+/);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(ok.status).toBe(200);

      // A hung broker: publishes go out, acknowledgements do not come back.
      broker.pause();
      await sleep(400);
      const hung = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      broker.resume();
      expect(Number(/fieldgate_inflight_messages (\d+)/.exec(hung)?.[1])).toBeGreaterThan(0);

      await broker.stop();
      await sleep(300);
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200); // within the grace
      await sleep(1200);
      const bad = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(bad.status).toBe(503);
      const body = (await bad.json()) as { checks: Record<string, { ok: boolean }> };
      expect(body.checks.uplink!.ok).toBe(false);
      const m2 = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(Number(/fieldgate_backlog_messages (\d+)/.exec(m2)?.[1])).toBeGreaterThan(0);

      await broker.restart();
      await until(() => gw.gateway.isConnected, 10_000, 'reconnect');
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    } finally {
      await service.stop();
      await gw.stop();
      await broker.dispose();
    }
  });
});
