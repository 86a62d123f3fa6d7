/**
 * Koji hub faults during a job, against the hub stand-in over HTTPS with the real client and the real disable,
 * drain and enable steps (SSH steps scripted), the real router and notifier: each test ends with the lines the
 * channel saw and the state after, in the store and on the hub.
 * - the hub down while a job disables a host, and down for longer than the client's patience while it enables;
 * - a slow hub (10 s for the disable): the job waits for it, and the disable is applied once;
 * - a hub answering faults: HTTP 5xx, reset connections, ServerOffline (all ridden out), and a permission fault
 *   (a clear failure, nothing retried for ever, the host left as it was).
 */
import { rm } from 'node:fs/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandRegistry } from '../../commands';
import { createNotifier, type Notifier } from '../../src/chat/notifier';
import { createRoles } from '../../src/chat/roles';
import { createRouter } from '../../src/chat/router';
import { Executor } from '../../src/executor/executor';
import { createKojiClient, type KojiXmlRpcClient } from '../../src/koji/client';
import { startHubStandin, type HubStandin } from '../../lab/koji-hub/hub-standin';
import { kojiOutageNotices } from '../../src/koji/outage-notices';
import { createKojiTestPki, type KojiTestPki } from '../../lab/pki/koji-pki';
import { disableStep } from '../../src/steps/disable';
import { drainStep } from '../../src/steps/drain';
import { enableStep } from '../../src/steps/enable';
import type { Identity } from '../../src/model';
import { MemoryStore } from '../../store/memory-store';
import { FakeChat } from '../fakes/fake-chat';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';
import { until as waitUntil } from '../support/until';
import { freePort } from '../support/free-port';

const kevin: Identity = { source: 'irc', id: 'kevin', display: 'kevin' };
const nirik: Identity = { source: 'irc', id: 'nirik', display: 'nirik' };

let pki: KojiTestPki;
let hub: HubStandin;
const clients: KojiXmlRpcClient[] = [];
const rigs: Array<{ executor: Executor; notifier: Notifier }> = [];

beforeAll(async () => {
  pki = await createKojiTestPki({ users: ['rekick', 'rekick-noperm'] });
  hub = await startHubStandin({ tls: { key: pki.hub.keyPem, cert: pki.hub.certPem, ca: pki.ca.certPem }, port: await freePort() }); // a port nobody takes while the hub is stopped
  hub.addUser('rekick', ['host', 'admin']);
  hub.addUser('rekick-noperm', []);
  for (const n of ['buildarm-01', 'buildarm-02', 'buildarm-03']) hub.addHost(n, { arches: 'aarch64' });
});

afterAll(async () => {
  for (const r of rigs) {
    r.notifier.stop();
    await r.executor.stop(100);
  }
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await hub?.stop();
  if (pki) await rm(pki.dir, { recursive: true, force: true });
});

const until = (cond: () => boolean, what: string, ms = 20_000) => waitUntil(cond, what, ms);

async function setup(options: { user?: string; maxElapsedMs?: number; callTimeoutMs?: number } = {}) {
  const config = testConfig({
    koji: { server: hub.url, cert: pki.clients[options.user ?? 'rekick']!.pemPath, serverca: pki.ca.certPath, pollInterval: '50ms' },
    timeouts: { drain: '20s', sshReturn: '5s', step: '30s' },
    retry: { attempts: 2, backoff: '20ms', maxBackoff: '50ms' },
  });
  const log = pino({ level: 'silent' });
  let executor: Executor | undefined;
  const koji = createKojiClient({
    ...config.koji,
    callTimeoutMs: options.callTimeoutMs,
    retry: { baseMs: 20, maxMs: 100, maxElapsedMs: options.maxElapsedMs ?? 15_000 },
    onOutage: kojiOutageNotices(hub.url, (level, text) => executor?.notify(level, text)),
  });
  clients.push(koji);
  const steps = new ScriptedSteps().steps().map((s) => (s.name === 'disable' ? disableStep : s.name === 'drain' ? drainStep : s.name === 'enable' ? enableStep : s));
  const store = new MemoryStore();
  await store.open();
  executor = new Executor({ config, store, koji, connector: {} as never, drivers: {} as never, log, steps });
  const chat = new FakeChat('irc');
  const router = createRouter({ executor, commands: commandRegistry, roles: createRoles(config.roles), log, audit: (e) => executor!.audit(e), adapters: [chat] });
  const notifier = createNotifier({ executor, adapters: [chat], log });
  rigs.push({ executor, notifier });
  await chat.start((m) => router.handle(m));
  const lines = () => chat.texts('#builders');
  /** What the channel saw about `host` (and notices), with job ids and durations made stable. */
  const seen = async (host: string) => {
    await notifier.flush();
    return lines()
      .filter((l) => l.startsWith(host) || /^(warning|error): |^Koji hub .* (answers|back)/i.test(l))
      .map((l) => l.replace(/j-[a-z0-9]+-[0-9a-f]+/g, 'JOB').replace(/ ✓ [\d.]+m?s$/, ' ✓'));
  };
  return { executor, store, chat, lines, seen, notifier };
}

const hubCalls = (method: string, host: string) => hub.calls.filter((c) => c.method === method && !c.fault && JSON.stringify(c.params).includes(host));

describe('Koji hub faults during a job', () => {
  it('hub down while the job disables the host: the step waits, one warning and one all-clear, disabled once', async () => {
    const { executor, store, chat, seen } = await setup();
    await hub.stop();
    await chat.say(kevin, '!reinstall buildarm-01');
    await new Promise((r) => setTimeout(r, 800));
    expect(store.listJobs()[0]).toMatchObject({ host: 'buildarm-01', state: 'running', current: 0 });
    await hub.start();
    await until(() => store.listJobs()[0]?.state === 'awaiting-approval', 'the job to reach the approval gate');
    const lines = await seen('buildarm-01');
    expect(lines).toEqual([
      'buildarm-01 queued for reinstall by kevin (job JOB)',
      'buildarm-01 [1/8] disable …',
      expect.stringMatching(/^warning: .*unreachable/i),
      expect.stringMatching(/answers again|back/i),
      'buildarm-01 [1/8] disable ✓',
      ...['drain', 'stage-installer', 'reinstall', 'wait-ssh', 'post-install', 'reboot-verify'].flatMap((s, i) => [`buildarm-01 [${i + 2}/8] ${s} …`, `buildarm-01 [${i + 2}/8] ${s} ✓`]),
      'buildarm-01 is ready: !approve buildarm-01 to enable it in Koji (or !deny buildarm-01 REASON)',
    ]);
    expect(hub.host('buildarm-01')).toMatchObject({ enabled: false, comment: expect.stringMatching(/^rekick: reinstalling, asked by irc:kevin/) });
    expect(hubCalls('disableHost', 'buildarm-01')).toHaveLength(1);
    await executor.deny('buildarm-01', { by: nirik, origin: { adapter: 'irc', room: '#builders' }, reason: 'test over' });
  });

  it('hub down past the client patience during enable: failed at [8/8], left disabled; !retry after it is back enables', async () => {
    const { store, chat, seen } = await setup({ maxElapsedMs: 1_500 });
    await chat.say(kevin, '!reinstall buildarm-02');
    await until(() => store.listJobs()[0]?.state === 'awaiting-approval', 'the approval gate');
    await hub.stop();
    await chat.say(nirik, '!approve buildarm-02');
    await until(() => chat.texts('#builders').some((l) => l.startsWith('buildarm-02 [8/8] enable failed')), 'the enable step to fail');
    const failed = store.listJobs()[0]!;
    expect(failed.error).toMatchObject({ step: 'enable', code: 'E_KOJI_UNREACHABLE' });
    expect(failed.approval?.by.id).toBe('nirik');
    await hub.start();
    expect(hub.host('buildarm-02')).toMatchObject({ enabled: false, comment: expect.stringMatching(/^rekick: reinstalling/) });
    await chat.say(kevin, '!retry buildarm-02');
    await until(() => store.listJobs()[0]?.state === 'succeeded', 'the retried enable');
    const lines = (await seen('buildarm-02')).filter((l) => !/\[[2-7]\/8\]/.test(l));
    expect(lines).toEqual([
      'buildarm-02 queued for reinstall by kevin (job JOB)',
      'buildarm-02 [1/8] disable …',
      'buildarm-02 [1/8] disable ✓',
      'buildarm-02 is ready: !approve buildarm-02 to enable it in Koji (or !deny buildarm-02 REASON)',
      'buildarm-02 approved by nirik; enabling in Koji',
      'buildarm-02 [8/8] enable …',
      expect.stringMatching(/^warning: .*unreachable/i),
      expect.stringMatching(/^buildarm-02 \[8\/8\] enable attempt 1 failed: Koji hub .* did not answer .* — retrying in /),
      expect.stringMatching(
        /^buildarm-02 \[8\/8\] enable failed: Koji hub .* did not answer .* — host left disabled in Koji \("rekick: reinstalling, asked by irc:kevin.*"\); !retry buildarm-02 resumes from enable$/,
      ),
      'buildarm-02 [8/8] enable …',
      'buildarm-02: retrying job JOB from [8/8] enable',
      expect.stringMatching(/answers again/i),
      'buildarm-02 [8/8] enable ✓',
      'buildarm-02 is enabled in Koji — reinstall done (job JOB)',
    ]);
    expect(hub.host('buildarm-02')).toMatchObject({ enabled: true, comment: expect.stringMatching(/enabled on approval of irc:nirik/) });
    expect(hubCalls('enableHost', 'buildarm-02')).toHaveLength(1);
    expect(store.listAudit().map((e) => [e.action, e.outcome])).toEqual(
      expect.arrayContaining([
        ['approve', 'ok'],
        ['retry', 'ok'],
      ]),
    );
  });

  it('a slow hub (10 s for the disable): the job waits for the answer, and the host is disabled exactly once', async () => {
    const { executor, store, chat, seen } = await setup();
    hub.setDelay(10_000, ['disableHost'], 1);
    const disablesBefore = hub.calls.filter((c) => c.method === 'disableHost').length;
    const started = Date.now();
    await chat.say(kevin, '!reinstall buildarm-03');
    await until(() => store.listJobs()[0]?.steps[0]!.status === 'succeeded', 'the slow disable', 30_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(10_000); // it waited for the answer, not a retry
    await until(() => store.listJobs()[0]?.state === 'awaiting-approval', 'the approval gate');
    const job = store.listJobs()[0]!;
    expect(job.steps[0]).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(hub.calls.filter((c) => c.method === 'disableHost')).toHaveLength(disablesBefore + 1);
    expect(hub.host('buildarm-03')).toMatchObject({ enabled: false, comment: expect.stringMatching(/^rekick: reinstalling, asked by irc:kevin/) });
    const lines = await seen('buildarm-03');
    expect(lines.slice(0, 3)).toEqual(['buildarm-03 queued for reinstall by kevin (job JOB)', 'buildarm-03 [1/8] disable …', 'buildarm-03 [1/8] disable ✓']);
    expect(lines.filter((l) => /warning|failed|retrying/.test(l))).toEqual([]);
    await executor.deny('buildarm-03', { by: nirik, origin: { adapter: 'irc', room: '#builders' }, reason: 'test over' });
  });

  it('5xx, reset connections and ServerOffline are ridden out; a permission fault fails the job at once, host untouched', async () => {
    const ok = await setup();
    hub.setHost('buildarm-01', { enabled: true, comment: null });
    hub.failNext(2, 'http503');
    await ok.chat.say(kevin, '!reinstall buildarm-01');
    await until(() => ok.store.listJobs()[0]?.steps[0]!.status === 'succeeded', 'disable through 503s');
    hub.failNext(1, 'reset');
    hub.setOffline(true);
    setTimeout(() => hub.setOffline(false), 400);
    await until(() => ok.store.listJobs()[0]?.state === 'awaiting-approval', 'the gate through resets and ServerOffline');
    hub.failNext(1, 'http500');
    await ok.chat.say(nirik, '!approve buildarm-01');
    await until(() => ok.store.listJobs()[0]?.state === 'succeeded', 'enable through a 500');
    expect(hub.host('buildarm-01')).toMatchObject({ enabled: true });
    const okLines = await ok.seen('buildarm-01');
    expect(okLines.filter((l) => /^buildarm-01 .*(failed|retrying)/.test(l))).toEqual([]);
    expect(okLines.at(-1)).toMatch(/^buildarm-01 is enabled in Koji — reinstall done/);

    const denied = await setup({ user: 'rekick-noperm' });
    hub.setHost('buildarm-02', { enabled: true, comment: 'in service' });
    await denied.chat.say(kevin, '!reinstall buildarm-02');
    await until(() => denied.store.listJobs()[0]?.state === 'failed', 'the job to fail');
    const job = denied.store.listJobs()[0]!;
    expect(job.error).toMatchObject({ step: 'disable', code: 'E_KOJI_NOT_ALLOWED' });
    expect(job.steps[0]!.attempts).toBe(1); // a permission fault is not retried
    expect(hub.host('buildarm-02')).toMatchObject({ enabled: true, comment: 'in service' });
    const lines = await denied.seen('buildarm-02');
    expect(lines).toEqual([
      'buildarm-02 queued for reinstall by kevin (job JOB)',
      'buildarm-02 [1/8] disable …',
      expect.stringMatching(/^buildarm-02 \[1\/8\] disable failed: .*(permission|not allowed).* — host not touched in Koji; !retry buildarm-02 resumes from disable$/i),
    ]);
  });
});

