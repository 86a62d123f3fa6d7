/**
 * A free TCP port on an address, for a test peer that stops and starts again on the same port (IRC server, Koji
 * hub, KDC). It comes from below the system's ephemeral range (lab/loopback.ts): a port the system hands out
 * could be given to another program, or to an outgoing connection, while the peer is down, and the peer could not
 * come back. `alsoFree` checks more (the KDC needs the UDP port too).
 */
import { createServer } from 'node:net';
import { randomStablePort } from '../../lab/loopback';

export async function freePort(host = '127.0.0.1', alsoFree?: (port: number) => Promise<boolean>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number | undefined>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(undefined));
      server.listen(randomStablePort(), host, () => {
        const address = server.address();
        const p = typeof address === 'object' && address ? address.port : undefined;
        server.close(() => resolve(p));
      });
    });
    if (port && (!alsoFree || (await alsoFree(port)))) return port;
  }
  throw new Error(`no free port on ${host}`);
}
