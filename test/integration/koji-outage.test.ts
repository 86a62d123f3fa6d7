import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKojiClient, type KojiOutageEvent, type KojiXmlRpcClient } from '../../src/koji/client';
import { KojiUnreachableError } from '../../src/koji/errors';
import { startHubStandin, type HubStandin } from '../../lab/koji-hub/hub-standin';
import { createKojiTestPki, type KojiTestPki } from '../../lab/pki/koji-pki';
import { until } from '../support/until';
import { freePort } from '../support/free-port';

let pki: KojiTestPki;
let hub: HubStandin;
const clients: KojiXmlRpcClient[] = [];

beforeAll(async () => {
  pki = await createKojiTestPki({ users: ['rekick'] });
  hub = await startHubStandin({ tls: { key: pki.hub.keyPem, cert: pki.hub.certPem, ca: pki.ca.certPem }, port: await freePort() }); // a port nobody takes while the hub is stopped
  hub.addUser('rekick', ['host']);
  hub.addHost('buildarm-03', { arches: 'aarch64' });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await hub?.stop();
  if (pki) await rm(pki.dir, { recursive: true, force: true });
});

function client(events: KojiOutageEvent[], extra: Parameters<typeof createKojiClient>[0] = {}) {
  const c = createKojiClient({
    server: hub.url,
    cert: pki.clients.rekick!.pemPath,
    serverca: pki.ca.certPath,
    retry: { baseMs: 20, maxMs: 80, maxElapsedMs: 10_000 },
    onOutage: (e) => events.push(e),
    ...extra,
  });
  clients.push(c);
  return c;
}


describe('hub outages', () => {
  it('hub stopped and restarted: calls wait and succeed; exactly one down and one up', async () => {
    const events: KojiOutageEvent[] = [];
    const c = client(events);
    await c.getHost('buildarm-03');
    await hub.stop();
    const pending = Promise.all([c.getHost('buildarm-03'), c.listOpenTasks(1), c.getHost('buildarm-03')]);
    await until(() => events.length === 1, 'the outage to be reported', 5_000);
    expect(events[0]).toMatchObject({ state: 'down' });
    expect(events[0]!.error?.message).toMatch(/ECONNREFUSED/);
    await new Promise((r) => setTimeout(r, 200)); // several more failed attempts: still one 'down'
    await hub.start();
    const [h, tasks] = await pending;
    expect(h?.name).toBe('buildarm-03');
    expect(tasks).toEqual([]);
    expect(events.map((e) => e.state)).toEqual(['down', 'up']);
    expect(events[1]!.since).toEqual(events[0]!.at);
  });

  it('HTTP 5xx and ServerOffline are retried; one failed attempt is a blip, not an outage', async () => {
    const events: KojiOutageEvent[] = [];
    const c = client(events);
    await c.getHost('buildarm-03');
    hub.failNext(1, 'http503');
    expect((await c.getHost('buildarm-03'))?.name).toBe('buildarm-03');
    expect(events).toEqual([]);
    hub.failNext(3, 'offline');
    expect((await c.getHost('buildarm-03'))?.name).toBe('buildarm-03');
    hub.failNext(2, 'reset');
    expect((await c.getHost('buildarm-03'))?.name).toBe('buildarm-03');
    expect(events.map((e) => e.state)).toEqual(['down', 'up', 'down', 'up']);
  });

  it('a retried write keeps its call number, and a write the hub already did is not reported as failed', async () => {
    const c = client([]);
    await c.getHost('buildarm-03');
    hub.setDelay(400, ['disableHost'], 1); // the hub disables the host, but its answer comes too late
    const fastTimeout = client([], { callTimeoutMs: 150 });
    await fastTimeout.getHost('buildarm-03');
    await fastTimeout.disableHost('buildarm-03'); // times out, is resent with the same number: RetryError = done
    hub.setDelay(0);
    const disables = hub.calls.filter((x) => x.method === 'disableHost');
    expect(disables.length).toBeGreaterThanOrEqual(2);
    expect(new Set(disables.map((x) => x.callnum)).size).toBe(1);
    expect(disables.at(-1)!.fault?.faultCode).toBe(1009);
    expect(hub.host('buildarm-03')?.enabled).toBe(false);
    hub.setHost('buildarm-03', { enabled: true });
  });

  it('a call gives up after retry.maxElapsedMs with KojiUnreachableError; a cancelled call stops at once', async () => {
    const events: KojiOutageEvent[] = [];
    const c = client(events, { retry: { baseMs: 10, maxMs: 20, maxElapsedMs: 300 } });
    await c.getHost('buildarm-03');
    hub.failNext(1000, 'http500');
    const err = await c.getHost('buildarm-03').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KojiUnreachableError);
    expect((err as Error).message).toMatch(/HTTP 500.*check that the hub/);
    const ac = new AbortController();
    const p = c.getHost('buildarm-03', { signal: ac.signal }).catch((e: unknown) => e);
    setTimeout(() => ac.abort(new Error('job cancelled')), 50);
    expect(((await p) as Error).message).toBe('job cancelled');
    hub.failNext(0);
    expect((await c.getHost('buildarm-03'))?.name).toBe('buildarm-03');
    expect(events.map((e) => e.state)).toEqual(['down', 'up']);
  });
});
