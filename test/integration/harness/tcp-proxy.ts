// A TCP relay between a client under test and a server, to simulate network faults without
// touching either process: cut() drops every connection abruptly (the broker sees a dead client
// and fires its LWT; the client sees a lost connection), blackhole() keeps sockets open but lets
// nothing through (a silent network: only keepalive notices), flap() lets each connection get as
// far as the server's first answer (an MQTT CONNACK) and then cuts it (a broker in a restart loop,
// or a proxy that drops sessions).
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** Port the proxy listens on (127.0.0.1). Point the client at mqtt://127.0.0.1:<port>. */
  readonly port: number;
  /** Connections currently relayed. */
  readonly connections: number;
  /** Connections accepted since the proxy started. */
  readonly accepted: number;
  /** Destroys every relayed connection on both sides; new connections are still accepted. */
  cut(): void;
  /** true: drop all bytes in both directions from now on; false: relay again. */
  blackhole(on: boolean): void;
  /**
   * A number: from now on every connection is cut (RST) that many ms after the server's first
   * bytes were relayed to the client. undefined: relay normally again.
   */
  flap(afterReplyMs: number | undefined): void;
  /** Cuts everything and stops listening. */
  close(): Promise<void>;
}

/** listenPort: a given port (e.g. to come back where a client already retries); default a free one. */
export function startTcpProxy(targetPort: number, targetHost = '127.0.0.1', listenPort = 0): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let dropping = false;
  let flapMs: number | undefined;
  let accepted = 0;
  const server: Server = createServer((inbound) => {
    accepted += 1;
    const outbound = connect({ port: targetPort, host: targetHost });
    const pair: [Socket, Socket] = [inbound, outbound];
    pairs.add(pair);
    let flapTimer: NodeJS.Timeout | undefined;
    const relay = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (!dropping) to.write(chunk);
        if (from === outbound && flapMs !== undefined && flapTimer === undefined) {
          flapTimer = setTimeout(() => {
            pairs.delete(pair);
            inbound.resetAndDestroy();
            outbound.resetAndDestroy();
          }, flapMs);
        }
      });
    relay(inbound, outbound);
    relay(outbound, inbound);
    const teardown = () => {
      clearTimeout(flapTimer);
      pairs.delete(pair);
      inbound.destroy();
      outbound.destroy();
    };
    for (const s of pair) {
      s.on('error', teardown);
      s.on('close', teardown);
    }
  });
  const cut = () => {
    for (const [a, b] of pairs) {
      // resetAndDestroy sends RST, the closest thing to a pulled cable that still gets noticed.
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    pairs.clear();
  };
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({
        port,
        get connections() {
          return pairs.size;
        },
        get accepted() {
          return accepted;
        },
        cut,
        flap(afterReplyMs: number | undefined) {
          flapMs = afterReplyMs;
        },
        blackhole(on: boolean) {
          dropping = on;
        },
        close: () =>
          new Promise<void>((done) => {
            cut();
            server.close(() => done());
          }),
      });
    });
  });
}
