// The status page in a real headless browser (Debian's chromium, driven by playwright-core):
// against a running gateway with a sim device, a Modbus meter and a Modbus device that does not
// answer; against hostile names; and refused without a token on a non-loopback bind.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { drivers } from '../../drivers/index.js';
import { startModbusMeterSim, type MeterSim } from '../../src/demo/modbus-meter-sim.js';
import { HttpServer } from '../../src/service/http-server.js';
import { StatusPage } from '../../src/service/status-page.js';
import type { StatusSnapshot } from '../../src/service/status-snapshot.js';
import { freePort, startMosquitto, type Broker } from './harness/index.js';
import { REPO_ROOT, startTestGateway } from './harness/test-gateway.js';
import { HOSTILE, fixtureSnapshot } from '../service/status-fixture.js';
import { tempDirs } from '../support/temp-dirs.js';

const CHROMIUM = process.env.FIELDGATE_CHROMIUM ?? '/usr/bin/chromium';
let browser: Browser;
let broker: Broker;
let meter: MeterSim;
const servers: HttpServer[] = [];

beforeAll(async () => {
  // --no-sandbox: the tests run as root (CI), where Chromium's sandbox refuses to start.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  broker = await startMosquitto();
  meter = await startModbusMeterSim({ port: await freePort() });
});
afterAll(async () => {
  for (const s of servers) await s.stop();
  await browser?.close();
  await meter?.stop();
  await broker?.dispose();
});

const shotDir = tempDirs('fg-shot-', 'each');

async function serve(snapshot: () => StatusSnapshot, access: { requireToken: boolean; token?: string } = { requireToken: false }): Promise<string> {
  const server = new HttpServer({
    listen: '127.0.0.1:0',
    registry: new Registry(),
    health: () => ({ healthy: true, checks: {} }),
    logger: pino({ level: 'silent' }),
    status: new StatusPage({ snapshot, ...access, assetsDir: path.join(REPO_ROOT, 'web/status') }),
  });
  await server.start();
  servers.push(server);
  return `http://127.0.0.1:${server.address()!.port}`;
}

describe('status page in a browser', () => {
  it('shows live values of a sim device and a Modbus meter, and the fault of a dead device', async () => {
    const dead = await freePort(); // nothing listens there
    const gw = await startTestGateway({
      drivers,
      siteYaml: `site: cabinet
gateway: gw-7
mqtt: { url: ${broker.url} }
buffer: { path: buffer.db }
devices:
  - name: boiler
    driver: sim
    interval: 200ms
    points:
      - { name: counter, signal: counter }
      - { name: temp, signal: constant, value: 21.5, unit: C }
  - name: meter
    driver: modbus
    tcp: { host: 127.0.0.1, port: ${meter.port} }
    interval: 200ms
    timeout: 300ms
    points:
      - { name: voltage_l1, table: input, address: 0, type: float32, order: CDAB, unit: V }
      - { name: model, table: input, address: 40, type: string, length: 8 }
  - name: dead_meter
    driver: modbus
    tcp: { host: 127.0.0.1, port: ${dead} }
    interval: 200ms
    timeout: 200ms
    points:
      - { name: voltage_l1, table: input, address: 0, type: float32, unit: V }
`,
    });
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    try {
      const base = await serve(() => gw.gateway.status('test'));
      await page.goto(`${base}/`);
      const cell = (device: string, point: string) =>
        page.locator(`article[data-device="${device}"] tr[data-point="${point}"] td.value`);
      await expect.poll(() => page.locator('#site').textContent(), { timeout: 10_000 }).toBe('cabinet');
      await expect.poll(() => cell('boiler', 'temp').textContent(), { timeout: 10_000 }).toBe('21.5 C');
      await expect.poll(() => cell('meter', 'model').textContent(), { timeout: 10_000 }).toBe('FG-EM340');
      await expect.poll(async () => Number.parseFloat((await cell('meter', 'voltage_l1').textContent()) ?? ''), { timeout: 10_000 }).toBeGreaterThan(220);
      // Values change as they are read: the counter moves within a second or two.
      const first = Number(await cell('boiler', 'counter').textContent());
      await expect.poll(async () => Number(await cell('boiler', 'counter').textContent()), { timeout: 5_000 }).toBeGreaterThan(first);
      const deadBox = page.locator('article[data-device="dead_meter"]');
      await expect.poll(() => deadBox.locator('header .bad').textContent(), { timeout: 10_000 }).toBe('faulty');
      await expect.poll(() => deadBox.locator('.fault').textContent(), { timeout: 10_000 }).toMatch(/connect|refused|timeout/i);
      await expect.poll(() => page.locator('#uplink-state').textContent(), { timeout: 10_000 }).toBe('connected');
      // The Modbus request plan is there for commissioning.
      expect(await page.locator('article[data-device="meter"] details pre').textContent()).toMatch(/FC ?0?4|input/i);
      const shot = process.env.FIELDGATE_UPDATE_SCREENSHOT === '1' ? path.join(REPO_ROOT, 'docs/status-page.png') : path.join(shotDir(), 'status.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
    } finally {
      await page.close();
      await gw.stop();
    }
  });

  it('shows hostile names and values as text: no markup, no script runs', async () => {
    const base = await serve(fixtureSnapshot);
    const page = await browser.newPage();
    try {
      await page.goto(`${base}/`);
      const device = page.locator('article.device');
      await expect.poll(() => device.locator('h3').textContent(), { timeout: 10_000 }).toBe(HOSTILE);
      expect(await device.locator('td.value').textContent()).toBe(`${HOSTILE} ${HOSTILE}`);
      expect(await device.locator('.fault').textContent()).toContain(HOSTILE);
      expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await page.locator('#devices img, #devices script').count()).toBe(0);
    } finally {
      await page.close();
    }
  });

  it('is refused without the token on a non-loopback bind, and shown with it', async () => {
    const open = await serve(fixtureSnapshot, { requireToken: true });
    const locked = await serve(fixtureSnapshot, { requireToken: true, token: 'cabinet-token-0123456789' });
    const page = await browser.newPage();
    try {
      expect((await page.goto(`${open}/`))!.status()).toBe(403);
      expect((await page.goto(`${locked}/`))!.status()).toBe(401);
      expect(await page.locator('body').textContent()).not.toContain('plant-7');
      expect((await page.goto(`${locked}/?token=cabinet-token-0123456789`))!.status()).toBe(200);
      await expect.poll(() => page.locator('#site').textContent(), { timeout: 10_000 }).toBe('plant-7');
    } finally {
      await page.close();
    }
  });
});
