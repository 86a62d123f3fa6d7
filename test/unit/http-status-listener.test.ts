/**
 * The status listener itself: with a token, /readyz still answers without it but keeps why the hub is down
 * (paths, host names, fault text) for those holding the token; it never serves Slack's endpoint; a port it
 * cannot take fails with E_LISTEN naming the keys that move it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutorApi } from '../../src/executor/types';
import type { Metrics } from '../../src/http/metrics';
import { startHttpServer, type HttpServer, type HttpServerOptions } from '../../src/http/server';
import type { KojiHostStates } from '../../src/koji/host-states';
import { CodedError } from '../../src/errors';
import { MemoryStore } from '../../store/memory-store';
import { testConfig } from '../fakes/test-config';

const TOKEN = 'status-token-0123456789';
const FAILURE = 'TLS with the hub failed (self-signed certificate): check koji.server https://koji-hub.internal.example:8443/kojihub';
let http: HttpServer;
let options: HttpServerOptions;

beforeAll(async () => {
  const store = new MemoryStore();
  await store.open();
  const hostStates = { reachable: () => false, lastFailure: () => FAILURE, get: () => undefined } as unknown as KojiHostStates;
  options = {
    config: testConfig(),
    store,
    executor: { queue: () => [] } as unknown as ExecutorApi,
    metrics: {} as Metrics,
    hostStates,
    adapters: () => [],
    log: pino({ level: 'silent' }),
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
  };
  http = await startHttpServer(options);
});
afterAll(() => http?.stop());

const get = (path: string, token?: string) => fetch(new URL(path, http.url), { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('the status listener', () => {
  it('/readyz without the token says the hub is unreachable, not why; with it, why', async () => {
    const open = await get('/readyz');
    expect(open.status).toBe(503);
    expect(await open.json()).toEqual({ ok: false, koji: 'unreachable', chat: {} });
    const held = await get('/readyz', TOKEN);
    expect(((await held.json()) as { koji: string }).koji).toBe(`unreachable: ${FAILURE}`);
    const health = await get('/healthz');
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, store: 'writable' });
  });

  it("does not serve Slack's endpoint", async () => {
    const r = await fetch(new URL('/slack/events', http.url), { method: 'POST', body: '{}', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(405);
    expect((await get('/slack/events', TOKEN)).status).toBe(404);
  });

  it('a port already taken fails with E_LISTEN naming http.port', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const { port } = taken.address() as AddressInfo;
    try {
      const err = await startHttpServer({ ...options, port }).then(
        (started) => started.stop(),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CodedError);
      expect(err).toMatchObject({ code: 'E_LISTEN' });
      expect((err as Error).message).toBe(
        `cannot listen on 127.0.0.1:${port} for the status page, API and metrics (EADDRINUSE): another program (or another rekick) has that port: set http.port to a free one`,
      );
    } finally {
      await new Promise<void>((r) => taken.close(() => r()));
    }
  });
});
