// Free TCP ports for test servers: the OS picks one (listen on port 0), we read it and let it go.
// A tiny race remains (someone else may grab the port before our server binds it); on a test
// machine that is rare enough, and a fixed port would be far worse.
import { createServer } from 'node:net';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
