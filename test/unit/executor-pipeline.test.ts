import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../store/memory-store';
import { Executor } from '../../src/executor/executor';
import { StepError } from '../../src/errors';
import type { Step, StepContext } from '../../src/steps/types';
import type { ExecutorEvent, Identity, Job, Origin } from '../../src/model';
import { FakeKoji } from '../fakes/fake-koji';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';

const kevin: Identity = { source: 'irc', id: 'kevin', display: 'kevin' };
const nirik: Identity = { source: 'irc', id: 'nirik', display: 'nirik' };
const origin: Origin = { adapter: 'irc', room: '#builders' };

async function setup(configOverrides: Record<string, unknown> = {}) {
  const config = testConfig(configOverrides);
  const store = new MemoryStore();
  await store.open();
  const koji = new FakeKoji();
  const scripted = new ScriptedSteps();
  const events: ExecutorEvent[] = [];
  /** An executor on this store and hub with the given steps (tests wrap the scripted ones to watch them). */
  const withSteps = (steps: Step[]) =>
    new Executor({ config, store, koji, connector: {} as never, drivers: {} as never, log: pino({ level: 'silent' }), steps });
  const make = () => {
    const ex = withSteps(scripted.steps());
    ex.on((e) => events.push(e));
    return ex;
  };
  return { config, store, koji, scripted, events, make, withSteps, executor: make() };
}

describe('executor pipeline', () => {
  it('runs the seven steps, stops at the approval gate, and enables only after approval', async () => {
    const { executor, store, scripted, events } = await setup();
    const [job] = await executor.reinstall({ hosts: ['buildarm-03'], by: kevin, origin });
    await executor.idle();
    expect(scripted.runs.map((r) => r.step)).toEqual(['disable', 'drain', 'stage-installer', 'reinstall', 'wait-ssh', 'post-install', 'reboot-verify']);
    expect(store.getJob(job!.id)!.state).toBe('awaiting-approval');
    expect(executor.queue().map((j) => j.host)).toEqual(['buildarm-03']);
    await executor.approve(['buildarm-03'], { by: nirik, origin });
    await executor.idle();
    const done = store.getJob(job!.id)!;
    expect(done.state).toBe('succeeded');
    expect(done.approval?.by.id).toBe('nirik');
    expect(done.steps.every((s) => s.status === 'succeeded')).toBe(true);
    expect(events.map((e) => e.type)).toContain('enabled');
    expect(store.getHost('buildarm-03')?.lastReinstalledAt).toBeTruthy();
  });

  it('one save between the command and the first step: the job is saved with that step started', async () => {
    const { store, scripted, withSteps } = await setup();
    const saves: string[] = [];
    const saveJob = store.saveJob.bind(store);
    const saveJobs = store.saveJobs.bind(store);
    store.saveJob = (j) => (saves.push(`${j.host} ${j.state}`), saveJob(j));
    store.saveJobs = (js) => (saves.push(...js.map((j) => `${j.host} ${j.state}`)), saveJobs(js));
    const seen: Array<{ host: string; step: string; saves: string[]; stored: Job | undefined }> = [];
    const steps = scripted.steps().map((step) => ({
      ...step,
      run: async (ctx: StepContext) => {
        seen.push({ host: ctx.host.name, step: step.name, saves: [...saves], stored: store.getJob(ctx.job.id) });
        return step.run(ctx);
      },
    }));
    const ex = withSteps(steps);
    const [bm, vh] = await ex.reinstall({ hosts: ['buildarm-03', 'vmhost-01'], by: kevin, origin });
    await ex.idle();
    const first = (host: string) => seen.find((s) => s.host === host)!;
    // bare metal starts at disable; a virthost (no Koji builder) at stage-installer
    expect(first('buildarm-03').step).toBe('disable');
    expect(first('vmhost-01').step).toBe('stage-installer');
    for (const [host, index] of [['buildarm-03', 0], ['vmhost-01', 2]] as const) {
      expect(first(host).saves.filter((x) => x.startsWith(`${host} `))).toEqual([`${host} running`]);
      expect(first(host).stored).toMatchObject({ state: 'running', current: index });
      expect(first(host).stored!.steps[index]).toMatchObject({ status: 'running', attempts: 1 });
    }
    expect(store.getJob(bm!.id)!.steps[0]).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(store.getJob(vh!.id)!.steps[2]).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(store.getJob(bm!.id)!.state).toBe('awaiting-approval');
  });

  it('one save per step: a step\'s end and the next step\'s start share a write, and a crash there resumes the next step', async () => {
    const { store, scripted, withSteps } = await setup();
    const saves: string[] = [];
    const saveJob = store.saveJob.bind(store);
    store.saveJob = (j) => (saves.push(j.steps.map((s) => s.status[0]).join('')), saveJob(j));
    const seen: Array<{ step: string; saves: number; stored: Job | undefined }> = [];
    const steps = scripted.steps().map((step) => ({
      ...step,
      run: async (ctx: StepContext) => {
        seen.push({ step: step.name, saves: saves.length, stored: store.getJob(ctx.job.id) });
        return step.run(ctx);
      },
    }));
    const ex = withSteps(steps);
    await ex.reinstall({ hosts: ['buildarm-03'], by: kevin, origin });
    await ex.idle();
    expect(seen.map((s) => s.step)).toEqual(['disable', 'drain', 'stage-installer', 'reinstall', 'wait-ssh', 'post-install', 'reboot-verify']);
    seen.forEach((s, i) => {
      // The first step's start went with the job (saveJobs); each later one with the end of the step before it.
      expect(s.saves).toBe(i);
      expect(s.stored!.current).toBe(i);
      expect(s.stored!.steps[i]).toMatchObject({ status: 'running', attempts: 1 });
      if (i > 0) expect(s.stored!.steps[i - 1]!.status).toBe('succeeded');
    });
    // The last step's end goes alone (the approval gate is next), then the job waits for approval.
    expect(saves.slice(-2)).toEqual(['sssssssp', 'sssssssp']);

    // Killed right after a step's end (the next step saved as started): a new executor resumes that next step.
    const { store: store2, scripted: scripted2, withSteps: withSteps2 } = await setup();
    const ran: string[] = [];
    const killAt = 'stage-installer';
    const steps2 = scripted2.steps().map((step) => ({
      ...step,
      run: async (ctx: StepContext) => {
        ran.push(step.name);
        if (step.name === killAt) await new Promise(() => undefined); // never ends: the "crash" happens here
        return step.run(ctx);
      },
    }));
    const ex2 = withSteps2(steps2);
    const [job2] = await ex2.reinstall({ hosts: ['buildarm-03'], by: kevin, origin });
    for (let i = 0; i < 200 && !ran.includes(killAt); i++) await new Promise((r) => setTimeout(r, 2));
    const atKill = store2.getJob(job2!.id)!;
    expect(atKill.steps.map((s) => s.status).slice(0, 3)).toEqual(['succeeded', 'succeeded', 'running']);
    await ex2.stop(0); // the hung step is abandoned where it is, as a kill would leave it
    expect(store2.getJob(job2!.id)!.steps[2]!.status).toBe('running');
    const resumed: string[] = [];
    const ex3 = withSteps2(scripted2.steps().map((step) => ({ ...step, run: async (ctx: StepContext) => (resumed.push(step.name), step.run(ctx)) })));
    await ex3.start();
    await ex3.idle();
    expect(resumed[0]).toBe('stage-installer');
    expect(store2.getJob(job2!.id)!.state).toBe('awaiting-approval');
  });

  it('progress lines: a burst goes with the next write, a line after a quiet spell at once, none waits more than 2 s', async () => {
    const { store, scripted, withSteps } = await setup({ timeouts: { drain: '30s', sshReturn: '2s', step: '30s' } });
    let saves = 0;
    const saveJob = store.saveJob.bind(store);
    store.saveJob = (j) => (saves++, saveJob(j));
    const stored = (id: string) => store.getJob(id)!.steps.find((s) => s.name === 'drain')!.progress;
    const checks: Array<[string, unknown, unknown]> = [];
    const steps = scripted.steps().map((step) => ({
      ...step,
      run: async (ctx: StepContext) => {
        if (step.name === 'disable') {
          const before = saves;
          for (let i = 0; i < 50; i++) ctx.progress(`probe ${i}`);
          checks.push(['a burst right after the step started: no write of its own', saves - before, 0]);
        }
        if (step.name === 'drain') {
          ctx.progress('waiting for 1 open task');
          checks.push(['held back: the step start was just written', stored(ctx.job.id), undefined]);
          await new Promise((r) => setTimeout(r, 2_300));
          checks.push(['written when the spell ended', stored(ctx.job.id), 'waiting for 1 open task']);
          await new Promise((r) => setTimeout(r, 2_100));
          ctx.progress('waiting for 0 open tasks');
          checks.push(['after a quiet spell: written at once', stored(ctx.job.id), 'waiting for 0 open tasks']);
        }
        return step.run(ctx);
      },
    }));
    const ex = withSteps(steps);
    const [job] = await ex.reinstall({ hosts: ['buildarm-03'], by: kevin, origin });
    await ex.idle();
    expect(store.getJob(job!.id)!.state).toBe('awaiting-approval');
    expect(checks).toHaveLength(4);
    for (const [what, got, want] of checks) expect(got, what).toEqual(want);
    // The step's end carried the burst's last line.
    expect(store.getJob(job!.id)!.steps[0]!.progress).toBe('probe 49');
  }, 15_000);

  it('refuses a second reinstall of a busy host and an unknown host, queuing nothing', async () => {
    const { executor, store, scripted } = await setup();
    scripted.behaviour.set('drain', { kind: 'hang' });
    await executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
    await new Promise((r) => setTimeout(r, 50));
    await expect(executor.reinstall({ hosts: ['buildarm-02', 'buildarm-01'], by: kevin, origin })).rejects.toThrow(/buildarm-01 is already in job .* drain/);
    await expect(executor.reinstall({ hosts: ['buildarm-02', 'nosuch'], by: kevin, origin })).rejects.toThrow(/unknown host: nosuch/);
    await expect(executor.reinstall({ hosts: ['group:nope'], by: kevin, origin })).rejects.toThrow(/unknown group: nope/);
    expect(store.listJobs().map((j) => j.host)).toEqual(['buildarm-01']);
    await executor.cancel('buildarm-01', { by: kevin, origin });
    await executor.idle();
  });

  it('refuses a guest while its virthost is in a job, and the other way round', async () => {
    const { executor, scripted } = await setup();
    scripted.behaviour.set('stage-installer', { kind: 'hang' });
    await executor.reinstall({ hosts: ['buildvm-01'], by: kevin, origin });
    await expect(executor.reinstall({ hosts: ['vmhost-01'], by: kevin, origin })).rejects.toThrow(/hosts buildvm-01/);
    await executor.stop(10);
  });

  it('retries a retryable failure with backoff, then succeeds', async () => {
    const { executor, scripted, events } = await setup();
    scripted.behaviour.set('post-install', { kind: 'fail', message: 'connection reset', retryable: true, times: 2 });
    await executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
    await executor.idle();
    expect(events.filter((e) => e.type === 'step-retrying')).toHaveLength(2);
    expect(scripted.runs.filter((r) => r.step === 'post-install')).toHaveLength(3);
  });

  for (const step of ['disable', 'drain', 'stage-installer', 'reinstall', 'wait-ssh', 'post-install', 'reboot-verify'] as const) {
    it(`a failure at ${step} fails the job with its cause and tail, and !retry resumes from ${step}`, async () => {
      const { executor, store, scripted, events } = await setup();
      scripted.behaviour.set(step, { kind: 'fail', message: `boom in ${step}`, times: 1, tail: ['last line'] });
      const [job] = await executor.reinstall({ hosts: ['buildarm-02'], by: kevin, origin });
      await executor.idle();
      const failed = store.getJob(job!.id)!;
      expect(failed.state).toBe('failed');
      expect(failed.error).toMatchObject({ step, message: `boom in ${step}` });
      const ev = events.find((e) => e.type === 'step-failed');
      expect(ev && ev.type === 'step-failed' && ev.outputTail).toEqual(['last line']);
      const before = scripted.runs.length;
      await executor.retry('buildarm-02', { by: kevin, origin });
      await executor.idle();
      expect(scripted.runs[before]!.step).toBe(step);
      expect(store.getJob(job!.id)!.state).toBe('awaiting-approval');
    });
  }

  it('times a hung step out and fails the job', async () => {
    const { executor, store, scripted } = await setup({ timeouts: { drain: '100ms', sshReturn: '2s', step: '2s' } });
    scripted.behaviour.set('drain', { kind: 'hang' });
    const [job] = await executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
    await executor.idle();
    expect(store.getJob(job!.id)!.error).toMatchObject({ step: 'drain', code: 'E_TIMEOUT' });
  });

  it('cancels an abortable step at once and a non-abortable one at its end; the job ends cancelled', async () => {
    const { executor, store, scripted, events } = await setup();
    scripted.behaviour.set('drain', { kind: 'hang' });
    const [job] = await executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
    await new Promise((r) => setTimeout(r, 50));
    await executor.cancel('buildarm-01', { by: kevin, origin });
    await executor.idle();
    expect(store.getJob(job!.id)!.state).toBe('cancelled');
    expect(events.some((e) => e.type === 'cancelled')).toBe(true);
    expect(scripted.runs.map((r) => r.step)).toEqual(['disable', 'drain']);

    scripted.behaviour.set('drain', { kind: 'ok' });
    scripted.behaviour.set('stage-installer', { kind: 'ok', delayMs: 100 });
    const [job2] = await executor.reinstall({ hosts: ['buildarm-02'], by: kevin, origin });
    await new Promise((r) => setTimeout(r, 60));
    await executor.cancel('buildarm-02', { by: kevin, origin });
    await executor.idle();
    const j2 = store.getJob(job2!.id)!;
    expect(j2.state).toBe('cancelled');
    expect(j2.steps[2]!.status).toBe('succeeded');
    expect(j2.steps[3]!.status).toBe('skipped');
  });

  it('denies: the host stays disabled and the job ends denied', async () => {
    const { executor, store } = await setup();
    const [job] = await executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
    await executor.idle();
    await executor.deny('buildarm-01', { by: nirik, origin, reason: 'disk smart errors' });
    expect(store.getJob(job!.id)!.state).toBe('denied');
    await expect(executor.approve(['buildarm-01'], { by: nirik, origin })).rejects.toThrow(/not waiting for approval/);
  });

  it('resumes unfinished jobs after a restart, and a pending approval survives', async () => {
    const { executor, make, store, scripted } = await setup();
    scripted.behaviour.set('post-install', { kind: 'hang' });
    const [a] = await executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
    await new Promise((r) => setTimeout(r, 100));
    await executor.stop(10); // like a kill: the step never finished
    expect(store.getJob(a!.id)!.state).toBe('running');
    scripted.behaviour.set('post-install', { kind: 'ok' });
    const again = make();
    await again.start();
    await again.idle();
    expect(store.getJob(a!.id)!.state).toBe('awaiting-approval');
    const third = make();
    await third.start();
    expect(third.queue().map((j) => j.id)).toEqual([a!.id]);
    await third.approve(['buildarm-01'], { by: nirik, origin });
    await third.idle();
    expect(store.getJob(a!.id)!.state).toBe('succeeded');
  });

  it('approve all approves every waiting host, oldest first', async () => {
    const { executor } = await setup();
    await executor.reinstall({ hosts: ['group:arm'], by: kevin, origin });
    await executor.idle();
    const approved = await executor.approve('all', { by: nirik, origin });
    expect(approved.map((j) => j.host).sort()).toEqual(['buildarm-01', 'buildarm-02', 'buildarm-03']);
    await executor.idle();
  });

  it('a step that throws before its first await fails the job like any failure, and its timer leaves nothing behind', async () => {
    const config = testConfig();
    const store = new MemoryStore();
    await store.open();
    const steps = new ScriptedSteps().steps();
    const i = steps.findIndex((st) => st.name === 'stage-installer');
    steps[i] = { ...steps[i]!, retry: false, timeoutMs: () => 50, run: () => { throw new StepError('E_SYNC', 'thrown at once'); } };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const executor = new Executor({ config, store, koji: new FakeKoji(), connector: {} as never, drivers: {} as never, log: pino({ level: 'silent' }), steps });
      const [job] = await executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
      await executor.idle();
      expect(store.getJob(job!.id)!.error).toMatchObject({ step: 'stage-installer', code: 'E_SYNC', message: 'thrown at once' });
      await new Promise((r) => setTimeout(r, 150)); // past the step's timeout
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
