/**
 * Starts an HTTP server listening, or fails with E_LISTEN naming the listener, the address and the config keys
 * that move it. Once listening, a later server error (an accept failing: ENFILE, ENOMEM) is logged, never left
 * unhandled.
 */
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { CodedError } from '../errors';

export interface ListenerName {
  /** What listens, e.g. "the status page, API and metrics". */
  what: string;
  /** The config keys of its address and port, e.g. "http.host" and "http.port". */
  hostKey: string;
  portKey: string;
}

function hint(code: string | undefined, name: ListenerName): string {
  if (code === 'EADDRINUSE') return `another program (or another rekick) has that port: set ${name.portKey} to a free one`;
  if (code === 'EADDRNOTAVAIL') return `no interface of this machine has that address: set ${name.hostKey}`;
  if (code === 'EACCES') return `ports below 1024 need privileges rekick should not have: set ${name.portKey} to 1024 or above`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${name.hostKey} is not an address or a name this machine can resolve`;
  return `check ${name.hostKey} and ${name.portKey}`;
}

export function listen(server: Server, port: number, host: string, name: ListenerName, log: Logger): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => {
      const at = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      reject(new CodedError('E_LISTEN', `cannot listen on ${at} for ${name.what} (${err.code ?? err.message}): ${hint(err.code, name)}`, { cause: err }));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      server.on('error', (err) => log.error({ err }, `${name.what}: server error`));
      resolve();
    });
  });
}
