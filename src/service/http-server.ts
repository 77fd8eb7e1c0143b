// The optional HTTP endpoint for operators: GET /metrics (Prometheus text) and GET /healthz (200 or
// 503 with the failing checks; /health is the same, the name config/example.yaml uses). Plain node:http: two read-only routes do not justify a framework
// on a gateway, and nothing here parses a request body. Off unless `http.listen` is set.
import { isStatusPath, type StatusPage } from './status-page.js';
import { LISTEN_EXAMPLES, parseListenAddress, type ListenAddress } from '../util/listen-address.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { FieldgateError, errorText } from '../util/errors.js';

export interface HealthCheck {
  ok: boolean;
  detail: string;
}

export interface HealthReport {
  healthy: boolean;
  checks: Record<string, HealthCheck>;
}

export type { ListenAddress } from '../util/listen-address.js';

/** Parses `http.listen` (util/listen-address.ts); throws a typed error for text validation would refuse. */
export function parseListen(text: string): ListenAddress {
  const address = parseListenAddress(text);
  if (!address) throw new FieldgateError('http_listen', `invalid http.listen "${text}" (expected ${LISTEN_EXAMPLES})`);
  return address;
}

export interface HttpServerOptions {
  /** The read-only status page (web/status and /api/status); absent = not served. */
  status?: StatusPage;
  /** The `http.listen` text. */
  listen: string;
  /** Metrics.registry. */
  registry: Registry;
  health: () => HealthReport;
  logger: Logger;
}

const LISTEN_ERRORS: Record<string, string> = {
  EADDRINUSE: 'the port is already in use (another fieldgate or exporter?)',
  EACCES: 'permission denied (ports below 1024 need privileges the service does not have)',
  EADDRNOTAVAIL: 'this host has no interface with that address',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve (yet)',
};

export class HttpServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: HttpServerOptions) {}

  /** The bound address (after start()). */
  address(): AddressInfo | undefined {
    const a = this.server?.address();
    return a !== null && typeof a === 'object' ? a : undefined;
  }

  /** Listens; rejects with a FieldgateError (code http_listen) when the address cannot be bound. */
  async start(): Promise<void> {
    if (this.server !== undefined) return;
    const { host, port } = parseListen(this.options.listen);
    this.options.status?.load();
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.options.logger.warn({ err: errorText(err), url: req.url }, 'http request failed');
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.destroy();
      });
    });
    // Scrapers and probes send tiny requests; a client that dribbles bytes is cut off quickly.
    server.headersTimeout = 10_000;
    server.requestTimeout = 15_000;
    server.keepAliveTimeout = 5_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        const why = LISTEN_ERRORS[err.code ?? ''] ?? err.message;
        reject(new FieldgateError('http_listen', `cannot listen on ${this.options.listen} for http: ${why}`, { cause: err }));
      };
      server.once('error', onError);
      server.listen({ host, port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    server.on('error', (err) => this.options.logger.warn({ err: errorText(err) }, 'http server error'));
    this.server = server;
    const a = this.address();
    this.options.logger.info(
      { address: a?.address, port: a?.port },
      `http endpoint for /metrics and /healthz${this.options.status ? ' and the status page' : ''} listening`,
    );
  }

  /** Stops listening and closes open connections, idle keep-alive ones included. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const status = this.options.status;
    const known = path === '/metrics' || path === '/healthz' || path === '/health' || (status !== undefined && isStatusPath(path));
    if (!known) {
      send(res, 404, 'text/plain; charset=utf-8', `not found: try ${status ? '/, ' : ''}/metrics or /healthz\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    if (status !== undefined && isStatusPath(path)) {
      status.handle(req, res, url);
      return;
    }
    if (path === '/metrics') {
      const registry = this.options.registry;
      send(res, 200, registry.contentType, await registry.metrics());
      return;
    }
    let report: HealthReport;
    try {
      report = this.options.health();
    } catch (err) {
      report = { healthy: false, checks: { probe: { ok: false, detail: `health probe failed: ${errorText(err)}` } } };
    }
    const reasons = Object.entries(report.checks)
      .filter(([, check]) => !check.ok)
      .map(([name, check]) => `${name}: ${check.detail}`);
    // A report that says unhealthy without a failing check still fails: the flag is authoritative.
    const body = report.healthy
      ? { status: 'ok', checks: report.checks }
      : { status: 'unhealthy', reasons: reasons.length > 0 ? reasons : ['unhealthy'], checks: report.checks };
    send(res, report.healthy ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}
