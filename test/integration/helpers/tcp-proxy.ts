/**
 * A TCP proxy on a free port of the target's address: each accepted connection gets its own connection to the
 * target, the target's bytes go back as they come, and either side closing closes both. What goes forward is the
 * caller's (`forward`; default: every byte), and so is whether a connection is taken at all (`accept`).
 */
import { createServer, connect as netConnect, type Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Cuts every open connection (the proxy still listens). */
  dropAll(): void;
  close(): Promise<void>;
}

export interface TcpProxyOptions {
  /** Whether to take a new connection (refused ones are closed at once). Default: always. */
  accept?(): boolean;
  /** Wires the client's side to the target's (default: downstream.pipe(upstream)). */
  forward?(downstream: Socket, upstream: Socket): void;
}

export async function startTcpProxy(target: { host: string; port: number }, options: TcpProxyOptions = {}): Promise<TcpProxy> {
  let count = 0;
  const live = new Set<Socket>();
  const server = createServer((downstream) => {
    if (options.accept && !options.accept()) {
      downstream.destroy();
      return;
    }
    count += 1;
    const upstream = netConnect({ host: target.host, port: target.port });
    live.add(downstream);
    live.add(upstream);
    const end = () => {
      downstream.destroy();
      upstream.destroy();
      live.delete(downstream);
      live.delete(upstream);
    };
    if (options.forward) options.forward(downstream, upstream);
    else downstream.pipe(upstream);
    upstream.pipe(downstream);
    downstream.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, target.host, () => r()));
  const address = server.address();
  const dropAll = () => {
    for (const s of live) s.destroy();
    live.clear();
  };
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    connections: () => count,
    dropAll,
    async close() {
      dropAll();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
