// The read-only status page for commissioning: static files from web/status plus /api/status.
// On a loopback address it is open like /metrics; on any other address it needs the configured
// token (Authorization: Bearer, or ?token= for a browser), and without a configured token it is
// refused: there are no default credentials. Nothing here changes the gateway.
import fs from 'node:fs';
import path from 'node:path';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StatusSnapshot } from './status-snapshot.js';

export interface StatusPageOptions {
  snapshot: () => StatusSnapshot;
  /** http.token; absent = none configured. */
  token?: string | undefined;
  /** True when the server listens on more than loopback: the page and its data need the token. */
  requireToken: boolean;
  /** Folder holding index.html, status.js and status.css. */
  assetsDir: string;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/status.js': { file: 'status.js', type: 'text/javascript; charset=utf-8' },
  '/status.css': { file: 'status.css', type: 'text/css; charset=utf-8' },
};
const API = '/api/status';

// Same-origin only, no inline script or style, no framing: a value that slipped past textContent
// could still not run.
const HEADERS = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

export function isStatusPath(pathname: string): boolean {
  return pathname === API || pathname in ASSETS;
}

/** A host a browser elsewhere cannot reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}

export class StatusPage {
  private readonly assets = new Map<string, Buffer>();

  constructor(private readonly options: StatusPageOptions) {}

  /** Reads the static files once; they are a few kilobytes. */
  load(): void {
    for (const { file } of Object.values(ASSETS)) {
      if (!this.assets.has(file)) this.assets.set(file, fs.readFileSync(path.join(this.options.assetsDir, file)));
    }
  }

  handle(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const refusal = this.refusal(req, url);
    if (refusal) {
      res.writeHead(refusal.status, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...(refusal.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {}) });
      res.end(`${refusal.text}\n`);
      return;
    }
    if (url.pathname === API) {
      res.writeHead(200, { ...HEADERS, 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify(this.options.snapshot())}\n`);
      return;
    }
    const asset = ASSETS[url.pathname]!;
    res.writeHead(200, { ...HEADERS, 'Content-Type': asset.type });
    res.end(req.method === 'HEAD' ? undefined : this.assets.get(asset.file));
  }

  private refusal(req: IncomingMessage, url: URL): { status: number; text: string } | undefined {
    if (!this.options.requireToken) return undefined;
    // Static script and style hold no data; the page itself and /api/status do.
    if (url.pathname === '/status.js' || url.pathname === '/status.css') return undefined;
    const token = this.options.token;
    if (token === undefined) {
      return { status: 403, text: 'the status page is off: http.listen is not a loopback address and no http.token is configured' };
    }
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : url.searchParams.get('token') ?? undefined;
    if (given === undefined || !sameSecret(given, token)) return { status: 401, text: 'a valid token is needed (Authorization: Bearer <token>, or ?token=<token>)' };
    return undefined;
  }
}

function sameSecret(a: string, b: string): boolean {
  // Digests make the lengths equal, so the comparison time says nothing about the token.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
