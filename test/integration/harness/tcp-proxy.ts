// A TCP relay between a client under test and a server, to simulate network faults without
// touching either process: cut() drops every connection abruptly (the broker sees a dead client
// and fires its LWT; the client sees a lost connection), blackhole() keeps sockets open but lets
// nothing through (a silent network: only keepalive notices).
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** Port the proxy listens on (127.0.0.1). Point the client at mqtt://127.0.0.1:<port>. */
  readonly port: number;
  /** Connections currently relayed. */
  readonly connections: number;
  /** Destroys every relayed connection on both sides; new connections are still accepted. */
  cut(): void;
  /** true: drop all bytes in both directions from now on; false: relay again. */
  blackhole(on: boolean): void;
  /** Cuts everything and stops listening. */
  close(): Promise<void>;
}

export function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let dropping = false;
  const server: Server = createServer((inbound) => {
    const outbound = connect({ port: targetPort, host: targetHost });
    const pair: [Socket, Socket] = [inbound, outbound];
    pairs.add(pair);
    const relay = (from: Socket, to: Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (!dropping) to.write(chunk);
      });
    relay(inbound, outbound);
    relay(outbound, inbound);
    const teardown = () => {
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
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      resolve({
        port,
        get connections() {
          return pairs.size;
        },
        cut,
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
