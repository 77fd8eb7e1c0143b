// Shared set-up for the MqttUplink integration tests: an uplink with a log capture, stopped after
// each test, and small waits on its events.
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach } from 'vitest';
import { MqttUplink, type MqttUplinkOptions } from '../../src/uplink/mqtt-uplink.js';

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface TestUplink {
  uplink: MqttUplink;
  logs: LogLine[];
  /** Every log line as raw JSON, to search for leaked secrets. */
  rawLogs: string[];
}

/** Stops every uplink made by makeUplink after each test (call once per file). */
export function useUplinks(): (overrides: Partial<MqttUplinkOptions> & { urls: string[] }) => TestUplink {
  const made: MqttUplink[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((u) => u.stop()));
  });
  return (overrides) => {
    const logs: LogLine[] = [];
    const rawLogs: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString().split('\n')) {
          if (line === '') continue;
          rawLogs.push(line);
          logs.push(JSON.parse(line) as LogLine);
        }
        cb();
      },
    });
    const uplink = new MqttUplink({
      clientId: `uplink-test-${Math.random().toString(16).slice(2, 8)}`,
      protocolVersion: 4,
      keepaliveMs: 10_000,
      connectTimeoutMs: 3000,
      backoff: { initialMs: 200, maxMs: 400 },
      stopTimeoutMs: 1000,
      logger: pino({ level: 'debug' }, sink),
      clock: { now: () => Date.now() },
      ...overrides,
    });
    made.push(uplink);
    return { uplink, logs, rawLogs };
  };
}

/** Resolves with the next 'connect' info, or rejects after timeoutMs. */
export async function nextConnect(uplink: MqttUplink, timeoutMs = 5000): Promise<{ url: string; sessionPresent: boolean }> {
  const [info] = (await once(uplink, 'connect', { signal: AbortSignal.timeout(timeoutMs) })) as [
    { url: string; sessionPresent: boolean },
  ];
  return info;
}

export async function nextDisconnect(uplink: MqttUplink, timeoutMs = 5000): Promise<{ reason: string }> {
  const [info] = (await once(uplink, 'disconnect', { signal: AbortSignal.timeout(timeoutMs) })) as [{ reason: string }];
  return info;
}

/** Publishes through the uplink and resolves with the callback's error (undefined on success). */
export function publishResult(
  uplink: MqttUplink,
  topic: string,
  payload: string,
  qos: 0 | 1 | 2 = 1,
  retain = false,
): Promise<Error | undefined> {
  return new Promise((resolve) => uplink.publish({ topic, payload: Buffer.from(payload), qos, retain }, resolve));
}

/** Polls `condition` every 10 ms until true; rejects after timeoutMs with `what`. */
export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
