import { request, Agent } from 'node:http';
import { createServer, connect, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpServer, parseListen as parseListenAddress, type HealthReport } from '../../src/service/http-server.js';
import { Metrics } from '../../src/service/metrics.js';
import { FieldgateError } from '../../src/util/errors.js';
import { captureLogger } from './capture-logger.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(port: number, pathName: string, method = 'GET', agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathName, method, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Prometheus text format → "name{labels}" → value, enough to check a scrape. */
function parseScrape(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return samples;
}

describe('parseListenAddress', () => {
  it.each([
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['localhost:9464', { host: 'localhost', port: 9464 }],
    ['[::1]:9464', { host: '::1', port: 9464 }],
    ['[::]:80', { host: '::', port: 80 }],
    [':9464', { host: undefined, port: 9464 }],
    [' 0.0.0.0:1 ', { host: '0.0.0.0', port: 1 }],
  ])('%s', (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
  });

  it.each(['9464', '127.0.0.1', '::1:9464', '127.0.0.1:99999', 'host:port', '[::1]9464', ''])('rejects %j', (text) => {
    expect(() => parseListenAddress(text)).toThrow(FieldgateError);
  });
});

describe('HttpServer', () => {
  const servers: HttpServer[] = [];
  const blockers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
    await Promise.all(blockers.splice(0).map((b) => new Promise((r) => b.close(r))));
  });

  async function startServer(health: () => HealthReport, metrics = new Metrics()): Promise<{ port: number; http: HttpServer }> {
    const http = new HttpServer({ listen: '127.0.0.1:0', registry: metrics.registry, health, logger: captureLogger().logger });
    servers.push(http);
    await http.start();
    return { port: http.address()!.port, http };
  }

  it('serves the Prometheus scrape of the gateway registry', async () => {
    const metrics = new Metrics();
    metrics.readings.inc({ device: 'boiler' }, 3);
    metrics.readings.inc({ device: 'meter' });
    metrics.published.inc({ result: 'ok' }, 41);
    metrics.connected.set(1);
    metrics.setBacklogSource(() => ({ depth: 42, bytes: 6300, oldestAgeSeconds: 12.5, available: true }));
    const { port } = await startServer(() => ({ healthy: true, checks: {} }), metrics);

    const reply = await get(port, '/metrics');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe(metrics.registry.contentType);
    const samples = parseScrape(reply.body);
    expect(samples.get('fieldgate_readings_total{device="boiler"}')).toBe(3);
    expect(samples.get('fieldgate_readings_total{device="meter"}')).toBe(1);
    expect(samples.get('fieldgate_publish_total{result="ok"}')).toBe(41);
    expect(samples.get('fieldgate_mqtt_connected')).toBe(1);
    expect(samples.get('fieldgate_backlog_messages')).toBe(42);
    expect(samples.get('fieldgate_backlog_oldest_age_seconds')).toBe(12.5);
    expect(reply.body).toContain('# TYPE fieldgate_readings_total counter');

    // scraped values are live, not cached
    metrics.readings.inc({ device: 'boiler' });
    expect(parseScrape((await get(port, '/metrics?x=1')).body).get('fieldgate_readings_total{device="boiler"}')).toBe(4);
  });

  it('answers /healthz with 200 while healthy and 503 with the failing checks otherwise', async () => {
    let report: HealthReport = {
      healthy: true,
      checks: { journal: { ok: true, detail: 'writable' }, uplink: { ok: true, detail: 'connected' } },
    };
    const { port } = await startServer(() => report);
    const ok = await get(port, '/healthz');
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('application/json');
    expect(JSON.parse(ok.body)).toEqual({ status: 'ok', checks: report.checks });
    expect((await get(port, '/health')).body).toBe(ok.body); // the alias config/example.yaml names

    report = {
      healthy: false,
      checks: { journal: { ok: true, detail: 'writable' }, uplink: { ok: false, detail: 'disconnected for 300s' } },
    };
    const bad = await get(port, '/healthz');
    expect(bad.status).toBe(503);
    const body = JSON.parse(bad.body) as { status: string; reasons: string[] };
    expect(body.status).toBe('unhealthy');
    expect(body.reasons).toEqual(['uplink: disconnected for 300s']);
  });

  it('reports a throwing health probe as unhealthy', async () => {
    const { port } = await startServer(() => { throw new Error('journal closed'); });
    const reply = await get(port, '/healthz');
    expect(reply.status).toBe(503);
    expect(JSON.parse(reply.body).reasons).toEqual(['probe: health probe failed: journal closed']);
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    const { port } = await startServer(() => ({ healthy: true, checks: {} }));
    expect((await get(port, '/')).status).toBe(404);
    expect((await get(port, '/metrics/extra')).status).toBe(404);
    expect((await get(port, '/../etc/passwd')).status).toBe(404);
    const post = await get(port, '/metrics', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const head = await get(port, '/healthz', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('rejects start() with a clear FieldgateError when the port is taken', async () => {
    const blocker = createServer();
    blockers.push(blocker);
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const http = new HttpServer({
      listen: `127.0.0.1:${port}`, registry: new Metrics().registry, health: () => ({ healthy: true, checks: {} }), logger: captureLogger().logger,
    });
    const err = await http.start().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(FieldgateError);
    expect((err as FieldgateError).code).toBe('http_listen');
    expect((err as Error).message).toBe(`cannot listen on 127.0.0.1:${port} for http: the port is already in use (another fieldgate or exporter?)`);
    expect(http.address()).toBeUndefined();
  });

  it('stop() closes the listener and idle keep-alive connections promptly', async () => {
    const { port, http } = await startServer(() => ({ healthy: true, checks: {} }));
    const agent = new Agent({ keepAlive: true });
    expect((await get(port, '/healthz', 'GET', agent)).status).toBe(200);
    const t0 = Date.now();
    await http.stop();
    expect(Date.now() - t0).toBeLessThan(1000); // not the 5 s keep-alive timeout
    agent.destroy();
    const refused = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); resolve('connected'); });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
  });
});
