// MqttUplink against a broker that accepts connections and drops them at once (a broker in a
// restart loop, a proxy cutting sessions): the backoff must grow instead of resetting on every
// CONNACK, reset once a connection proves stable, and refused attempts keep their quick pace.
import { expect, it } from 'vitest';
import { collect, registerBrokerCleanup, startMosquitto, startTcpProxy } from '../integration/harness/index.js';
import { nextConnect, publishResult, until, useUplinks, type LogLine } from './uplink-fixture.js';

registerBrokerCleanup();
const makeUplink = useUplinks();

const status = { topic: 'flap/gw/status', online: 'online', offline: 'offline', qos: 1, retain: true } as const;
// random → 0.999: every delay is its ceiling, so the sequence is exact.
const backoff = { initialMs: 100, maxMs: 800, random: () => 0.999 };
const delaysOf = (logs: LogLine[]) => logs.filter((l) => l.msg === 'uplink reconnect scheduled').map((l) => l.delayMs as number);

it('backs off against a broker that sends CONNACK and then drops the connection', async () => {
  const broker = await startMosquitto();
  const proxy = await startTcpProxy(broker.port);
  const statuses = await collect(broker.url, status.topic);
  // 30 ms after the CONNACK: the online status is acknowledged first, so every connection is a
  // full 'connect' (and a retained online, then the LWT's offline) before it is cut.
  proxy.flap(30);
  const { uplink, logs } = makeUplink({ urls: [`mqtt://127.0.0.1:${proxy.port}`], backoff, stableAfterMs: 1000, status });
  uplink.start();
  await new Promise((r) => setTimeout(r, 2500));
  const delays = delaysOf(logs);
  // Reset on every CONNACK, this was [100, 100, 100, …] and about 20 connections in 2.5 s.
  expect(delays.slice(0, 5)).toEqual([100, 200, 400, 800, 800]);
  expect(proxy.accepted).toBeGreaterThanOrEqual(5);
  expect(proxy.accepted).toBeLessThanOrEqual(8);
  expect(uplink.reconnects).toBeGreaterThanOrEqual(3);
  expect(logs.some((l) => l.msg === 'uplink connection stable; reconnect backoff reset')).toBe(false);
  const drops = logs.filter((l) => l.msg === 'uplink disconnected');
  expect(drops.every((l) => l.stable === false && (l.upMs as number) < 1000)).toBe(true);
  // The birth message still goes out on every connection (the LWT fired in between).
  await until(() => statuses.texts().filter((t) => t === 'online').length >= uplink.reconnects, 2000, 'online per connection');
  await statuses.close();
  await proxy.close();
});

it('resets the backoff once a connection has stayed up and the broker answered since', async () => {
  const broker = await startMosquitto();
  const proxy = await startTcpProxy(broker.port);
  proxy.flap(30);
  const { uplink, logs } = makeUplink({
    urls: [`mqtt://127.0.0.1:${proxy.port}`], backoff, stableAfterMs: 600, keepaliveMs: 60_000, status,
  });
  uplink.start();
  await until(() => delaysOf(logs).length >= 4, 3000, 'four flaps');
  proxy.flap(undefined);
  await until(() => proxy.connections === 1 && uplink.connected, 3000, 'a connection that stays');
  const before = logs.length;
  // Up for longer than stableAfterMs, but the broker has said nothing since the online PUBACK.
  await new Promise((r) => setTimeout(r, 700));
  expect(logs.slice(before).some((l) => l.msg === 'uplink connection stable; reconnect backoff reset')).toBe(false);
  // A PUBACK after stableAfterMs is the proof.
  expect(await publishResult(uplink, 'flap/x', 'x')).toBeUndefined();
  await until(() => logs.some((l) => l.msg === 'uplink connection stable; reconnect backoff reset'), 1000, 'stable');
  const count = delaysOf(logs).length;
  proxy.cut();
  await nextConnect(uplink, 3000);
  expect(delaysOf(logs)[count]).toBe(100);
  await proxy.close();
});

it('a flapping broker that goes down is retried at the refused pace, and used within it once back', async () => {
  const broker = await startMosquitto();
  let proxy = await startTcpProxy(broker.port);
  const port = proxy.port;
  proxy.flap(30);
  const { uplink, logs } = makeUplink({ urls: [`mqtt://127.0.0.1:${port}`], backoff, refusedRetryMs: 150, stableAfterMs: 1000, status });
  uplink.start();
  await until(() => delaysOf(logs).length >= 5, 4000, 'the backoff at its cap');
  expect(delaysOf(logs).at(-1)).toBe(800);
  await proxy.close();
  const before = delaysOf(logs).length;
  await new Promise((r) => setTimeout(r, 1500));
  // Refused attempts (nothing listens) keep the quick pace, whatever the backoff has grown to.
  const refused = delaysOf(logs).slice(before + 1);
  expect(refused.length).toBeGreaterThanOrEqual(2);
  expect(Math.max(...refused)).toBeLessThanOrEqual(150);
  proxy = await startTcpProxy(broker.port, '127.0.0.1', port);
  const back = Date.now();
  await nextConnect(uplink, 3000);
  expect(Date.now() - back).toBeLessThan(150 + 300);
  await proxy.close();
});
