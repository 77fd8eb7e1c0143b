// A power cut during a trial, simulated by kill -9 of a real `fieldgate run` process: the gateway
// comes back on the version under trial (the file it starts from points at it), resumes the trial,
// and still rolls back by itself when the version fails it; no reading is lost across the cut.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import M from 'modbus-serial';
import { afterAll, expect, it } from 'vitest';
import { generateSigningKeys, signConfig } from '../../src/remote-config/signed-config.js';
import { VersionStore } from '../../src/remote-config/version-store.js';
import { collect, freePort, registerBrokerCleanup, startMosquitto, type CollectedMessage } from './harness/index.js';
import { spawnFieldgate, type GatewayProcess } from './harness/test-gateway.js';
import { assertContiguous } from './site-yaml.js';

const { ServerTCP } = M;
registerBrokerCleanup();
const STATUS = 'pc/gw/config/status';
const children: GatewayProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.child.exitCode === null) c.child.kill('SIGKILL');
});

function site(url: string, meterPort: number): string {
  return `site: pc
gateway: gw
mqtt: { url: ${url}, keepalive: 2s, connect_timeout: 1s, refused_retry: 200ms }
buffer: { path: buffer.db }
remote_config: { public_key: signing.pub, trial: 4s }
devices:
  - name: meter
    driver: modbus
    tcp: { host: 127.0.0.1, port: ${meterPort} }
    interval: 100ms
    timeout: 300ms
    reconnect: { initial: 50ms, max: 200ms }
    points:
      - { name: p0, table: holding, address: 0 }
`;
}

const statuses = (msgs: readonly CollectedMessage[]) => msgs.filter((m) => m.topic === STATUS).map((m) => JSON.parse(m.payload.toString()) as { state: string; version: string; active: string; reason?: string });
const births = (msgs: readonly CollectedMessage[]) => msgs.filter((m) => m.topic === 'pc/gw/status/journal').map((m) => JSON.parse(m.payload.toString()) as { config_version?: string });

it('kill -9 during a trial: back on the same version, trial resumed, rolled back; no seq missing', async () => {
  const broker = await startMosquitto();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-remote-cut-'));
  const keys = generateSigningKeys();
  fs.writeFileSync(path.join(dir, 'signing.pub'), keys.publicKey);
  const meterPort = await freePort();
  let n = 0;
  const server = new ServerTCP({ getHoldingRegister: () => n++ % 65536 }, { host: '127.0.0.1', port: meterPort, unitID: 255 });
  server.on('socketError', () => undefined);
  await new Promise<void>((resolve) => server.once('initialized', () => resolve()));
  const file = path.join(dir, 'site.yaml');
  fs.writeFileSync(file, site(broker.url, meterPort));
  const sub = await collect(broker.url, 'pc/#');
  const env = { STATE_DIRECTORY: dir };
  try {
    const first = spawnFieldgate(['run', '-c', file], env);
    children.push(first);
    await first.waitForOutput(/gateway started/);
    await sub.waitFor((msgs) => msgs.some((m) => m.topic === 'pc/meter/p0'), 15_000);

    // A version that leaves the meter failing (nothing listens on that port); cut the power while it is on trial.
    const dead = await freePort();
    await sub.client.publishAsync('pc/gw/config', signConfig('2', site(broker.url, dead), keys.privateKey), { qos: 1, retain: true });
    await sub.waitFor((msgs) => statuses(msgs).some((s) => s.state === 'trial' && s.version === '2'), 10_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const onDisk = VersionStore.open(path.join(dir, 'config'), { now: () => Date.now() });
    expect(onDisk.active?.version).toBe('2');
    expect(onDisk.state.trial).toMatchObject({ starts: 1, required: ['meter'] });

    const birthsBefore = births(sub.messages).length;
    const second = spawnFieldgate(['run', '-c', file], env);
    children.push(second);
    await second.waitForOutput(/resuming the trial/);
    // It came back on version 2: its birth message says so.
    await sub.waitFor((msgs) => births(msgs).slice(birthsBefore).some((b) => b.config_version === '2'), 10_000);
    await sub.waitFor((msgs) => statuses(msgs).some((s) => s.state === 'rolled_back' && s.version === '2'), 15_000);
    expect(statuses(sub.messages).at(-1)).toMatchObject({ state: 'rolled_back', version: '2', active: 'local-1' });
    expect(VersionStore.open(path.join(dir, 'config'), { now: () => Date.now() }).active?.version).toBe('local-1');
    const count = sub.messages.filter((m) => m.topic === 'pc/meter/p0').length;
    await sub.waitFor((msgs) => msgs.filter((m) => m.topic === 'pc/meter/p0').length > count + 3, 10_000);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    const seqs = sub.messages.filter((m) => m.topic === 'pc/meter/p0').map((m) => (JSON.parse(m.payload.toString()) as { seq: number }).seq);
    expect(assertContiguous(seqs).first).toBe(1);
  } finally {
    await sub.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
