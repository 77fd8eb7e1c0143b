// The harness is shared by every integration test, so it gets tests of its own.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import mqtt from 'mqtt';
import { expect, it } from 'vitest';
import { collect, freePort, makeTestPki, registerBrokerCleanup, startMosquitto, startTcpProxy } from './index.js';

registerBrokerCleanup();

it('freePort returns distinct usable ports', async () => {
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  for (const p of ports) expect(p).toBeGreaterThan(1023);
});

it('makeTestPki makes a CA, a localhost server cert and a client cert, fast', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-pki-'));
  try {
    const started = Date.now();
    const pki = await makeTestPki(dir, { clientCn: 'gw-42' });
    // ~150 ms idle; the bound leaves room for a loaded CI machine.
    expect(Date.now() - started).toBeLessThan(5000);
    const ca = new X509Certificate(readFileSync(pki.caCert));
    const server = new X509Certificate(readFileSync(pki.serverCert));
    const client = new X509Certificate(readFileSync(pki.clientCert));
    expect(ca.ca).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(client.subject).toContain('CN=gw-42');
    expect(server.serialNumber).not.toBe(client.serialNumber);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('startMosquitto serves, stops, restarts on the same port and cleans up', async () => {
  const broker = await startMosquitto();
  expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
  const collector = await collect(broker.url, 'h/#');
  const pub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  await pub.publishAsync('h/1', 'a', { qos: 1 });
  await collector.waitFor(1);
  await pub.endAsync(true);

  await broker.kill();
  expect(broker.running).toBe(false);
  await expect(mqtt.connectAsync(broker.url, { reconnectPeriod: 0, connectTimeout: 500 })).rejects.toThrow();
  await broker.restart();
  expect(broker.running).toBe(true);
  // The collector reconnects and resubscribes by itself.
  const pub2 = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  await expect
    .poll(async () => {
      await pub2.publishAsync('h/2', 'b', { qos: 1 });
      return collector.texts().includes('b');
    }, { timeout: 3000, interval: 100 })
    .toBe(true);
  await pub2.endAsync(true);
  await collector.close();

  expect(broker.output()).toMatch(/mosquitto version/);
  const dir = broker.dir;
  await broker.dispose();
  expect(existsSync(dir)).toBe(false);
  await broker.dispose();
});

it('a persistent collector gets what was published while it was away, across a SIGTERM restart', async () => {
  const broker = await startMosquitto({ persistence: true });
  const first = await collect(broker.url, 'p/#', { session: 'persistent', clientId: 'persist-1' });
  await first.close();
  await broker.restart();
  const pub = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  for (let i = 0; i < 1500; i += 1) pub.publish('p/x', String(i), { qos: 1 });
  await pub.endAsync();
  const again = await collect(broker.url, 'p/#', { session: 'persistent', clientId: 'persist-1' });
  // More than mosquitto's default max_queued_messages (1000): none may be dropped.
  await again.waitFor(1500, 5000);
  expect(again.texts()).toEqual(Array.from({ length: 1500 }, (_, i) => String(i)));
  await again.close();
});

it('pause() freezes the broker and resume() brings it back', async () => {
  const broker = await startMosquitto();
  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  broker.pause();
  let acked = false;
  const done = client.publishAsync('z', 'z', { qos: 1 }).then(() => (acked = true));
  await new Promise((r) => setTimeout(r, 200));
  expect(acked).toBe(false);
  broker.resume();
  await done;
  await client.endAsync(true);
  // stop() also works on a paused broker.
  broker.pause();
  await broker.stop();
  expect(broker.running).toBe(false);
});

it('auth and mutual TLS brokers refuse strangers', async () => {
  const auth = await startMosquitto({ auth: { username: 'u', password: 'p' } });
  await expect(mqtt.connectAsync(auth.url, { reconnectPeriod: 0, username: 'u', password: 'x' })).rejects.toThrow(
    /Not authorized|Bad user/,
  );
  const ok = await mqtt.connectAsync(auth.url, { reconnectPeriod: 0, username: 'u', password: 'p' });
  await ok.endAsync();

  const tls = await startMosquitto({ tls: 'mutual' });
  const ca = readFileSync(tls.pki!.caCert);
  await expect(mqtt.connectAsync(tls.url, { reconnectPeriod: 0, ca, connectTimeout: 2000 })).rejects.toThrow();
  const c = await collect(tls.url, '#', { ca, cert: readFileSync(tls.pki!.clientCert), key: readFileSync(tls.pki!.clientKey) });
  await c.close();
});

it('startTcpProxy relays, and cut() drops connections', async () => {
  const broker = await startMosquitto();
  const proxy = await startTcpProxy(broker.port);
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${proxy.port}`, { reconnectPeriod: 0 });
  expect(proxy.connections).toBe(1);
  const closed = new Promise<void>((r) => client.once('close', () => r()));
  proxy.cut();
  await closed;
  await client.endAsync(true);
  await proxy.close();
});

it('waitFor rejects with what it saw', async () => {
  const broker = await startMosquitto();
  const c = await collect(broker.url, 'nothing/#');
  await expect(c.waitFor(1, 100)).rejects.toThrow(/0 message\(s\)/);
  await c.close();
});
