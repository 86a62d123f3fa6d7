/**
 * rekick's status listener: /healthz, /readyz, /metrics, /api/v1/* and the status page at /, on `http.host`
 * (loopback by default). Slack's receiver is never here: it has a listener of its own (src/chat/slack/). A
 * configured token guards everything but the health probes, which then say only whether each part is up.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Store } from '../../store/store';
import type { ChatAdapter } from '../chat/chat-adapter';
import type { Config } from '../config/schema';
import type { ExecutorApi } from '../executor/types';
import type { KojiHostStates } from '../koji/host-states';
import { hostViews } from './api';
import { listen } from './listen';
import type { Metrics } from './metrics';
import { renderStatusPage } from './status-page';

export interface HttpServerOptions {
  config: Config;
  store: Store;
  executor: ExecutorApi;
  metrics: Metrics;
  hostStates?: KojiHostStates;
  adapters: () => ChatAdapter[];
  log: Logger;
  host?: string;
  port?: number;
  token?: string;
}

export interface HttpServer {
  server: Server;
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startHttpServer(o: HttpServerOptions): Promise<HttpServer> {
  const server = createServer((req, res) => {
    handle(o, req, res).catch((err) => {
      o.log.error({ err, url: req.url }, 'http handler failed');
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.end();
    });
  });
  const host = o.host ?? '127.0.0.1';
  await listen(server, o.port ?? 0, host, { what: 'the status page, API and metrics', hostKey: 'http.host', portKey: 'http.port' }, o.log);
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/`,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

const json = (res: ServerResponse, status: number, body: unknown) => send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body, null, 1)}\n`);

function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (!token) return true;
  const header = req.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

async function handle(o: HttpServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'read-only: GET only\n');
  if (url.pathname === '/healthz') {
    const ok = o.store.writable;
    return json(res, ok ? 200 : 503, { ok, store: ok ? 'writable' : 'last write failed' });
  }
  if (url.pathname === '/readyz') {
    const chats = Object.fromEntries(o.adapters().map((a) => [a.name, a.isReady()]));
    const koji = o.hostStates ? o.hostStates.reachable() : true;
    const ok = koji && Object.values(chats).every(Boolean);
    // Why the hub does not answer (paths, host names, fault text) only with the token, when there is one.
    const why = authorized(req, o.token) ? `: ${o.hostStates?.lastFailure() ?? 'no answer yet'}` : '';
    return json(res, ok ? 200 : 503, { ok, koji: koji ? 'reachable' : `unreachable${why}`, chat: chats });
  }
  if (!authorized(req, o.token)) {
    res.setHeader('www-authenticate', 'Bearer realm="rekick"');
    return send(res, 401, 'text/plain', 'a valid token is needed: Authorization: Bearer TOKEN\n');
  }
  if (url.pathname === '/metrics') {
    return send(res, 200, o.metrics.registry.contentType, await o.metrics.registry.metrics());
  }
  if (url.pathname === '/api/v1/hosts') return json(res, 200, hostViews(o.config, o.store, o.hostStates));
  if (url.pathname === '/api/v1/jobs') {
    const host = url.searchParams.get('host') ?? undefined;
    const limit = Math.min(500, Number(url.searchParams.get('limit') ?? 50) || 50);
    return json(res, 200, o.store.listJobs({ host, limit }));
  }
  const m = /^\/api\/v1\/jobs\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
  if (m) {
    const job = o.store.getJob(m[1]!);
    return job ? json(res, 200, job) : json(res, 404, { error: `no job ${m[1]}` });
  }
  if (url.pathname === '/api/v1/rolling') return json(res, 200, o.store.getRolling() ?? null);
  if (url.pathname === '/') {
    return send(res, 200, 'text/html; charset=utf-8', renderStatusPage({ config: o.config, store: o.store, hostStates: o.hostStates, queue: () => o.executor.queue() }));
  }
  return json(res, 404, { error: `no such page: ${url.pathname}` });
}
