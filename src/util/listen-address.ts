// The grammar of `http.listen`, in one place: validation reports what it refuses, the HTTP server
// binds what it accepts.
export interface ListenAddress {
  /** undefined: every interface (IPv6 and IPv4 where the kernel allows dual-stack sockets). */
  host: string | undefined;
  port: number;
}

export const LISTEN_EXAMPLES = 'host:port, e.g. 127.0.0.1:9464, [::1]:9464, or :9464 for all interfaces';

/**
 * "127.0.0.1:9464", "localhost:9464", "[::1]:9464", or ":9464" for all interfaces; undefined when
 * the text is none of these. Port 0 asks the kernel for a free port (tests; `address()` tells which).
 */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? m[2];
  return { host: host === '' || host === undefined ? undefined : host, port };
}
