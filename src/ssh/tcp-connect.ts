/** A plain TCP connection with a deadline, for probing whether a host's SSH port answers. */
import net from 'node:net';
import { abortReason } from '../errors';
import type { HostTarget } from './types';

/**
 * A TCP connection, or undefined when refused, unreachable or not answered in time. The connection keeps an error
 * listener: a reset before its new owner listens (ssh2) must not be an unhandled 'error', which would end the
 * process; the owner sees the socket destroyed.
 */
export function tcpConnect(target: HostTarget, timeoutMs: number, signal?: AbortSignal): Promise<net.Socket | undefined> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: target.address, port: target.port });
    const done = (ok: boolean, err?: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      sock.removeAllListeners('connect');
      sock.removeAllListeners('error');
      sock.on('error', () => undefined);
      if (!ok) sock.destroy();
      if (err) reject(err);
      else resolve(ok ? sock : undefined);
    };
    const onAbort = () => done(false, abortReason(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}
