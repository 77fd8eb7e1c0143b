// What MqttUplink does to save bytes and time on thin links, against a real mosquitto 2.0:
// MQTT 5 topic aliases and content type, the broker's Maximum Packet Size, and the retry pace
// when the broker refuses connections versus when it fails after accepting them.
import mqtt, { type IPublishPacket } from 'mqtt';
import { expect, it } from 'vitest';
import { freePort, registerBrokerCleanup, startMosquitto } from '../integration/harness/index.js';
import { nextConnect, publishResult, until, useUplinks } from './uplink-fixture.js';

registerBrokerCleanup();
const makeUplink = useUplinks();

/** A v5 subscriber that keeps each message's topic, payload and content type. */
async function subscriber(url: string, filter: string) {
  const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
  const got: { topic: string; payload: string; contentType?: string }[] = [];
  client.on('message', (topic, payload, packet: IPublishPacket) =>
    got.push({ topic, payload: payload.toString(), contentType: packet.properties?.contentType }),
  );
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, got };
}

it('MQTT 5: gives topics aliases up to the broker maximum, keeps them, and delivers the right topics', async () => {
  const broker = await startMosquitto({ extraConfig: ['max_topic_alias 3'] });
  const sub = await subscriber(broker.url, 'al/#');
  const { uplink } = makeUplink({ urls: [broker.url], protocolVersion: 5 });
  uplink.start();
  await nextConnect(uplink);
  const sent: IPublishPacket[] = [];
  (uplink['link'] as { client: mqtt.MqttClient }).client.on('packetsend', (p) => {
    if (p.cmd === 'publish') sent.push(p as IPublishPacket);
  });
  const topics = ['al/a', 'al/b', 'al/c', 'al/d', 'al/e'];
  for (let round = 0; round < 3; round++) {
    for (const t of topics) expect(await publishResult(uplink, t, `${t}#${round}`)).toBeUndefined();
  }
  await until(() => sub.got.length === 15, 3000, 'all 15 messages');
  expect(sub.got.map((m) => m.payload)).toEqual(sub.got.map((m) => `${m.topic}#${m.payload.split('#')[1]}`));
  expect(sub.got.map((m) => m.topic)).toEqual([...topics, ...topics, ...topics]);
  // First round: a, b, c go out with their topic and get aliases 1–3; d and e have none. Later
  // rounds: a, b, c travel with an empty topic. No alias is ever reassigned (no LRU thrash).
  const wire = sent.map((p) => `${p.topic}|${p.properties?.topicAlias ?? '-'}`);
  expect(wire).toEqual([
    'al/a|1', 'al/b|2', 'al/c|3', 'al/d|-', 'al/e|-',
    '|1', '|2', '|3', 'al/d|-', 'al/e|-',
    '|1', '|2', '|3', 'al/d|-', 'al/e|-',
  ]);
  await sub.client.endAsync();
});

it('MQTT 5: sets the content type when asked; MQTT 3.1.1 has no properties and still delivers', async () => {
  const broker = await startMosquitto();
  const sub = await subscriber(broker.url, 'ct/#');
  for (const protocolVersion of [5, 4] as const) {
    const { uplink } = makeUplink({ urls: [broker.url], protocolVersion });
    uplink.start();
    await nextConnect(uplink);
    await new Promise<void>((resolve, reject) =>
      uplink.publish({ topic: `ct/v${protocolVersion}`, payload: Buffer.from([0xa1, 0x61, 0x61, 0x01]), qos: 1, retain: false, contentType: 'application/cbor' },
        (err) => (err ? reject(err) : resolve())),
    );
  }
  await until(() => sub.got.length === 2, 3000, 'both messages');
  expect(sub.got.map((m) => [m.topic, m.contentType])).toEqual([['ct/v5', 'application/cbor'], ['ct/v4', undefined]]);
  await sub.client.endAsync();
});

it("MQTT 5: exposes the broker's Maximum Packet Size and refuses a larger publish without dropping the connection", async () => {
  const broker = await startMosquitto({ extraConfig: ['max_packet_size 400'] });
  const { uplink } = makeUplink({ urls: [broker.url], protocolVersion: 5 });
  uplink.start();
  await nextConnect(uplink);
  expect(uplink.maxPacketSize).toBe(400);
  const err = await publishResult(uplink, 'mps/x', 'x'.repeat(500));
  expect(err?.message).toMatch(/exceeds the broker's maximum packet size 400/);
  expect(uplink.connected).toBe(true);
  // The refused publish must not have claimed a topic alias the broker never saw.
  expect(await publishResult(uplink, 'mps/x', 'x'.repeat(300))).toBeUndefined();
  expect(await publishResult(uplink, 'mps/x', 'x'.repeat(300))).toBeUndefined();

  const { uplink: v4 } = makeUplink({ urls: [broker.url], protocolVersion: 4 });
  v4.start();
  await nextConnect(v4);
  expect(v4.maxPacketSize).toBeUndefined();
});

it('retries refused connections at the refused pace and is back within it once the broker listens', async () => {
  const port = await freePort();
  const { uplink, logs } = makeUplink({
    urls: [`mqtt://127.0.0.1:${port}`],
    backoff: { initialMs: 200, maxMs: 30_000, random: () => 0.999 },
    refusedRetryMs: 250,
  });
  uplink.start();
  await new Promise((r) => setTimeout(r, 1500));
  // Backoff alone would have made ~3 attempts (0, 0.2, 0.6, 1.4 s); the refused pace makes ~7.
  expect(uplink.connectAttempts).toBeGreaterThanOrEqual(6);
  const delays = logs.filter((l) => l.msg === 'uplink reconnect scheduled').map((l) => l.delayMs as number);
  expect(Math.max(...delays)).toBeLessThanOrEqual(250);
  // A refusing broker is one warning, not one per attempt.
  expect(logs.filter((l) => l.msg === 'uplink connection error' && l.level === 40)).toHaveLength(1);
  const broker = await startMosquitto({ port });
  const back = Date.now();
  await nextConnect(uplink, 3000);
  expect(Date.now() - back).toBeLessThan(250 + 500);
  await broker.dispose();
});

it('backs off as usual when attempts reach the broker and fail there', async () => {
  const broker = await startMosquitto({ auth: { username: 'u', password: 'p' } });
  const { uplink, logs } = makeUplink({
    urls: [broker.url], username: 'u', password: 'wrong',
    backoff: { initialMs: 200, maxMs: 30_000, random: () => 0.999 },
    refusedRetryMs: 250,
  });
  uplink.start();
  await new Promise((r) => setTimeout(r, 1500));
  const delays = logs.filter((l) => l.msg === 'uplink reconnect scheduled').map((l) => l.delayMs as number);
  expect(delays.slice(0, 3)).toEqual([200, 400, 800]);
  expect(uplink.connectAttempts).toBeLessThanOrEqual(4);
});

it('the default refused pace is at most 1 s', async () => {
  const { uplink, logs } = makeUplink({ urls: [`mqtt://127.0.0.1:${await freePort()}`], backoff: { random: () => 0.999 } });
  uplink.start();
  await until(() => uplink.connectAttempts >= 4, 4000, 'four attempts');
  const delays = logs.filter((l) => l.msg === 'uplink reconnect scheduled').map((l) => l.delayMs as number);
  // 500 + 0.999 × 500, rounded: the ceiling of the pace.
  expect(delays.slice(0, 3)).toEqual([1000, 1000, 1000]);
});
