/** The HTTP side: /metrics follows a reinstall and parses as Prometheus text; the API matches the store; tokens. */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Executor } from '../../src/executor/executor';
import { KojiHostStates } from '../../src/koji/host-states';
import { createMetrics, type Metrics } from '../../src/http/metrics';
import { startHttpServer, type HttpServer } from '../../src/http/server';
import { MemoryStore } from '../../store/memory-store';
import { FakeKoji } from '../fakes/fake-koji';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';
import { parsePrometheus, sample, type Sample } from '../fakes/prometheus-parse';

const TOKEN = 'api-token-123456';
const SECRETS = ['xoxb-secret-bot-token', 'signing-secret-value', 'irc-sasl-password', TOKEN];
const by = { source: 'irc' as const, id: 'kevin', display: 'kevin' };
const origin = { adapter: 'irc', room: '#builders' };

let http: HttpServer;
let executor: Executor;
let store: MemoryStore;
let metrics: Metrics;

beforeAll(async () => {
  const config = testConfig({
    irc: { host: '127.0.0.1', sasl: { account: 'rekick', password: SECRETS[2] }, channels: ['#builders'] },
    slack: { signingSecret: SECRETS[1], token: SECRETS[0], channels: ['C1'] },
    http: { port: 0, token: TOKEN },
  });
  store = new MemoryStore();
  await store.open();
  const koji = new FakeKoji();
  for (const h of config.hosts) if (h.kind !== 'virthost') koji.addHost(h.name, h.arch);
  const log = pino({ level: 'silent' });
  executor = new Executor({ config, store, koji, connector: {} as never, drivers: {} as never, log, steps: new ScriptedSteps().steps() });
  const hostStates = new KojiHostStates(koji, log, 60_000);
  hostStates.follow(executor);
  await hostStates.refresh();
  metrics = createMetrics({ config, store, executor, hostStates });
  http = await startHttpServer({ config, store, executor, metrics, hostStates, adapters: () => [], log, port: 0, token: TOKEN });
});
afterAll(() => http?.stop());

const get = (path: string, token: string | null = TOKEN) =>
  fetch(new URL(path, http.url), { headers: token ? { authorization: `Bearer ${token}` } : {} });

async function scrape(): Promise<Sample[]> {
  const res = await get('/metrics');
  expect(res.status).toBe(200);
  return parsePrometheus(await res.text());
}

describe('observability over HTTP', () => {
  it('metrics follow a reinstall: waiting approval, step durations, outcome, last reinstall, Koji state', async () => {
    let m = await scrape();
    expect(sample(m, 'rekick_approvals_waiting')).toBe(0);
    expect(sample(m, 'rekick_host_koji_enabled', { host: 'buildarm-01' })).toBe(1);

    await executor.reinstall({ hosts: ['buildarm-01'], by, origin });
    await executor.idle();
    m = await scrape();
    expect(sample(m, 'rekick_approvals_waiting')).toBe(1);
    expect(sample(m, 'rekick_jobs_in_flight', { state: 'awaiting-approval' })).toBe(1);
    expect(sample(m, 'rekick_host_koji_enabled', { host: 'buildarm-01' })).toBe(0);
    const steps = m.filter((s) => s.name === 'rekick_step_duration_seconds_count').map((s) => s.labels.step).sort();
    expect(steps).toEqual(['disable', 'drain', 'post-install', 'reboot-verify', 'reinstall', 'stage-installer', 'wait-ssh'].sort());
    const last = sample(m, 'rekick_host_last_reinstall_timestamp_seconds', { host: 'buildarm-01' })!;
    expect(Math.abs(last - Date.now() / 1000)).toBeLessThan(60);
    expect(sample(m, 'rekick_host_last_reinstall_timestamp_seconds', { host: 'buildarm-02' })).toBeUndefined();

    await executor.approve(['buildarm-01'], { by: { source: 'irc', id: 'nirik', display: 'nirik' }, origin });
    await executor.idle();
    m = await scrape();
    expect(sample(m, 'rekick_jobs_total', { outcome: 'succeeded' })).toBe(1);
    expect(sample(m, 'rekick_approvals_waiting')).toBe(0);
    expect(sample(m, 'rekick_host_koji_enabled', { host: 'buildarm-01' })).toBe(1);
  });

  it('the API answers match the store', async () => {
    const jobs = (await (await get('/api/v1/jobs')).json()) as Array<{ id: string }>;
    expect(jobs).toEqual(JSON.parse(JSON.stringify(store.listJobs({ limit: 50 }))));
    const one = await (await get(`/api/v1/jobs/${jobs[0].id}`)).json();
    expect(one).toEqual(JSON.parse(JSON.stringify(store.getJob(jobs[0].id))));
    const hosts = (await (await get('/api/v1/hosts')).json()) as Array<{ name: string }>;
    expect(hosts.find((h: { name: string }) => h.name === 'buildarm-01')).toMatchObject({ lastReinstalledAt: store.getHost('buildarm-01')!.lastReinstalledAt, koji: { enabled: true } });
    expect(await (await get('/api/v1/rolling')).json()).toBeNull();
    expect((await get('/api/v1/jobs/nope')).status).toBe(404);
  });

  it('refuses a missing or bad token, but health probes stay open', async () => {
    expect((await get('/api/v1/hosts', null)).status).toBe(401);
    expect((await get('/api/v1/hosts', 'wrong-token-xxxxx')).status).toBe(401);
    expect((await get('/metrics', 'wrong')).status).toBe(401);
    expect((await get('/', null)).status).toBe(401);
    expect((await get('/healthz', null)).status).toBe(200);
    expect((await fetch(new URL('/api/v1/hosts', http.url), { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(405);
  });

  it('the status page shows the fleet and no secret appears in any answer', async () => {
    const page = await (await get('/')).text();
    expect(page).toContain('<table id="fleet">');
    expect(page).toContain('data-host="buildarm-01"');
    const bodies = await Promise.all(['/', '/metrics', '/api/v1/hosts', '/api/v1/jobs', '/healthz', '/readyz'].map(async (p) => (await get(p)).text()));
    for (const body of bodies) for (const s of SECRETS) expect(body).not.toContain(s);
  });
});
