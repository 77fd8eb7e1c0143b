// Remote configuration end to end, against a real mosquitto and real Modbus TCP servers, through
// `fieldgate run` itself (runCommand in this process: the same glue as the service, with SIGHUP
// and SIGTERM simulated). One gateway lives through the whole sequence, as a real one would:
// a good change, a badly signed one, a replayed older version, an invalid file, a change that
// leaves every device failing, and a change to an unreachable broker — the last two rolled back
// by the gateway itself within the trial, with no reading lost on the way.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import M from 'modbus-serial';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/run-command.js';
import type { CliIo } from '../../src/cli/io.js';
import { generateSigningKeys, signConfig } from '../../src/remote-config/signed-config.js';
import { VersionStore } from '../../src/remote-config/version-store.js';
import { collect, freePort, registerBrokerCleanup, startMosquitto, type Broker, type CollectedMessage, type Collector } from './harness/index.js';
import { assertContiguous } from './site-yaml.js';

const { ServerTCP } = M;
registerBrokerCleanup();

const TRIAL = '4s';
const STATUS = 'rc/gw/config/status';

/** A Modbus TCP device answering every holding register with a counter that moves. */
async function startMeter(port: number): Promise<() => Promise<void>> {
  let n = 0;
  const server = new ServerTCP({ getHoldingRegister: (addr: number) => (addr + n++) % 65536 }, { host: '127.0.0.1', port, unitID: 255 });
  server.on('error', () => undefined);
  server.on('socketError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('initialized', () => resolve());
    server.once('serverError', (err: Error) => reject(err));
  });
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

let httpPort = 0;

function site(o: { url: string; meterPort: number; extraPoint?: boolean; extra?: string }): string {
  const meter = (name: string, unit: number) => `  - name: ${name}
    driver: modbus
    tcp: { host: 127.0.0.1, port: ${o.meterPort} }
    unit_id: ${unit}
    interval: 100ms
    timeout: 300ms
    reconnect: { initial: 50ms, max: 200ms }
    points:
      - { name: p0, table: holding, address: 0 }
${o.extraPoint ? '      - { name: p1, table: holding, address: 1 }\n' : ''}`;
  return `site: rc
gateway: gw
mqtt: { url: ${o.url}, keepalive: 2s, connect_timeout: 1s, refused_retry: 200ms }
buffer: { path: buffer.db }
remote_config: { public_key: signing.pub, trial: ${TRIAL} }
http: { listen: "127.0.0.1:${httpPort}" }
${o.extra ?? ''}devices:
${meter('meter-a', 1)}${meter('meter-b', 2)}`;
}

interface Status {
  state: string;
  version?: string;
  active?: string;
  reason?: string;
  errors?: string[];
}

const statuses = (msgs: readonly CollectedMessage[]): Status[] => msgs.filter((m) => m.topic === STATUS).map((m) => JSON.parse(m.payload.toString()) as Status);
const readings = (msgs: readonly CollectedMessage[]) => msgs.filter((m) => /^rc\/meter-[ab]\//.test(m.topic));

describe('remote configuration through the broker', () => {
  let broker: Broker;
  let dir: string;
  let stopMeter: () => Promise<void>;
  let meterPort: number;
  let sub: Collector;
  let stop: (() => void) | undefined;
  let reload: (() => void) | undefined;
  let exit: Promise<number>;
  const keys = generateSigningKeys();
  const intruder = generateSigningKeys();

  const publish = (message: string) => sub.client.publishAsync('rc/gw/config', message, { qos: 1, retain: true });
  const waitStatus = (pred: (s: Status) => boolean, timeoutMs = 10_000) => sub.waitFor((msgs) => statuses(msgs).some(pred), timeoutMs);
  const store = () => VersionStore.open(path.join(dir, 'config'), { now: () => Date.now() });

  beforeAll(async () => {
    broker = await startMosquitto();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fg-remote-it-'));
    fs.writeFileSync(path.join(dir, 'signing.pub'), keys.publicKey);
    meterPort = await freePort();
    httpPort = await freePort();
    stopMeter = await startMeter(meterPort);
    fs.writeFileSync(path.join(dir, 'site.yaml'), site({ url: broker.url, meterPort }));
    sub = await collect(broker.url, 'rc/#');
    const io: CliIo = {
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      env: { ...process.env, STATE_DIRECTORY: dir },
      signals: {
        onStop: (h) => { stop = () => h('SIGTERM'); },
        onReload: (h) => { reload = h; },
        forceExit: () => undefined,
      },
    };
    exit = runCommand({ configFile: path.join(dir, 'site.yaml'), logLevel: (process.env.FIELDGATE_TEST_LOG ?? 'silent') as 'silent' }, io);
    await sub.waitFor((msgs) => readings(msgs).length >= 4);
  });

  afterAll(async () => {
    stop?.();
    expect(await exit).toBe(0);
    await sub?.close();
    await stopMeter?.();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('records the local file as the first version and applies a signed change: the new point appears, no seq is missing', async () => {
    expect(store().active).toMatchObject({ version: 'local-1', source: 'local', state: 'applied' });
    await publish(signConfig('1', site({ url: broker.url, meterPort, extraPoint: true }), keys.privateKey));
    await waitStatus((s) => s.state === 'confirmed' && s.version === '1');
    await sub.waitFor((msgs) => msgs.some((m) => m.topic === 'rc/meter-a/p1') && msgs.some((m) => m.topic === 'rc/meter-b/p1'));
    const seen = statuses(sub.messages).filter((s) => s.version === '1').map((s) => s.state);
    expect(seen).toEqual(['trial', 'confirmed']);
    expect(store().active).toMatchObject({ version: '1', state: 'confirmed' });
    expect(fs.readlinkSync(path.join(dir, 'config', 'active.yaml'))).toBe(`${store().active!.id}.yaml`);
    // The birth message (retained journal announcement) names the version in force.
    const births = sub.messages.filter((m) => m.topic === 'rc/gw/status/journal').map((m) => JSON.parse(m.payload.toString()) as { config_version?: string });
    expect(births.at(-1)?.config_version).toBe('1');
    // And /healthz, the metrics and the status page's JSON.
    const base = `http://127.0.0.1:${httpPort}`;
    const health = (await (await fetch(`${base}/healthz`)).json()) as { checks: Record<string, { detail: string }> };
    expect(health.checks.config?.detail).toBe('version 1 (confirmed)');
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^fieldgate_config_version_info\{version="1",state="confirmed"\} 1$/m);
    const status = (await (await fetch(`${base}/api/status`)).json()) as { config: { version: string } };
    expect(status.config.version).toBe('1');
  });

  it('refuses a badly signed candidate and reports it', async () => {
    await publish(signConfig('2', site({ url: broker.url, meterPort }), intruder.privateKey));
    await waitStatus((s) => s.state === 'rejected' && s.version === '2');
    expect(statuses(sub.messages).at(-1)).toMatchObject({ state: 'rejected', version: '2', active: '1', reason: expect.stringMatching(/^bad_signature/) });
    expect(store().active?.version).toBe('1');
  });

  it('refuses a replayed older version, genuinely signed', async () => {
    await publish(signConfig('0.9', site({ url: broker.url, meterPort }), keys.privateKey));
    await waitStatus((s) => s.state === 'rejected' && s.version === '0.9');
    expect(statuses(sub.messages).at(-1)?.reason).toMatch(/^not_newer: version 0.9 is not newer than 1/);
  });

  it('refuses an invalid file and lists every error as line:col: message', async () => {
    const bad = site({ url: broker.url, meterPort, extra: 'colour: blue\n' }).replace('interval: 100ms', 'interval: soon');
    await publish(signConfig('3', bad, keys.privateKey));
    await waitStatus((s) => s.state === 'rejected' && s.version === '3');
    const report = statuses(sub.messages).at(-1)!;
    expect(report.reason).toMatch(/^invalid: the site file has 2 errors/);
    expect(report.errors).toHaveLength(2);
    expect(report.errors![0]).toMatch(/^7:1: .*colour/);
    expect(report.errors![1]).toMatch(/^\d+:\d+: .*interval/);
    expect(store().active?.version).toBe('1');
  });

  it('rolls back by itself, within the trial, a change that leaves every device failing', async () => {
    const dead = await freePort();
    const started = Date.now();
    await publish(signConfig('4', site({ url: broker.url, meterPort: dead, extraPoint: true }), keys.privateKey));
    await waitStatus((s) => s.state === 'rolled_back' && s.version === '4', 15_000);
    const took = Date.now() - started;
    expect(took).toBeLessThan(4000 + 2000);
    const report = statuses(sub.messages).at(-1)!;
    expect(report).toMatchObject({ state: 'rolled_back', version: '4', active: '1' });
    expect(report.reason).toMatch(/devices meter-a, meter-b read no good value within 4s/);
    expect(store().active?.version).toBe('1');
    // Back on version 1, the meters read again.
    const count = readings(sub.messages).length;
    await sub.waitFor((msgs) => readings(msgs).length > count + 4);
  });

  it('rolls back a change to an unreachable broker and delivers what was journaled meanwhile', async () => {
    const dead = await freePort();
    await publish(signConfig('5', site({ url: `mqtt://127.0.0.1:${dead}`, meterPort, extraPoint: true }), keys.privateKey));
    // Reported on the old broker once the gateway is back on it.
    await waitStatus((s) => s.state === 'rolled_back' && s.version === '5', 15_000);
    expect(statuses(sub.messages).at(-1)?.reason).toMatch(/the uplink did not connect within 4s/);
    const before = readings(sub.messages).length;
    await sub.waitFor((msgs) => readings(msgs).length > before + 4);
    // Every reading since the start, across every change and both rollbacks: no seq missing.
    const seqs = readings(sub.messages).map((m) => (JSON.parse(m.payload.toString()) as { seq: number }).seq);
    const { first } = assertContiguous(seqs);
    expect(first).toBe(1);
    const states = store().history().map((e) => `${e.version}:${e.state}`);
    expect(states).toEqual(['local-1:applied', '1:confirmed', '4:rolled_back', '5:rolled_back']);
    // The trial was reported to the new broker (unreachable); the old one hears the rollback. The
    // retained candidate came again with the new connection: recognised, not tried a second time.
    await new Promise((r) => setTimeout(r, 300));
    expect(statuses(sub.messages).filter((s) => s.version === '5').map((s) => s.state)).toEqual(['rolled_back']);
    // One journal throughout: every birth message names the same one.
    const journals = new Set(sub.messages.filter((m) => m.topic === 'rc/gw/status/journal').map((m) => (JSON.parse(m.payload.toString()) as { journal: string }).journal));
    expect(journals.size).toBe(1);
  });

  it('SIGHUP with the local file unchanged keeps the active version; a local edit is recorded as a version of its own', async () => {
    reload!();
    await new Promise((r) => setTimeout(r, 300));
    expect(store().active?.version).toBe('1');
    fs.writeFileSync(path.join(dir, 'site.yaml'), `# edited on site\n${site({ url: broker.url, meterPort })}`);
    reload!();
    await waitStatus((s) => s.state === 'applied' && s.version === 'local-5');
    expect(store().active).toMatchObject({ version: 'local-5', source: 'local', state: 'applied' });
    expect(store().state.localSha).toBe(store().active!.sha256);
  });
});
