// Who may see the status page: open on loopback; on another address only with the configured
// token, and not at all without one. Plus the headers that keep a hostile value inert.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { HttpServer } from '../../src/service/http-server.js';
import { StatusPage, isLoopbackHost } from '../../src/service/status-page.js';
import { REPO_ROOT } from '../integration/harness/test-gateway.js';
import { fixtureSnapshot } from './status-fixture.js';

const servers: HttpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function serve(requireToken: boolean, token?: string): Promise<string> {
  const server = new HttpServer({
    listen: '127.0.0.1:0',
    registry: new Registry(),
    health: () => ({ healthy: true, checks: {} }),
    logger: pino({ level: 'silent' }),
    status: new StatusPage({ snapshot: fixtureSnapshot, token, requireToken, assetsDir: path.join(REPO_ROOT, 'web/status') }),
  });
  await server.start();
  servers.push(server);
  return `http://127.0.0.1:${server.address()!.port}`;
}

describe('status page access', () => {
  it('is open on a loopback address, with a strict content security policy', async () => {
    const base = await serve(false);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const api = await fetch(`${base}/api/status`);
    expect(((await api.json()) as { site: string }).site).toBe('plant-7');
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });

  it('is refused on another address when no token is configured; /metrics and /healthz are unchanged', async () => {
    const base = await serve(true);
    for (const p of ['/', '/api/status']) {
      const r = await fetch(`${base}${p}`);
      expect(r.status).toBe(403);
      expect(await r.text()).toMatch(/no http\.token is configured/);
    }
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('needs the token on another address: bearer or query, nothing else', async () => {
    const token = 'a-long-status-token-123';
    const base = await serve(true, token);
    expect((await fetch(`${base}/api/status`)).status).toBe(401);
    expect((await fetch(`${base}/api/status`, { headers: { Authorization: 'Bearer wrong-token-000000' } })).status).toBe(401);
    expect((await fetch(`${base}/api/status?token=${token}x`)).status).toBe(401);
    expect((await fetch(`${base}/api/status`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${base}/?token=${token}`)).status).toBe(200);
    // The script and the style sheet hold no data.
    expect((await fetch(`${base}/status.js`)).status).toBe(200);
  });

  it('refuses writes of any kind', async () => {
    const base = await serve(false);
    expect((await fetch(`${base}/api/status`, { method: 'POST', body: '{}' })).status).toBe(405);
  });

  it.each([
    ['127.0.0.1', true], ['127.8.9.10', true], ['::1', true], ['localhost', true],
    ['0.0.0.0', false], ['::', false], [undefined, false], ['192.168.1.20', false], ['gateway.local', false],
  ])('isLoopbackHost(%s) is %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
