// Two settings of the uplink's mqtt.js client that only show in a fresh process, since what they
// change is process-wide: mqtt-packet's packet-id Buffer cache, and the debug package's switch.
//
// mqtt-packet, by default, builds a Buffer for every MQTT packet id (65,536 of them) on the first
// packet written and keeps them for the life of the process: ~6 MB of a gateway heap that is ~15 MB
// otherwise. The uplink turns that cache off (mqtt.js `writeCache: false`).
//
// mqtt.js logs through `debug`, whose wrapper allocates at every call even while off; the uplink
// gives it a no-op unless asked for the protocol trace (protocolLog: 'debug', which `fieldgate run`
// sets when DEBUG is set).
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeAllBrokers, startMosquitto } from '../integration/harness/index.js';
import { REPO_ROOT } from '../integration/harness/test-gateway.js';

afterAll(() => disposeAllBrokers());

/** Runs an uplink in a fresh process: three QoS 1 publishes, then `tail` (its output is stdout). */
async function probe(options: { protocolLog?: 'debug' | 'off'; tail?: string; env?: Record<string, string> }) {
  const broker = await startMosquitto();
  const script = `
    import { createRequire } from 'node:module';
    import { pino } from 'pino';
    import { MqttUplink } from './src/uplink/mqtt-uplink.ts';
    const uplink = new MqttUplink({ urls: [process.env.BROKER_URL], clientId: 'cache-probe', protocolVersion: 4,
      keepaliveMs: 30000, connectTimeoutMs: 5000, logger: pino({ level: 'silent' }), clock: { now: Date.now },
      ${options.protocolLog ? `protocolLog: '${options.protocolLog}',` : ''} });
    const connected = new Promise((r) => uplink.once('connect', r));
    uplink.start();
    await connected;
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve, reject) => uplink.publish({ topic: 'probe/t', payload: Buffer.from('x'), qos: 1, retain: false }, (err) => (err ? reject(err) : resolve())));
    }
    await uplink.stop();
    ${options.tail ?? ''}`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT, env: { ...process.env, BROKER_URL: broker.url, ...options.env }, encoding: 'utf8', timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return r;
}

describe('MqttUplink in a process of its own', () => {
  it('publishes QoS 1 without filling mqtt-packet\'s number cache', async () => {
    const r = await probe({ tail: `console.log(Object.keys(createRequire(import.meta.url)('mqtt-packet/numbers.js').cache).length);` });
    expect(Number(r.stdout.trim().split('\n').pop())).toBe(0);
  });

  it('shows mqtt.js\'s protocol trace only when asked to', async () => {
    const env = { DEBUG: 'mqttjs:client' };
    const traced = await probe({ protocolLog: 'debug', env });
    expect(traced.stderr).toMatch(/mqttjs:client publish/);
    const quiet = await probe({ protocolLog: 'off', env });
    expect(quiet.stderr).not.toMatch(/mqttjs:client/);
    const byDefault = await probe({ env });
    expect(byDefault.stderr).not.toMatch(/mqttjs:client/);
  });
});
