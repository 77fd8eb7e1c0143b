// MqttUplink authentication: username/password, TLS with a private CA, mutual TLS.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, makeTestPki, registerBrokerCleanup, startMosquitto, type Broker } from '../integration/harness/index.js';
import { nextConnect, publishResult, until, useUplinks } from './uplink-fixture.js';

registerBrokerCleanup();
const makeUplink = useUplinks();
const SECRET = 's3cret-Pa55';

describe('username/password', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startMosquitto({ auth: { username: 'gw', password: SECRET } });
  });

  it('connects with the right password', async () => {
    const collector = await collect(broker.url, 'auth/#', { username: 'gw', password: SECRET });
    const { uplink, rawLogs } = makeUplink({ urls: [broker.url], username: 'gw', password: SECRET });
    uplink.start();
    await nextConnect(uplink);
    expect(await publishResult(uplink, 'auth/ok', 'hello')).toBeUndefined();
    await collector.waitFor(1);
    await uplink.stop();
    expect(rawLogs.join('\n')).not.toContain(SECRET);
    await collector.close();
  });

  it('keeps retrying with a wrong password, logs why, never connects nor throws', async () => {
    const wrong = `wrong-${SECRET}`;
    const { uplink, logs, rawLogs } = makeUplink({
      urls: [broker.url.replace('mqtt://', `mqtt://gw:${wrong}@`)],
      username: 'gw',
      password: wrong,
      backoff: { initialMs: 100, maxMs: 150 },
    });
    let connects = 0;
    uplink.on('connect', () => (connects += 1));
    uplink.start();
    await until(() => uplink.connectAttempts >= 3, 3000, 'three attempts');
    expect(connects).toBe(0);
    expect(uplink.connected).toBe(false);
    const refused = logs.filter((l) => l.msg === 'uplink connection error');
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused[0]).toMatchObject({ err: expect.stringMatching(/Not authorized|Bad user name or password/i) });
    expect(String(refused[0]!.hint)).toMatch(/username\/password/);
    expect(logs.filter((l) => l.msg === 'uplink reconnect scheduled').length).toBeGreaterThanOrEqual(2);
    expect(rawLogs.join('\n')).not.toContain(wrong);
    await uplink.stop();
  });
});

describe('TLS', () => {
  let broker: Broker;
  let ca: Buffer;
  beforeAll(async () => {
    broker = await startMosquitto({ tls: 'server' });
    ca = readFileSync(broker.pki!.caCert);
  });

  it('connects to mqtts:// when it trusts the test CA', async () => {
    expect(broker.url).toMatch(/^mqtts:\/\/localhost:/);
    const collector = await collect(broker.url, 'tls/#', { ca });
    const { uplink } = makeUplink({ urls: [broker.url], tls: { ca }, protocolVersion: 5 });
    uplink.start();
    await nextConnect(uplink);
    expect(await publishResult(uplink, 'tls/x', 'secure', 2)).toBeUndefined();
    await collector.waitFor(1);
    await collector.close();
  });

  describe('refuses servers it cannot verify', () => {
    let otherDir: string;
    beforeAll(async () => {
      otherDir = await mkdtemp(join(tmpdir(), 'fieldgate-other-ca-'));
    });
    afterAll(async () => {
      await rm(otherDir, { recursive: true, force: true });
    });

    it.each([
      ['no CA (system roots only)', () => Promise.resolve(undefined)],
      ['an unrelated CA', async () => readFileSync((await makeTestPki(otherDir, { caCn: 'someone else' })).caCert)],
    ])('%s', async (_name, getCa) => {
      const { uplink, logs } = makeUplink({
        urls: [broker.url],
        tls: { ca: await getCa() },
        backoff: { initialMs: 100, maxMs: 150 },
      });
      uplink.start();
      await until(() => uplink.connectAttempts >= 2, 3000, 'two attempts');
      expect(uplink.connected).toBe(false);
      const error = logs.find((l) => l.msg === 'uplink connection error');
      expect(error?.hint).toMatch(/TLS verification failed/);
      await uplink.stop();
    });

    it('a server certificate for another name', async () => {
      // The certificate names localhost and 127.0.0.1 only.
      const { uplink, logs } = makeUplink({
        urls: [broker.url],
        tls: { ca, servername: 'not-this-host.example' },
        backoff: { initialMs: 100, maxMs: 150 },
      });
      uplink.start();
      await until(() => uplink.connectAttempts >= 2, 3000, 'two attempts');
      expect(uplink.connected).toBe(false);
      expect(logs.find((l) => l.msg === 'uplink connection error')?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
      await uplink.stop();
    });
  });
});

describe('mutual TLS', () => {
  let broker: Broker;
  let ca: Buffer;
  let cert: Buffer;
  let key: Buffer;
  beforeAll(async () => {
    broker = await startMosquitto({ tls: 'mutual' });
    ca = readFileSync(broker.pki!.caCert);
    cert = readFileSync(broker.pki!.clientCert);
    key = readFileSync(broker.pki!.clientKey);
  });

  it('connects with a client certificate whose CN becomes the username', async () => {
    const collector = await collect(broker.url, 'mtls/#', { ca, cert, key });
    const clientId = 'mtls-uplink';
    const { uplink } = makeUplink({ urls: [broker.url], clientId, tls: { ca, cert, key } });
    uplink.start();
    await nextConnect(uplink);
    expect(await publishResult(uplink, 'mtls/x', 'mine')).toBeUndefined();
    await collector.waitFor(1);
    expect(broker.output()).toMatch(new RegExp(`as ${clientId} \\(.*u'${broker.pki!.clientCn}'\\)`));
    await collector.close();
  });

  it('is refused without a client certificate', async () => {
    const { uplink, logs } = makeUplink({ urls: [broker.url], tls: { ca }, backoff: { initialMs: 100, maxMs: 150 } });
    uplink.start();
    await until(() => uplink.connectAttempts >= 2, 3000, 'two attempts');
    expect(uplink.connected).toBe(false);
    const refused = logs.find((l) => l.msg === 'uplink connection error' && /certificate required/i.test(String(l.err)));
    expect(refused?.hint).toMatch(/client certificate/);
    await uplink.stop();
  });
});
