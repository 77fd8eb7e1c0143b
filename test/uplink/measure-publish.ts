// Local measurement, not a test: QoS 1 publish rate with 100 in flight, raw mqtt.js versus
// MqttUplink.publish, against a harness mosquitto. Run: npx tsx test/uplink/measure-publish.ts
import mqtt from 'mqtt';
import { pino } from 'pino';
import { MqttUplink } from '../../src/uplink/mqtt-uplink.js';
import { disposeAllBrokers, startMosquitto } from '../integration/harness/index.js';

const COUNT = Number(process.env.COUNT ?? 100_000);
const WINDOW = 100;
const QOS = Number(process.env.QOS ?? 1) as 0 | 1 | 2;
const payload = Buffer.from(JSON.stringify({ seq: 123456, ts: Date.now(), v: 21.5, q: 'good', unit: 'degC', d: 'boiler-1/temp-out' }).padEnd(117, ' '));

type Send = (done: (err?: Error | null) => void) => void;

function pump(send: Send): Promise<number> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let acked = 0;
    const start = process.hrtime.bigint();
    const onAck = (err?: Error | null) => {
      if (err) return reject(err);
      acked += 1;
      if (acked === COUNT) return resolve(COUNT / (Number(process.hrtime.bigint() - start) / 1e9));
      if (sent < COUNT) {
        sent += 1;
        send(onAck);
      }
    };
    for (; sent < WINDOW; sent += 1) send(onAck);
  });
}

const broker = await startMosquitto();
try {
  const results: Record<string, number[]> = { raw: [], uplink: [] };
  for (let round = 0; round < 3; round += 1) {
    const raw = await mqtt.connectAsync(broker.url, { clientId: 'raw', reconnectPeriod: 0 });
    results.raw!.push(await pump((cb) => raw.publish('bench/raw', payload, { qos: QOS }, cb)));
    await raw.endAsync();

    const uplink = new MqttUplink({
      urls: [broker.url], clientId: 'uplink', protocolVersion: 4, keepaliveMs: 30_000, connectTimeoutMs: 5000,
      logger: pino({ level: 'silent' }), clock: { now: Date.now },
    });
    const connected = new Promise((r) => uplink.once('connect', r));
    uplink.start();
    await connected;
    const message = { topic: 'bench/uplink', payload, qos: QOS, retain: false };
    results.uplink!.push(await pump((cb) => uplink.publish(message, cb)));
    await uplink.stop();
  }
  const best = (xs: number[]) => Math.max(...xs);
  console.log(
    JSON.stringify({
      count: COUNT, qos: QOS, window: WINDOW,
      raw: results.raw!.map(Math.round), uplink: results.uplink!.map(Math.round),
      ratioBest: +(best(results.uplink!) / best(results.raw!)).toFixed(3),
    }),
  );
} finally {
  await disposeAllBrokers();
}
