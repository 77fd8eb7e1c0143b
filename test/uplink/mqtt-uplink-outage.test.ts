// MqttUplink through outages: failover, broker crash and restart, hung broker, stop() while down.
import mqtt from 'mqtt';
import { expect, it } from 'vitest';
import { collect, freePort, registerBrokerCleanup, startMosquitto, startTcpProxy } from '../integration/harness/index.js';
import { nextConnect, nextDisconnect, publishResult, until, useUplinks } from './uplink-fixture.js';

registerBrokerCleanup();
const makeUplink = useUplinks();

it('fails over from a dead URL to the next one', async () => {
  const broker = await startMosquitto();
  const dead = `mqtt://127.0.0.1:${await freePort()}`;
  const { uplink, logs } = makeUplink({ urls: [dead, broker.url] });
  uplink.start();
  const info = await nextConnect(uplink, 3000);
  expect(info.url).toBe(broker.url);
  expect(uplink.connectAttempts).toBe(2);
  expect(logs.find((l) => l.msg === 'uplink connection error')).toMatchObject({ url: dead, code: 'ECONNREFUSED' });
  expect(await publishResult(uplink, 'failover/x', 'ok')).toBeUndefined();
});

it('retries the first time within 1 s with the default backoff', async () => {
  const { uplink, logs } = makeUplink({ urls: [`mqtt://127.0.0.1:${await freePort()}`], backoff: undefined });
  uplink.start();
  await until(() => logs.some((l) => l.msg === 'uplink reconnect scheduled'), 2000, 'first failure');
  const failedAt = Date.now();
  const delay = logs.find((l) => l.msg === 'uplink reconnect scheduled')!.delayMs as number;
  expect(delay).toBeGreaterThanOrEqual(500);
  expect(delay).toBeLessThanOrEqual(1000);
  await until(() => uplink.connectAttempts >= 2, 2000, 'second attempt');
  // Timers never fire early; the slack above 1 s is only for a loaded machine.
  expect(Date.now() - failedAt).toBeGreaterThanOrEqual(delay - 20);
  expect(Date.now() - failedAt).toBeLessThan(1500);
});

it('on a broker crash: fails in-flight publishes once, never resends them, reconnects and resubscribes', async () => {
  const broker = await startMosquitto();
  const { uplink } = makeUplink({ urls: [broker.url] });
  const commands: string[] = [];
  uplink.subscribe('site/+/set', 1, (topic, payload) => commands.push(`${topic}=${payload}`));
  uplink.start();
  await nextConnect(uplink);

  // Hold the PUBACKs back: the broker is frozen while 50 publishes go out, then it dies.
  broker.pause();
  const calls = new Map<number, Array<Error | undefined>>();
  for (let i = 0; i < 50; i += 1) {
    calls.set(i, []);
    uplink.publish({ topic: 'lost/x', payload: Buffer.from(`lost-${i}`), qos: i % 2 === 0 ? 1 : 2, retain: false }, (err) =>
      calls.get(i)!.push(err),
    );
  }
  await new Promise((r) => setTimeout(r, 50));
  expect(uplink.inFlight).toBe(50);
  const disconnected = nextDisconnect(uplink, 3000);
  await broker.kill();
  const { reason } = await disconnected;
  expect(reason).toEqual(expect.any(String));
  expect(uplink.connected).toBe(false);
  for (const [, results] of calls) {
    expect(results).toHaveLength(1);
    expect(results[0]?.message).toMatch(/connection lost/);
  }
  expect((await publishResult(uplink, 'lost/x', 'while-down'))?.message).toMatch(/not connected/);

  const reconnected = nextConnect(uplink, 5000);
  await broker.restart();
  const watcher = await collect(broker.url, 'lost/#');
  await reconnected;
  expect(uplink.reconnects).toBe(1);
  // Subscriptions are back: a command published by someone else reaches the handler.
  const cloud = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  await until(
    () => {
      if (commands.length > 0) return true;
      void cloud.publishAsync('site/pump-1/set', 'on', { qos: 1 });
      return false;
    },
    3000,
    'command after restart',
  );
  expect(commands[0]).toBe('site/pump-1/set=on');
  // The 50 lost publishes are the forwarder's to resend: mqtt.js must not have replayed them.
  expect(await publishResult(uplink, 'lost/x', 'fresh')).toBeUndefined();
  await watcher.waitFor(1);
  await new Promise((r) => setTimeout(r, 100));
  expect(watcher.texts()).toEqual(['fresh']);
  for (const [, results] of calls) expect(results).toHaveLength(1);
  await cloud.endAsync();
  await watcher.close();
});

it('notices a hung broker through keepalive and stop() still resolves', async () => {
  const broker = await startMosquitto();
  const { uplink } = makeUplink({ urls: [broker.url], keepaliveMs: 1000, stopTimeoutMs: 300 });
  uplink.start();
  await nextConnect(uplink);
  broker.pause();
  let connectedAtCallback: boolean | undefined;
  const pending = new Promise<Error | undefined>((resolve) =>
    uplink.publish({ topic: 'hung/x', payload: Buffer.from('x'), qos: 1, retain: false }, (err) => {
      connectedAtCallback = uplink.connected;
      resolve(err);
    }),
  );
  const { reason } = await nextDisconnect(uplink, 4000);
  expect(reason).toMatch(/keepalive/i);
  expect((await pending)?.message).toMatch(/connection lost/);
  // The forwarder tells a lost connection from a refused message by looking at `connected`.
  expect(connectedAtCallback).toBe(false);
  const started = Date.now();
  await uplink.stop();
  expect(Date.now() - started).toBeLessThan(3000);
  broker.resume();
});

// The keepalive timer is not restarted per acknowledgement (reschedulePings: false, for CPU): pings
// must then keep a busy connection alive, and a hang must still end it within 1.5 × keepalive.
it('keeps a busy connection alive through its pings and notices a hang while messages flow', async () => {
  const broker = await startMosquitto();
  const { uplink } = makeUplink({ urls: [broker.url], keepaliveMs: 1000, stopTimeoutMs: 300 });
  uplink.start();
  await nextConnect(uplink);
  let disconnects = 0;
  uplink.on('disconnect', () => (disconnects += 1));
  let acked = 0;
  let flowing = true;
  const flow = (async () => {
    while (flowing && uplink.connected) {
      if ((await publishResult(uplink, 'busy/x', 'x')) === undefined) acked += 1;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await new Promise((r) => setTimeout(r, 3500)); // more than three keepalive periods of traffic
  expect(disconnects).toBe(0);
  expect(acked).toBeGreaterThan(50);
  broker.pause();
  const pausedAt = Date.now();
  const { reason } = await nextDisconnect(uplink, 4000);
  expect(reason).toMatch(/keepalive/i);
  expect(Date.now() - pausedAt).toBeLessThan(3500);
  flowing = false;
  await flow;
  broker.resume();
});

it('stop() on a connection to a frozen broker is bounded and fails what is in flight', async () => {
  const broker = await startMosquitto();
  const status = { topic: 'gw/s', online: 'on', offline: 'off', qos: 1, retain: true } as const;
  const { uplink, logs } = makeUplink({ urls: [broker.url], keepaliveMs: 60_000, stopTimeoutMs: 300, status });
  uplink.start();
  await nextConnect(uplink);
  broker.pause();
  const pending = publishResult(uplink, 'frozen/x', 'x');
  const disconnected = nextDisconnect(uplink, 3000);
  const started = Date.now();
  await uplink.stop();
  const elapsed = Date.now() - started;
  expect(elapsed).toBeLessThan(3000);
  expect(elapsed).toBeGreaterThanOrEqual(250);
  expect((await pending)?.message).toMatch(/connection lost.*stopped/);
  expect((await disconnected).reason).toBe('stopped');
  expect(logs.some((l) => l.msg === 'uplink offline status not acknowledged in time')).toBe(true);
  broker.resume();
});

it('stop() resolves promptly while nothing is reachable, and no retry follows', async () => {
  const { uplink } = makeUplink({ urls: [`mqtt://127.0.0.1:${await freePort()}`] });
  uplink.start();
  await until(() => uplink.connectAttempts >= 1, 1000, 'an attempt');
  const started = Date.now();
  await uplink.stop();
  expect(Date.now() - started).toBeLessThan(500);
  const attempts = uplink.connectAttempts;
  await new Promise((r) => setTimeout(r, 600));
  expect(uplink.connectAttempts).toBe(attempts);
});

it('calls every callback exactly once through repeated network cuts, and acked means delivered', async () => {
  const broker = await startMosquitto();
  const proxy = await startTcpProxy(broker.port);
  const collector = await collect(broker.url, 'stress/#');
  const { uplink } = makeUplink({ urls: [`mqtt://127.0.0.1:${proxy.port}`], backoff: { initialMs: 50, maxMs: 100 } });
  const calls: number[] = [];
  const acked = new Set<number>();
  let failed = 0;
  let inflight = 0;
  let running = true;
  const pump = () => {
    while (running && uplink.connected && inflight < 100) {
      const i = calls.length;
      calls.push(0);
      inflight += 1;
      uplink.publish({ topic: 'stress/x', payload: Buffer.from(String(i)), qos: (1 + (i % 2)) as 1 | 2, retain: false }, (err) => {
        calls[i]! += 1;
        inflight -= 1;
        if (err) failed += 1;
        else acked.add(i);
        setImmediate(pump);
      });
    }
  };
  uplink.on('connect', pump);
  uplink.start();
  await nextConnect(uplink);
  for (let cut = 0; cut < 4; cut += 1) {
    await new Promise((r) => setTimeout(r, 80 + Math.random() * 80));
    proxy.cut();
    await nextConnect(uplink, 3000);
  }
  await new Promise((r) => setTimeout(r, 100));
  running = false;
  await until(() => inflight === 0, 3000, 'in-flight publishes to settle');
  expect(calls.length).toBeGreaterThan(500);
  expect(failed).toBeGreaterThan(0);
  expect(calls.filter((c) => c !== 1)).toEqual([]);
  await collector.waitFor((ms) => {
    const got = new Set(ms.map((m) => Number(m.payload.toString())));
    return [...acked].every((i) => got.has(i));
  }, 5000);
  await uplink.stop();
  await proxy.close();
  await collector.close();
});
