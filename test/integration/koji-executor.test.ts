/**
 * The executor's Koji side against the hub stand-in over HTTPS (the real client, the real disable, drain and
 * enable steps; the SSH steps scripted): drain waits for the host's tasks, a hub outage during drain is reported
 * once (and its end once) while the job goes on, an admin-disabled host needs --override, the capacity guard, and
 * a session that expires mid-job.
 */
import { rm } from 'node:fs/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Executor } from '../../src/executor/executor';
import { createKojiClient, type KojiXmlRpcClient } from '../../src/koji/client';
import { startHubStandin, type HubStandin } from '../../lab/koji-hub/hub-standin';
import { kojiOutageNotices } from '../../src/koji/outage-notices';
import { createKojiTestPki, type KojiTestPki } from '../../lab/pki/koji-pki';
import { disableStep } from '../../src/steps/disable';
import { drainStep } from '../../src/steps/drain';
import { enableStep } from '../../src/steps/enable';
import type { ExecutorEvent } from '../../src/model';
import { MemoryStore } from '../../store/memory-store';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';
import { until } from '../support/until';

let pki: KojiTestPki;
let hub: HubStandin;
const clients: KojiXmlRpcClient[] = [];
const kevin = { source: 'irc' as const, id: 'kevin', display: 'kevin' };
const nirik = { source: 'irc' as const, id: 'nirik', display: 'nirik' };
const origin = { adapter: 'irc', room: '#builders' };

beforeAll(async () => {
  pki = await createKojiTestPki({ users: ['rekick'] });
  hub = await startHubStandin({ tls: { key: pki.hub.keyPem, cert: pki.hub.certPem, ca: pki.ca.certPem } });
  hub.addUser('rekick', ['host', 'admin']);
  for (const n of ['buildarm-01', 'buildarm-02', 'buildarm-03']) hub.addHost(n, { arches: 'aarch64' });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await hub?.stop();
  if (pki) await rm(pki.dir, { recursive: true, force: true });
});

async function setup(overrides: Record<string, unknown> = {}) {
  const config = testConfig({
    koji: { server: hub.url, cert: pki.clients.rekick!.pemPath, serverca: pki.ca.certPath, pollInterval: '50ms' },
    timeouts: { drain: '20s', sshReturn: '5s', step: '10s' },
    ...overrides,
  });
  const events: ExecutorEvent[] = [];
  let executor: Executor | undefined;
  const koji = createKojiClient({
    ...config.koji,
    retry: { baseMs: 20, maxMs: 100, maxElapsedMs: 15_000 },
    onOutage: kojiOutageNotices(hub.url, (level, text) => executor?.notify(level, text)),
  });
  clients.push(koji);
  const scripted = new ScriptedSteps().steps();
  const steps = scripted.map((s) => (s.name === 'disable' ? disableStep : s.name === 'drain' ? drainStep : s.name === 'enable' ? enableStep : s));
  const store = new MemoryStore();
  await store.open();
  executor = new Executor({ config, store, koji, connector: {} as never, drivers: {} as never, log: pino({ level: 'silent' }), steps });
  executor.on((e) => events.push(e));
  return { executor, events, store };
}


describe('the executor against the hub stand-in', () => {
  it('drain waits for both open tasks; a hub outage meanwhile is one notice and one recovery; approval enables', async () => {
    const { executor, events, store } = await setup();
    const t1 = hub.createTask('buildarm-01', { method: 'buildArch', state: 1 });
    const t2 = hub.createTask('buildarm-01', { method: 'createrepo', state: 4 });
    const [job] = await executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
    await until(() => events.some((e) => e.type === 'step-progress' && e.step === 'drain'), 'drain to report what it waits for', 10_000);
    const waiting = events.find((e) => e.type === 'step-progress')!;
    expect(waiting.type === 'step-progress' && waiting.message).toMatch(new RegExp(`waiting for 2 open tasks: ${t1.id} buildArch .*${t2.id} createrepo`));
    expect(hub.host('buildarm-01')).toMatchObject({ enabled: false });
    expect(hub.host('buildarm-01')!.comment).toMatch(/rekick: reinstalling, asked by irc:kevin/);

    await hub.stop();
    await new Promise((r) => setTimeout(r, 600));
    hub.finishTask(t1.id);
    await hub.start();
    await until(() => events.some((e) => e.type === 'notice' && e.level === 'info'), 'a notice in chat', 10_000);
    hub.finishTask(t2.id);
    await executor.idle();
    expect(store.getJob(job!.id)!.state).toBe('awaiting-approval');
    const notices = events.filter((e) => e.type === 'notice');
    expect(notices.map((n) => n.type === 'notice' && n.level)).toEqual(['warn', 'info']);
    expect(notices[0]!.type === 'notice' && notices[0]!.text).toMatch(/unreachable/);

    await executor.approve(['buildarm-01'], { by: nirik, origin });
    await executor.idle();
    expect(hub.host('buildarm-01')).toMatchObject({ enabled: true });
    expect(hub.host('buildarm-01')!.comment).toMatch(/enabled on approval of irc:nirik/);
  });

  it('drain past its timeout fails naming the tasks; --force-drain frees them', async () => {
    const { executor, store } = await setup({ timeouts: { drain: '400ms', sshReturn: '5s', step: '10s' } });
    const t = hub.createTask('buildarm-02', { method: 'buildArch', state: 1 });
    const [job] = await executor.reinstall({ hosts: ['buildarm-02'], by: kevin, origin });
    await executor.idle();
    const failed = store.getJob(job!.id)!;
    expect(failed.error).toMatchObject({ step: 'drain', code: 'E_DRAIN_TIMEOUT' });
    expect(failed.error!.message).toContain(`${t.id} buildArch`);
    expect(hub.task(t.id)!.state).toBe(1);
    expect(hub.host('buildarm-02')!.comment).toMatch(/failed at drain/);

    const [again] = await executor.reinstall({ hosts: ['buildarm-02'], by: kevin, origin, forceDrain: true });
    await executor.idle();
    expect(store.getJob(again!.id)!.state).toBe('awaiting-approval');
    expect(hub.task(t.id)!.state).toBe(0); // FREE: the hub gives it to another builder
    await executor.deny('buildarm-02', { by: nirik, origin, reason: 'test' });
  });

  it('a host an admin had disabled is not enabled by !approve without --override', async () => {
    const { executor, store } = await setup();
    hub.setHost('buildarm-03', { enabled: false, comment: 'nirik: PSU replaced, keep off' });
    const [job] = await executor.reinstall({ hosts: ['buildarm-03'], by: kevin, origin });
    await executor.idle();
    expect(store.getJob(job!.id)!.kojiBefore).toEqual({ enabled: false, comment: 'nirik: PSU replaced, keep off' });
    await expect(executor.approve(['buildarm-03'], { by: nirik, origin })).rejects.toThrow(/already disabled in Koji before rekick touched it.*--override/);
    expect(hub.host('buildarm-03')!.enabled).toBe(false);
    await executor.approve(['buildarm-03'], { by: nirik, origin, override: true });
    await executor.idle();
    expect(hub.host('buildarm-03')!.enabled).toBe(true);
  });

  it('the capacity guard refuses a disable under koji.minEnabled; a session expired mid-job is renewed', async () => {
    const { executor, store } = await setup({
      koji: { server: hub.url, cert: pki.clients.rekick!.pemPath, serverca: pki.ca.certPath, pollInterval: '50ms', minEnabled: { aarch64: 3 } },
    });
    const [job] = await executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
    await executor.idle();
    expect(store.getJob(job!.id)!.error).toMatchObject({ step: 'disable', code: 'E_CAPACITY' });
    expect(hub.host('buildarm-01')!.enabled).toBe(true);

    const ok = await setup();
    const t = hub.createTask('buildarm-01', { method: 'buildArch', state: 1 });
    const [j2] = await ok.executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
    await until(() => ok.events.some((e) => e.type === 'step-progress'), 'the job to report progress', 10_000);
    hub.expireSession();
    hub.finishTask(t.id);
    await ok.executor.idle();
    expect(ok.store.getJob(j2!.id)!.state).toBe('awaiting-approval');
    await ok.executor.deny('buildarm-01', { by: nirik, origin });
  });
});
