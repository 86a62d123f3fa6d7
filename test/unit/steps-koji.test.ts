/** The Koji-facing steps against a fake hub: disable's record and capacity guard, drain, enable's safety checks. */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { disableStep } from '../../src/steps/disable';
import { drainStep } from '../../src/steps/drain';
import { enableStep } from '../../src/steps/enable';
import type { StepContext } from '../../src/steps/types';
import { type Job } from '../../src/model';
import { FakeKoji } from '../fakes/fake-koji';
import { testConfig } from '../fakes/test-config';
import { makeJob } from '../fakes/jobs';

function job(host: string, options: Job['options'] = {}): Job {
  return makeJob({ host, id: 'j-1', options });
}

function ctx(koji: FakeKoji, j: Job, configOverrides: Record<string, unknown> = {}) {
  const config = testConfig(configOverrides);
  const progress: string[] = [];
  const controller = new AbortController();
  const c: StepContext = {
    config,
    koji,
    connector: {} as never,
    drivers: {} as never,
    log: pino({ level: 'silent' }),
    job: j,
    host: config.hosts.find((h) => h.name === j.host)!,
    target: { name: j.host, address: j.host, port: 22 },
    signal: controller.signal,
    timeoutMs: 5_000,
    progress: (m) => progress.push(m),
    output: () => undefined,
    save: async () => undefined,
    hostInJob: () => false,
    jobOf: () => undefined,
    hostKeyChanged: () => undefined,
  };
  return { c, progress, controller };
}

describe('disable', () => {
  it('records the state before rekick, disables, and comments naming rekick, the requester and the job', async () => {
    const koji = new FakeKoji();
    koji.addHost('buildarm-01', 'aarch64', true, 'old note');
    const j = job('buildarm-01');
    await disableStep.run(ctx(koji, j).c);
    expect(j.kojiBefore).toEqual({ enabled: true, comment: 'old note' });
    expect(koji.hosts.get('buildarm-01')).toMatchObject({ enabled: false });
    expect(koji.hosts.get('buildarm-01')!.comment).toMatch(/^rekick: reinstalling, asked by irc:kevin \(job j-1\)/);
    // A resumed step keeps the first record, even though the host is now disabled.
    await disableStep.run(ctx(koji, j).c);
    expect(j.kojiBefore).toEqual({ enabled: true, comment: 'old note' });
  });

  it('refuses to go under koji.minEnabled for the arch, and changes nothing', async () => {
    const koji = new FakeKoji();
    koji.addHost('buildarm-01', 'aarch64');
    koji.addHost('buildarm-02', 'aarch64');
    koji.addHost('buildarm-03', 'aarch64', false);
    const j = job('buildarm-01');
    const { c } = ctx(koji, j, { koji: { server: 'https://k/kojihub', cert: '/x', minEnabled: { aarch64: 1 } } });
    await disableStep.run(c);
    const j2 = job('buildarm-02');
    await expect(disableStep.run(ctx(koji, j2, { koji: { server: 'https://k/kojihub', cert: '/x', minEnabled: { aarch64: 1 } } }).c)).rejects.toMatchObject({
      code: 'E_CAPACITY',
      message: expect.stringMatching(/would leave 0 enabled aarch64 builders, under koji.minEnabled.aarch64 = 1/),
    });
    expect(koji.hosts.get('buildarm-02')!.enabled).toBe(true);
    expect(koji.calls.filter((x) => x.startsWith('disableHost("buildarm-02"'))).toHaveLength(0);
  });

  it('disables side by side (a multi-host request, a rolling pass) never go under koji.minEnabled together', async () => {
    const koji = new FakeKoji();
    for (const name of ['buildarm-01', 'buildarm-02', 'buildarm-03', 'buildarm-09']) koji.addHost(name, 'aarch64');
    const minEnabled = { koji: { server: 'https://k/kojihub', cert: '/x', minEnabled: { aarch64: 2 } } };
    // Each of the three saw 3 others enabled when it looked: all three at once would leave one.
    const results = await Promise.allSettled(['buildarm-01', 'buildarm-02', 'buildarm-03'].map((name) => disableStep.run(ctx(koji, job(name), minEnabled).c)));
    expect(results.map((r) => (r.status === 'fulfilled' ? 'disabled' : (r.reason as { code?: string }).code))).toEqual(['disabled', 'disabled', 'E_CAPACITY']);
    expect([...koji.hosts.values()].filter((h) => h.enabled).map((h) => h.name)).toEqual(['buildarm-03', 'buildarm-09']);
  });

  it('fails clearly for a host Koji does not know', async () => {
    const koji = new FakeKoji();
    await expect(disableStep.run(ctx(koji, job('buildarm-01')).c)).rejects.toMatchObject({ code: 'E_KOJI_UNKNOWN_HOST' });
  });
});

describe('drain', () => {
  it('waits until both open tasks finish, reporting them', async () => {
    const koji = new FakeKoji();
    const h = koji.addHost('buildarm-01', 'aarch64');
    koji.tasks.push({ id: 101, method: 'buildArch', state: 1, host_id: h.id }, { id: 102, method: 'createrepo', state: 4, host_id: h.id }, { id: 103, method: 'buildArch', state: 2, host_id: h.id });
    const { c, progress } = ctx(koji, job('buildarm-01'));
    const done = drainStep.run(c);
    await new Promise((r) => setTimeout(r, 80));
    expect(progress[0]).toMatch(/waiting for 2 open tasks: 101 buildArch, 102 createrepo/);
    koji.tasks[0]!.state = 2;
    await new Promise((r) => setTimeout(r, 60));
    koji.tasks[1]!.state = 2;
    await done;
    expect(progress.at(-1)).toMatch(/waiting for 1 open task: 102 createrepo/);
  });

  it("asks for the tasks by the host id the disable step read (no second lookup), or looks it up for an older job", async () => {
    const koji = new FakeKoji();
    koji.addHost('buildarm-00', 'aarch64');
    const h = koji.addHost('buildarm-01', 'aarch64');
    const j = job('buildarm-01');
    await disableStep.run(ctx(koji, j).c);
    expect(j.data['koji.hostId']).toBe(h.id);
    koji.calls = [];
    await drainStep.run(ctx(koji, j).c);
    expect(koji.calls).toEqual([`listTasks(${h.id})`]);
    // A job saved before the disable step kept the id (or resumed from such a state file): one getHost first.
    const older = job('buildarm-01');
    koji.calls = [];
    await drainStep.run(ctx(koji, older).c);
    expect(koji.calls).toEqual(['getHost("buildarm-01")', `listTasks(${h.id})`]);
  });

  it('fails at the drain timeout naming the tasks left, and frees nothing', async () => {
    const koji = new FakeKoji();
    const h = koji.addHost('buildarm-01', 'aarch64');
    koji.tasks.push({ id: 7, method: 'buildArch', state: 1, host_id: h.id });
    const { c } = ctx(koji, job('buildarm-01'), { timeouts: { drain: '150ms', sshReturn: '1s', step: '1s' } });
    await expect(drainStep.run(c)).rejects.toMatchObject({ code: 'E_DRAIN_TIMEOUT', message: expect.stringMatching(/1 task still open .*7 buildArch.*--force-drain/) });
    expect(koji.calls.some((x) => x.startsWith('freeTask'))).toBe(false);
  });

  it('with --force-drain frees the tasks and says which', async () => {
    const koji = new FakeKoji();
    const h = koji.addHost('buildarm-01', 'aarch64');
    koji.tasks.push({ id: 7, method: 'buildArch', state: 1, host_id: h.id }, { id: 8, method: 'buildArch', state: 4, host_id: h.id });
    const { c, progress } = ctx(koji, job('buildarm-01', { forceDrain: true }));
    await drainStep.run(c);
    expect(koji.calls.filter((x) => x.startsWith('freeTask'))).toEqual(['freeTask(7)', 'freeTask(8)']);
    expect(progress[0]).toMatch(/freed 2 tasks .*7 buildArch, 8 buildArch/);
  });

  it('links tasks to koji.weburl', async () => {
    const koji = new FakeKoji();
    const h = koji.addHost('buildarm-01', 'aarch64');
    koji.tasks.push({ id: 9, method: 'buildArch', state: 1, host_id: h.id });
    const { c, progress, controller } = ctx(koji, job('buildarm-01'), { koji: { server: 'https://k/kojihub', cert: '/x', weburl: 'https://koji.example.org/koji', pollInterval: '10ms' } });
    const run = drainStep.run(c).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 30));
    controller.abort();
    await run;
    expect(progress[0]).toContain('https://koji.example.org/koji/taskinfo?taskID=9');
  });
});

describe('enable', () => {
  function approved(j: Job, override = false): Job {
    j.approval = { by: { source: 'irc', id: 'nirik', display: 'nirik' }, at: new Date().toISOString(), override };
    return j;
  }

  it('never enables without a recorded approval', async () => {
    const koji = new FakeKoji();
    koji.addHost('buildarm-01', 'aarch64', false);
    await expect(enableStep.run(ctx(koji, job('buildarm-01')).c)).rejects.toMatchObject({ code: 'E_NOT_APPROVED' });
    expect(koji.hosts.get('buildarm-01')!.enabled).toBe(false);
  });

  it('enables a host still carrying rekick’s comment', async () => {
    const koji = new FakeKoji();
    koji.addHost('buildarm-01', 'aarch64', false, 'rekick: mine');
    const j = approved(job('buildarm-01'));
    j.kojiComment = 'rekick: mine';
    j.kojiBefore = { enabled: true, comment: null };
    await enableStep.run(ctx(koji, j).c);
    expect(koji.hosts.get('buildarm-01')!.enabled).toBe(true);
  });

  it('refuses a host someone else re-disabled meanwhile, unless --override', async () => {
    const koji = new FakeKoji();
    koji.addHost('buildarm-01', 'aarch64', false, 'nirik: bad disk');
    const j = approved(job('buildarm-01'));
    j.kojiComment = 'rekick: mine';
    j.kojiBefore = { enabled: true, comment: null };
    await expect(enableStep.run(ctx(koji, j).c)).rejects.toMatchObject({ code: 'E_KOJI_CHANGED' });
    expect(koji.hosts.get('buildarm-01')!.enabled).toBe(false);
    await enableStep.run(ctx(koji, approved(j, true)).c);
    expect(koji.hosts.get('buildarm-01')!.enabled).toBe(true);
  });

  it('refuses a host that was disabled before rekick touched it, unless --override', async () => {
    const koji = new FakeKoji();
    koji.addHost('buildarm-01', 'aarch64', false, 'rekick: mine');
    const j = approved(job('buildarm-01'));
    j.kojiComment = 'rekick: mine';
    j.kojiBefore = { enabled: false, comment: 'hardware repair' };
    await expect(enableStep.run(ctx(koji, j).c)).rejects.toMatchObject({ code: 'E_WAS_DISABLED' });
    await enableStep.run(ctx(koji, approved(j, true)).c);
    expect(koji.hosts.get('buildarm-01')!.enabled).toBe(true);
  });
});
