/**
 * A virthost takes its guests with it: `!reinstall VIRTHOST` queues linked jobs for its guests, which are disabled
 * in Koji (naming the virthost's job) and drained before the virthost is touched, and reinstalled once it is back.
 * The real executor and store, the real disable and drain steps against a fake Koji, scripted steps for the rest.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../store/memory-store';
import { Executor } from '../../src/executor/executor';
import { disableStep } from '../../src/steps/disable';
import { drainStep } from '../../src/steps/drain';
import type { Step, StepContext } from '../../src/steps/types';
import type { ExecutorEvent, Identity, Job, Origin } from '../../src/model';
import { FakeKoji } from '../fakes/fake-koji';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';
import { until } from '../support/until';

const kevin: Identity = { source: 'irc', id: 'kevin', display: 'kevin' };
const origin: Origin = { adapter: 'irc', room: '#builders' };

const HOSTS = [
  { name: 'buildarm-01', arch: 'aarch64', kind: 'baremetal' },
  { name: 'vmhost-01', kind: 'virthost' },
  { name: 'buildvm-01', kind: 'virt', virthost: 'vmhost-01' },
  { name: 'buildvm-02', kind: 'virt', virthost: 'vmhost-01' },
  { name: 'vmhost-02', kind: 'virthost' },
  { name: 'buildvm-03', kind: 'virt', virthost: 'vmhost-02' },
];

/** What the scripted stage-installer saw when it started its work, per host. */
interface StageSeen {
  host: string;
  koji: Record<string, { enabled: boolean; comment: string | null }>;
  openTasks: number;
  virthostJob?: Job['state'];
}

async function setup() {
  const config = testConfig({ timeouts: { drain: '30s', sshReturn: '30s', step: '30s' } }, HOSTS);
  const store = new MemoryStore();
  await store.open();
  const koji = new FakeKoji();
  for (const h of config.hosts) if (h.kind !== 'virthost') koji.addHost(h.name, h.arch);
  const scripted = new ScriptedSteps();
  const staged: StageSeen[] = [];
  const events: ExecutorEvent[] = [];
  const steps = (): Step[] =>
    scripted.steps().map((step) => {
      if (step.name === 'disable') return { ...disableStep };
      if (step.name === 'drain') return { ...drainStep };
      if (step.name !== 'stage-installer') return step;
      return {
        ...step,
        run: async (ctx: StepContext) => {
          const vhJob = ctx.job.options.virthostJobId ? store.getJob(ctx.job.options.virthostJobId) : undefined;
          staged.push({
            host: ctx.host.name,
            koji: Object.fromEntries([...koji.hosts.values()].map((h) => [h.name, { enabled: h.enabled, comment: h.comment }])),
            openTasks: koji.tasks.filter((t) => t.state === 1 || t.state === 4).length,
            virthostJob: vhJob?.state,
          });
          return step.run(ctx);
        },
      };
    });
  const make = () => {
    const ex = new Executor({ config, store, koji, connector: {} as never, drivers: {} as never, log: pino({ level: 'silent' }), steps: steps() });
    ex.on((e) => events.push(e));
    return ex;
  };
  const openTask = (host: string, id: number) => koji.tasks.push({ id, method: 'buildArch', state: 1, host_id: koji.hosts.get(host)!.id } as never);
  const finishTask = (id: number) => (koji.tasks.find((t) => t.id === id)!.state = 2);
  const progress = (jobId: string, step: string) => events.filter((e) => e.type === 'step-progress' && e.job.id === jobId && e.step === step).map((e) => (e as { message: string }).message);
  return { config, store, koji, scripted, staged, events, make, executor: make(), openTask, finishTask, progress };
}

const job = (store: MemoryStore, host: string) => store.listJobs({ host, limit: 1 })[0]!;

describe('a virthost reinstall takes care of its guests', () => {
  it('queues linked jobs for its guests, disables them naming the virthost job, waits for their drain before staging the virthost, reinstalls them after it', async () => {
    const { executor, store, koji, staged, openTask, finishTask, progress } = await setup();
    openTask('buildvm-01', 101);
    const jobs = await executor.reinstall({ hosts: ['vmhost-01'], by: kevin, origin });
    expect(jobs.map((j) => j.host)).toEqual(['vmhost-01', 'buildvm-01', 'buildvm-02']);
    const [vh, g1, g2] = jobs as [Job, Job, Job];
    // Linked both ways, in the same write.
    expect(vh.options.guestJobIds).toEqual([g1.id, g2.id]);
    for (const g of [g1, g2]) expect(store.getJob(g.id)!.options).toMatchObject({ virthost: 'vmhost-01', virthostJobId: vh.id });

    // The virthost waits for the guest's open task, and says so.
    await until(() => progress(vh.id, 'stage-installer').some((m) => /waiting for guests to drain: buildvm-01 \(1 task\)/.test(m)), 'the virthost waiting for buildvm-01', 10_000);
    expect(staged).toEqual([]);
    // Each guest is disabled, with a comment naming the virthost and its job.
    for (const g of ['buildvm-01', 'buildvm-02']) {
      expect(koji.hosts.get(g)!.enabled).toBe(false);
      expect(koji.hosts.get(g)!.comment).toMatch(new RegExp(`virthost vmhost-01 is being reinstalled \\(job ${vh.id}, by irc:kevin\\); this guest is reinstalled after it`));
    }
    // buildvm-02 drained at once and waits for the virthost's job.
    await until(() => progress(g2.id, 'stage-installer').some((m) => m.startsWith(`waiting for virthost vmhost-01 (job ${vh.id}, at [3/8] stage-installer)`)), 'buildvm-02 waiting', 10_000);
    finishTask(101);
    await executor.idle();

    // The virthost was staged only once its guests were disabled and drained; the guests only after it succeeded.
    expect(staged.map((s) => s.host)).toEqual(['vmhost-01', expect.stringMatching(/^buildvm-0[12]$/), expect.stringMatching(/^buildvm-0[12]$/)]);
    expect(staged[0]).toMatchObject({ openTasks: 0, koji: { 'buildvm-01': { enabled: false }, 'buildvm-02': { enabled: false }, 'buildvm-03': { enabled: true } } });
    for (const s of staged.slice(1)) expect(s.virthostJob).toBe('succeeded');
    expect(store.getJob(vh.id)!.state).toBe('succeeded');
    expect(store.getJob(g1.id)!.state).toBe('awaiting-approval');
    expect(store.getJob(g2.id)!.state).toBe('awaiting-approval');
    expect(progress(g1.id, 'stage-installer')).toContain(`virthost vmhost-01 is back (job ${vh.id} succeeded): reinstalling buildvm-01 on it`);
    expect(executor.queue().map((j) => j.host).sort()).toEqual(['buildvm-01', 'buildvm-02']);
  });

  it('a guest named with its virthost is covered by it; a busy guest refuses the virthost, and a guest alone is refused while its virthost is in a job', async () => {
    const { executor, store, scripted } = await setup();
    const jobs = await executor.reinstall({ hosts: ['buildvm-02', 'vmhost-01', 'buildarm-01'], by: kevin, origin });
    expect(jobs.map((j) => j.host)).toEqual(['vmhost-01', 'buildvm-01', 'buildvm-02', 'buildarm-01']);
    expect(jobs[2]!.options.virthostJobId).toBe(jobs[0]!.id);
    await expect(executor.reinstall({ hosts: ['buildvm-01'], by: kevin, origin })).rejects.toThrow(/buildvm-01 is already in job/);
    await executor.idle();

    scripted.behaviour.set('reinstall', { kind: 'hang' });
    await executor.reinstall({ hosts: ['buildvm-03'], by: kevin, origin });
    const before = store.listJobs().length;
    await expect(executor.reinstall({ hosts: ['vmhost-02'], by: kevin, origin })).rejects.toThrow(/vmhost-02 hosts buildvm-03, which is already in job j-\S+ \(running at \[\d\/8\] [a-z-]+\); a virthost's guests are reinstalled with it, so nothing queued/);
    expect(store.listJobs()).toHaveLength(before);
    await executor.cancel('buildvm-03', { by: kevin, origin });
    await executor.stop(10);
  });

  it('a virthost that fails leaves its guests disabled with a line saying so; !retry of a guest once the virthost is back reinstalls it', async () => {
    const { executor, store, koji, scripted, events } = await setup();
    scripted.behaviour.set('wait-ssh', { kind: 'fail', message: 'no SSH on vmhost-01', times: 1 });
    const [vh, g1, g2] = (await executor.reinstall({ hosts: ['vmhost-01'], by: kevin, origin })) as [Job, Job, Job];
    await executor.idle();
    expect(store.getJob(vh.id)!).toMatchObject({ state: 'failed', error: { step: 'wait-ssh' } });
    for (const [g, name] of [[g1, 'buildvm-01'], [g2, 'buildvm-02']] as const) {
      const failed = store.getJob(g.id)!;
      expect(failed.state).toBe('failed');
      expect(failed.error).toMatchObject({
        step: 'stage-installer',
        code: 'E_VIRTHOST_FAILED',
        message: `${name} left disabled: its virthost vmhost-01's job ${vh.id} failed at [5/8] wait-ssh; once the virthost is back: !retry ${name}`,
      });
      expect(koji.hosts.get(name)!.enabled).toBe(false);
      expect(koji.hosts.get(name)!.comment).toMatch(/reinstall failed at stage-installer.*left disabled/);
      expect(events.some((e) => e.type === 'step-failed' && e.job.id === g.id)).toBe(true);
    }
    expect(scripted.runs.filter((r) => r.step === 'stage-installer').map((r) => r.host)).toEqual(['vmhost-01']);

    // The virthost retried and back: a guest retried waits for nothing and is reinstalled.
    await executor.retry('vmhost-01', { by: kevin, origin });
    await executor.idle();
    expect(store.getJob(vh.id)!.state).toBe('succeeded');
    await executor.retry('buildvm-01', { by: kevin, origin });
    await executor.idle();
    expect(store.getJob(g1.id)!.state).toBe('awaiting-approval');
    expect(job(store, 'buildvm-02').state).toBe('failed');
  });

  it('a virthost cancelled while it waits ends its guests failed with who cancelled; a retried guest then goes on with the virthost as it is', async () => {
    const { executor, store, openTask } = await setup();
    openTask('buildvm-02', 7);
    const [vh, g1, g2] = (await executor.reinstall({ hosts: ['vmhost-01'], by: kevin, origin })) as [Job, Job, Job];
    await until(() => /waiting for guests/.test(store.getJob(vh.id)!.steps[2]!.progress ?? ''), 'the virthost waiting', 10_000);
    await executor.cancel('vmhost-01', { by: kevin, origin });
    await until(() => store.getJob(g1.id)!.state === 'failed', 'buildvm-01 failing', 10_000);
    expect(store.getJob(vh.id)!.state).toBe('cancelled');
    expect(store.getJob(g1.id)!.error!.message).toBe(
      `buildvm-01 left disabled: its virthost vmhost-01's job ${vh.id} was cancelled by kevin at [3/8] stage-installer, before the virthost was touched; once the virthost is back: !retry buildvm-01`,
    );
    // buildvm-02 is still draining; cancel it too (it stays disabled).
    await executor.cancel('buildvm-02', { by: kevin, origin });
    await executor.idle();
    expect(store.getJob(g2.id)!.state).toBe('cancelled');
    await executor.retry('buildvm-01', { by: kevin, origin });
    await executor.idle();
    expect(store.getJob(g1.id)!.state).toBe('awaiting-approval');
    expect(store.getJob(g1.id)!.steps[2]!.progress).toMatch(/retried: reinstalling buildvm-01 on the virthost as it is now/);
  });

  it('a guest cancelled while it drains does not stop the virthost: its open tasks are waited for in Koji', async () => {
    const { executor, store, openTask, finishTask, staged, progress } = await setup();
    openTask('buildvm-01', 9);
    const [vh, g1, g2] = (await executor.reinstall({ hosts: ['vmhost-01'], by: kevin, origin })) as [Job, Job, Job];
    const said = (re: RegExp) => progress(vh.id, 'stage-installer').some((m) => re.test(m));
    await until(() => said(/buildvm-01 \(1 task\)/), 'the virthost waiting for buildvm-01', 10_000);
    await executor.cancel('buildvm-01', { by: kevin, origin });
    await until(() => store.getJob(g1.id)!.state === 'cancelled', 'buildvm-01 cancelled', 10_000);
    await until(() => said(/buildvm-01 \(1 task; its job \S+ was cancelled by kevin at \[2\/8\] drain\)/), 'the virthost waiting for the cancelled guest in Koji', 10_000);
    expect(staged).toEqual([]);
    finishTask(9);
    await executor.idle();
    expect(store.getJob(vh.id)!.state).toBe('succeeded');
    expect(store.getJob(g2.id)!.state).toBe('awaiting-approval');
    expect(store.getJob(g1.id)!.state).toBe('cancelled');
  });

  it('a guest its job could not disable stops the virthost before it is touched', async () => {
    const { executor, store, koji, staged } = await setup();
    koji.failNext.set('disableHost', new Error('hub said no'));
    const [vh] = (await executor.reinstall({ hosts: ['vmhost-01'], by: kevin, origin })) as [Job, Job, Job];
    await executor.idle();
    const failed = store.getJob(vh.id)!;
    expect(failed.error).toMatchObject({ step: 'stage-installer', code: 'E_GUEST_ENABLED' });
    expect(failed.error!.message).toMatch(/^vmhost-01 not touched: its guest buildvm-0[12] \(its job \S+ failed at \[1\/8\] disable\) is still enabled in Koji/);
    expect(staged).toEqual([]);
  });

  it('restarted at any point, the waits resume from the store: the virthost still waits for the drain, the guests for the virthost', async () => {
    const { executor, make, store, openTask, finishTask, staged } = await setup();
    openTask('buildvm-01', 55);
    const [vh, g1, g2] = (await executor.reinstall({ hosts: ['vmhost-01'], by: kevin, origin })) as [Job, Job, Job];
    // Both waits in the store (the progress lines reach it within 2 s), then "killed".
    await until(
      () => /waiting for guests/.test(store.getJob(vh.id)!.steps[2]!.progress ?? '') && /waiting for virthost/.test(store.getJob(g2.id)!.steps[2]!.progress ?? ''),
      'both waits saved',
      10_000,
    );
    const since = store.getJob(vh.id)!.data['stage-installer.guestsWaitSince'];
    expect(typeof since).toBe('number');
    await executor.stop(0);
    expect(store.getJob(vh.id)!.state).toBe('running');

    const again = make();
    await again.start();
    await until(() => store.getJob(g1.id)!.steps[1]!.status === 'running' && /1 open task/.test(store.getJob(g1.id)!.steps[1]!.progress ?? ''), 'buildvm-01 draining again', 10_000);
    // Still waiting after the restart: nothing staged while the task is open.
    await new Promise((r) => setTimeout(r, 200));
    expect(staged).toEqual([]);
    expect(store.getJob(vh.id)!.data['stage-installer.guestsWaitSince']).toBe(since);
    finishTask(55);
    await again.idle();
    expect(staged.map((s) => s.host)[0]).toBe('vmhost-01');
    expect(store.getJob(vh.id)!.state).toBe('succeeded');
    expect(store.getJob(g1.id)!.state).toBe('awaiting-approval');
    expect(store.getJob(g2.id)!.state).toBe('awaiting-approval');
  });
});
