// MqttUplink against a real mosquitto: publish at every QoS, subscriptions, status topic and LWT.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Broker,
  collect,
  registerBrokerCleanup,
  startMosquitto,
  startTcpProxy,
} from '../integration/harness/index.js';
import { nextConnect, publishResult, until, useUplinks } from './uplink-fixture.js';

registerBrokerCleanup();
const makeUplink = useUplinks();
let broker: Broker;

beforeAll(async () => {
  broker = await startMosquitto();
});

describe.each([4, 5] as const)('MQTT protocol version %i', (protocolVersion) => {
  it('publishes QoS 0, 1 and 2 and calls back once each', async () => {
    const topic = `basic/v${protocolVersion}`;
    const collector = await collect(broker.url, `${topic}/#`, { qos: 2 });
    const { uplink, logs } = makeUplink({ urls: [broker.url], protocolVersion });
    uplink.start();
    const info = await nextConnect(uplink);
    expect(info).toEqual({ url: broker.url, sessionPresent: false });
    expect(uplink.connected).toBe(true);
    expect(logs.find((l) => l.msg === 'uplink connected')).toMatchObject({
      url: broker.url,
      protocol: protocolVersion === 5 ? 'mqtt5' : 'mqtt3.1.1',
    });

    const calls = [0, 0, 0];
    const results = await Promise.all(
      ([0, 1, 2] as const).map(
        (qos) =>
          new Promise<Error | undefined>((resolve) =>
            uplink.publish({ topic: `${topic}/q${qos}`, payload: Buffer.from(`qos${qos}`), qos, retain: false }, (err) => {
              calls[qos]! += 1;
              resolve(err);
            }),
          ),
      ),
    );
    expect(results).toEqual([undefined, undefined, undefined]);
    await collector.waitFor(3);
    expect(collector.messages.map((m) => [m.topic, m.payload.toString()]).sort()).toEqual([
      [`${topic}/q0`, 'qos0'],
      [`${topic}/q1`, 'qos1'],
      [`${topic}/q2`, 'qos2'],
    ]);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toEqual([1, 1, 1]);
    await collector.close();
  });
});

it('keeps order and completes every callback under a window of 100', async () => {
  const collector = await collect(broker.url, 'order/#');
  const { uplink } = makeUplink({ urls: [broker.url] });
  uplink.start();
  await nextConnect(uplink);
  const total = 2000;
  const calls = new Array<number>(total).fill(0);
  let sent = 0;
  await new Promise<void>((resolve, reject) => {
    let acked = 0;
    const send = () => {
      const i = sent++;
      uplink.publish({ topic: 'order/x', payload: Buffer.from(String(i)), qos: 1, retain: false }, (err) => {
        calls[i]! += 1;
        if (err) return reject(err);
        acked += 1;
        if (acked === total) resolve();
        else if (sent < total) send();
      });
    };
    for (let i = 0; i < 100; i += 1) send();
  });
  await collector.waitFor(total);
  expect(collector.texts()).toEqual(Array.from({ length: total }, (_, i) => String(i)));
  expect(calls.every((c) => c === 1)).toBe(true);
  expect(uplink.inFlight).toBe(0);
  await collector.close();
});

it('fails publish() asynchronously when not connected (before start and after stop)', async () => {
  const { uplink } = makeUplink({ urls: [broker.url] });
  let calledSync = false;
  const before = new Promise<Error | undefined>((resolve) => {
    uplink.publish({ topic: 't', payload: Buffer.from('x'), qos: 1, retain: false }, (err) => {
      calledSync = true;
      resolve(err);
    });
    expect(calledSync).toBe(false);
  });
  expect((await before)?.message).toMatch(/not connected/);
  uplink.start();
  await nextConnect(uplink);
  await uplink.stop();
  expect(uplink.connected).toBe(false);
  expect((await publishResult(uplink, 't', 'x'))?.message).toMatch(/not connected/);
});

it('dispatches incoming messages to every matching subscription, with the retain flag', async () => {
  const other = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  await other.publishAsync('cmd/retained/set', 'r', { qos: 1, retain: true });
  const { uplink } = makeUplink({ urls: [broker.url] });
  const seen: string[] = [];
  uplink.subscribe('cmd/+/set', 1, (topic, payload, meta) => seen.push(`plus ${topic} ${payload} ${meta.retain}`));
  uplink.start();
  await nextConnect(uplink);
  uplink.subscribe('cmd/#', 0, (topic, payload, meta) => seen.push(`hash ${topic} ${payload} ${meta.retain}`));
  await until(() => seen.length >= 2, 3000, 'retained delivery');
  await new Promise((r) => setTimeout(r, 100)); // let the second SUBACK settle
  seen.length = 0;
  await other.publishAsync('cmd/pump/set', 'on', { qos: 1 });
  await other.publishAsync('cmd/pump/get', 'q', { qos: 1 });
  await until(() => seen.length >= 3, 3000, 'three deliveries');
  expect(seen.sort()).toEqual(['hash cmd/pump/get q false', 'hash cmd/pump/set on false', 'plus cmd/pump/set on false']);
  expect(() => uplink.subscribe('cmd/#/x', 1, () => {})).toThrow(/invalid MQTT topic filter/);
  await other.publishAsync('cmd/retained/set', '', { qos: 1, retain: true });
  await other.endAsync();
});

it('survives a handler that throws', async () => {
  const other = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  const { uplink, logs } = makeUplink({ urls: [broker.url] });
  const seen: string[] = [];
  uplink.subscribe('boom/#', 1, () => {
    throw new Error('handler bug');
  });
  uplink.subscribe('boom/#', 1, (topic) => seen.push(topic));
  uplink.start();
  await nextConnect(uplink);
  await new Promise((r) => setTimeout(r, 100));
  await other.publishAsync('boom/a', 'x', { qos: 1 });
  await until(() => seen.length === 1, 3000, 'second handler');
  expect(logs.some((l) => l.msg === 'uplink message handler threw')).toBe(true);
  expect(uplink.connected).toBe(true);
  await other.endAsync();
});

describe('status topic', () => {
  const status = { topic: 'gw/status', online: 'online', offline: 'offline', qos: 1, retain: true } as const;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;

  beforeAll(async () => {
    proxy = await startTcpProxy(broker.port);
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('is retained online after connect, offline by LWT on an abrupt loss, offline on stop()', async () => {
    const { uplink } = makeUplink({ urls: [`mqtt://127.0.0.1:${proxy.port}`], status, keepaliveMs: 5000 });
    const live = await collect(broker.url, status.topic);
    uplink.start();
    await nextConnect(uplink);
    // 'online' was acknowledged before 'connect': a newcomer sees it retained.
    const late = await collect(broker.url, status.topic);
    await late.waitFor(1);
    expect(late.messages[0]).toMatchObject({ retain: true });
    expect(late.texts()).toEqual(['online']);
    await late.close();

    // Network cut: the broker notices the dead client and publishes the will.
    const reconnected = nextConnect(uplink, 5000);
    proxy.cut();
    await live.waitFor((ms) => ms.some((m) => m.payload.toString() === 'offline'), 3000);
    // ...and the uplink comes back and says so.
    await reconnected;
    await live.waitFor((ms) => ms.at(-1)?.payload.toString() === 'online', 3000);
    expect(live.texts()).toEqual(['online', 'offline', 'online']);

    await uplink.stop();
    await live.waitFor(4);
    expect(live.texts().at(-1)).toBe('offline');
    const after = await collect(broker.url, status.topic);
    await after.waitFor(1);
    expect(after.messages[0]).toMatchObject({ retain: true });
    expect(after.texts()).toEqual(['offline']);
    // A clean stop sends DISCONNECT, so no second 'offline' from the will follows.
    await new Promise((r) => setTimeout(r, 200));
    expect(live.texts()).toEqual(['online', 'offline', 'online', 'offline']);
    await after.close();
    await live.close();
  });
});
