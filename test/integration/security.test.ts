// The site file's security settings wired end to end: TLS with a private CA (paths relative to
// the site file), mutual TLS, username/password from ${VAR} and from password_file, and the
// password never appearing in a log line.
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { collect, registerBrokerCleanup, startMosquitto } from './harness/index.js';
import { startTestGateway } from './harness/test-gateway.js';
import { createLogger } from '../../src/util/logger.js';
import { tempDirs } from '../support/temp-dirs.js';

registerBrokerCleanup();
const tempDir = tempDirs('fieldgate-sec-');

function captureLogs(secrets: string[]) {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug', secrets, destination }), text: () => text };
}

const device = `devices:
  - name: dev
    driver: sim
    interval: 50ms
    points: [ { name: n, signal: counter } ]
`;

describe('secure uplink from the site file', () => {
  it('TLS with a private CA and a password from the environment; the password is never logged', async () => {
    const password = 's3cret-Pa55word';
    const broker = await startMosquitto({ tls: 'server', auth: { username: 'gw', password } });
    const dir = tempDir();
    fs.copyFileSync(broker.pki!.caCert, path.join(dir, 'ca.pem'));
    const sub = await collect(broker.url, 'sec/#', { username: 'gw', password, ca: fs.readFileSync(broker.pki!.caCert) });
    const logs = captureLogs([password]);
    const gw = await startTestGateway({
      dir,
      env: { MQTT_PASSWORD: password },
      logger: logs.logger,
      siteYaml: `site: sec
mqtt:
  url: ${broker.url}
  username: gw
  password: \${MQTT_PASSWORD}
  tls: { ca: ca.pem }
buffer: { path: buffer.db }
${device}`,
    });
    try {
      await sub.waitFor((m) => m.filter((x) => x.topic === 'sec/dev/n').length >= 3, 10_000);
      // Make the uplink log its configuration-bearing lines, then check nothing leaked.
      logs.logger.info({ mqtt: { password }, note: `password is ${password}` }, 'redaction probe');
      logs.logger.flush();
      await new Promise((r) => setTimeout(r, 100));
      expect(logs.text()).toContain('redaction probe');
      expect(logs.text()).not.toContain(password);
    } finally {
      await gw.stop();
      await sub.close();
      await broker.dispose();
    }
  });

  it('refuses a broker whose certificate the configured CA did not sign', async () => {
    const broker = await startMosquitto({ tls: 'server' });
    const other = await startMosquitto({ tls: 'server' }); // a different test CA
    const dir = tempDir();
    fs.copyFileSync(other.pki!.caCert, path.join(dir, 'wrong-ca.pem'));
    const gw = await startTestGateway({
      dir,
      siteYaml: `site: sec\nmqtt:\n  url: ${broker.url}\n  tls: { ca: wrong-ca.pem }\nbuffer: { path: buffer.db }\n${device}`,
    });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      expect(gw.gateway.isConnected).toBe(false);
      expect(gw.gateway.journalStats!.depth).toBeGreaterThan(5); // readings are kept, not lost
    } finally {
      await gw.stop();
      await broker.dispose();
      await other.dispose();
    }
  });

  it('mutual TLS with a client certificate, and a password_file', async () => {
    const broker = await startMosquitto({ tls: 'mutual' });
    const dir = tempDir();
    for (const [from, to] of [[broker.pki!.caCert, 'ca.pem'], [broker.pki!.clientCert, 'client.pem'], [broker.pki!.clientKey, 'client.key']] as const) {
      fs.copyFileSync(from, path.join(dir, to));
    }
    const pki = { ca: fs.readFileSync(broker.pki!.caCert), cert: fs.readFileSync(broker.pki!.clientCert), key: fs.readFileSync(broker.pki!.clientKey) };
    const sub = await collect(broker.url, 'mtls/#', pki);
    const gw = await startTestGateway({
      dir,
      siteYaml: `site: mtls\nmqtt:\n  url: ${broker.url}\n  tls: { ca: ca.pem, cert: client.pem, key: client.key }\nbuffer: { path: buffer.db }\n${device}`,
    });
    try {
      await sub.waitFor((m) => m.filter((x) => x.topic === 'mtls/dev/n').length >= 3, 10_000);
    } finally {
      await gw.stop();
      await sub.close();
      await broker.dispose();
    }

    const authBroker = await startMosquitto({ auth: { username: 'gw', password: 'from-file-pw' } });
    const dir2 = tempDir();
    fs.writeFileSync(path.join(dir2, 'mqtt-password'), 'from-file-pw\n', { mode: 0o600 });
    const sub2 = await collect(authBroker.url, 'pwf/#', { username: 'gw', password: 'from-file-pw' });
    const gw2 = await startTestGateway({
      dir: dir2,
      siteYaml: `site: pwf\nmqtt:\n  url: ${authBroker.url}\n  username: gw\n  password_file: mqtt-password\nbuffer: { path: buffer.db }\n${device}`,
    });
    try {
      await sub2.waitFor((m) => m.filter((x) => x.topic === 'pwf/dev/n').length >= 3, 10_000);
    } finally {
      await gw2.stop();
      await sub2.close();
      await authBroker.dispose();
    }
  });
});
