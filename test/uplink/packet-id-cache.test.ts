// mqtt-packet, by default, builds a Buffer for every MQTT packet id (65,536 of them) on the first
// packet written and keeps them for the life of the process: ~6 MB of a gateway heap that is ~15 MB
// otherwise. The uplink turns that cache off (mqtt.js `writeCache: false`). Checked in a fresh
// process, since the cache is process-wide and any other mqtt.js client would fill it.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeAllBrokers, startMosquitto } from '../integration/harness/index.js';
import { REPO_ROOT } from '../integration/harness/test-gateway.js';

afterAll(() => disposeAllBrokers());

describe('MqttUplink and the packet id cache', () => {
  it('publishes QoS 1 without filling mqtt-packet\'s number cache', async () => {
    const broker = await startMosquitto();
    const script = `
      import { createRequire } from 'node:module';
      import { pino } from 'pino';
      import { MqttUplink } from './src/uplink/mqtt-uplink.ts';
      const uplink = new MqttUplink({ urls: [process.env.BROKER_URL], clientId: 'cache-probe', protocolVersion: 4,
        keepaliveMs: 30000, connectTimeoutMs: 5000, logger: pino({ level: 'silent' }), clock: { now: Date.now } });
      const connected = new Promise((r) => uplink.once('connect', r));
      uplink.start();
      await connected;
      for (let i = 0; i < 3; i++) {
        await new Promise((resolve, reject) => uplink.publish({ topic: 'probe/t', payload: Buffer.from('x'), qos: 1, retain: false }, (err) => (err ? reject(err) : resolve())));
      }
      await uplink.stop();
      console.log(Object.keys(createRequire(import.meta.url)('mqtt-packet/numbers.js').cache).length);`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT, env: { ...process.env, BROKER_URL: broker.url }, encoding: 'utf8', timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(Number(r.stdout.trim().split('\n').pop())).toBe(0);
  });
});
