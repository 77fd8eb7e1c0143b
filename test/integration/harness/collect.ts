// A test subscriber that records everything it receives on a filter. It reconnects by itself
// (mqtt.js reconnect, 100 ms) so it can outlive broker restarts; with `session: 'persistent'` and a
// broker started with `persistence: true` it also keeps the messages queued while it was away.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export interface CollectedMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
  qos: 0 | 1 | 2;
}

export interface CollectOptions {
  /** Subscription QoS; default 1. */
  qos?: 0 | 1 | 2;
  /**
   * 'clean' (default): a new session each connection. 'persistent': clean=false with a fixed
   * clientId, so the broker queues messages for it while it is disconnected.
   */
  session?: 'clean' | 'persistent';
  /** Default: a random id (required to be stable for 'persistent'; pass one to resume a session). */
  clientId?: string;
  protocolVersion?: 4 | 5;
  username?: string;
  password?: string;
  /** PEM contents for TLS brokers (e.g. readFileSync(broker.pki.caCert)). */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** How long to wait for the first SUBACK; default 5 s. */
  timeoutMs?: number;
}

/** Either a count of messages or a condition over everything received so far. */
export type WaitCondition = number | ((messages: readonly CollectedMessage[]) => boolean);

export interface Collector {
  readonly client: MqttClient;
  /** Everything received, in arrival order (retained messages included, flagged). */
  readonly messages: CollectedMessage[];
  /** Payloads as UTF-8 strings, for terse assertions. */
  texts(): string[];
  /** Resolves with `messages` once the condition holds; rejects after timeoutMs (default 5 s). */
  waitFor(condition: WaitCondition, timeoutMs?: number): Promise<CollectedMessage[]>;
  /** Disconnects (keeping a persistent session on the broker). */
  close(): Promise<void>;
}

/** Connects, subscribes to `filter` and resolves once the broker granted the subscription. */
export async function collect(brokerUrl: string, filter: string, opts: CollectOptions = {}): Promise<Collector> {
  const qos = opts.qos ?? 1;
  const persistent = opts.session === 'persistent';
  const clientOptions: IClientOptions = {
    clientId: opts.clientId ?? `collector-${Math.random().toString(16).slice(2, 10)}`,
    clean: !persistent,
    protocolVersion: opts.protocolVersion ?? 4,
    reconnectPeriod: 100,
    connectTimeout: opts.timeoutMs ?? 5000,
    username: opts.username,
    password: opts.password,
    ca: opts.ca,
    cert: opts.cert,
    key: opts.key,
    rejectUnauthorized: true,
  };
  // MQTT 5 ends a session with the connection unless told to keep it.
  if (persistent && clientOptions.protocolVersion === 5) clientOptions.properties = { sessionExpiryInterval: 3600 };
  const client = mqtt.connect(brokerUrl, clientOptions);
  const messages: CollectedMessage[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload, retain: packet.retain, qos: packet.qos });
    for (const check of waiters) check();
  });
  // Errors (refused connections while a broker restarts) are expected here; reconnect handles them.
  client.on('error', () => {});

  try {
    const granted = await withTimeout(
      client.subscribeAsync(filter, { qos }),
      opts.timeoutMs ?? 5000,
      `subscribe ${filter} on ${brokerUrl}`,
    );
    if (granted.some((g) => g.qos > 2)) throw new Error(`subscribe ${filter} on ${brokerUrl}: refused by the broker`);
  } catch (err) {
    client.end(true);
    throw err;
  }

  return {
    client,
    messages,
    texts: () => messages.map((m) => m.payload.toString()),
    waitFor(condition, timeoutMs = 5000) {
      const done = typeof condition === 'number' ? () => messages.length >= condition : () => condition(messages);
      if (done()) return Promise.resolve(messages);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!done()) return;
          cleanup();
          resolve(messages);
        };
        const timer = setTimeout(() => {
          cleanup();
          const last = messages.slice(-5).map((m) => `${m.topic}=${m.payload.toString().slice(0, 60)}`);
          reject(
            new Error(
              `collector on ${filter}: condition not met after ${timeoutMs} ms; ` +
                `${messages.length} message(s), last: ${JSON.stringify(last)}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
      });
    },
    // Forced: a graceful end can hang on a paused broker; a persistent session survives either way.
    close: () => client.endAsync(true),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
