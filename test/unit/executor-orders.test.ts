/**
 * An operator's order (cancel, deny, retry, approve) is never silently undone by an order or a runner that
 * interleaves with it: one small test per case of issue 19. test/unit/executor-model.test.ts drives random
 * interleavings of all of them.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Executor } from '../../src/executor/executor';
import type { UserError } from '../../src/errors';
import type { Step, StepContext } from '../../src/steps/types';
import type { ExecutorEvent, Identity, Job, Origin } from '../../src/model';
import { MemoryStore } from '../../store/memory-store';
import { ControlledStore, Disk } from '../fakes/controlled-store';
import { FakeKoji } from '../fakes/fake-koji';
import { ScriptedSteps } from '../fakes/fake-steps';
import { makeJob } from '../fakes/jobs';
import { testConfig } from '../fakes/test-config';
import type { Store } from '../../store/store';

const kevin: Identity = { source: 'irc', id: 'kevin', display: 'kevin' };
const nirik: Identity = { source: 'irc', id: 'nirik', display: 'nirik' };
const origin: Origin = { adapter: 'irc', room: '#builders' };
const HOST = 'buildarm-03';

async function setup(options: { store?: Store; config?: Record<string, unknown>; steps?: (scripted: ScriptedSteps) => Step[] } = {}) {
  const config = testConfig(options.config ?? {});
  const store = options.store ?? new MemoryStore();
  await store.open();
  const koji = new FakeKoji();
  for (const h of config.hosts) koji.addHost(h.name);
  const scripted = new ScriptedSteps();
  const events: ExecutorEvent[] = [];
  const make = () => {
    const ex = new Executor({ config, store, koji, connector: {} as never, drivers: {} as never, log: pino({ level: 'silent' }), steps: options.steps?.(scripted) ?? scripted.steps() });
    ex.on((e) => events.push(e));
    return ex;
  };
  return { config, store, koji, scripted, events, make, executor: make() };
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: UserError) => ({ code: err.code, message: err.message }),
  );

const stateOf = (store: Store, id: string) => store.getJob(id)!.state;

describe('a cancel while a job starts', () => {
  it('a !cancel during !reinstall\'s durable write stays cancelled: no step runs, the runner does not start', async () => {
    const store = new ControlledStore();
    const { executor, scripted, events } = await setup({ store });
    store.pause();
    const queued = executor.reinstall({ hosts: [HOST], by: kevin, origin });
    await until(() => store.heldWrites().length > 0);
    expect(store.heldWrites()).toEqual([expect.stringMatching(/^save buildarm-03 .* running$/)]);
    // IRC, Slack and the console run concurrently: the cancel comes while the job's first write is on its way.
    const cancelled = executor.cancel(HOST, { by: nirik, origin });
    store.resume();
    const [job] = await queued;
    const reply = await cancelled;
    await executor.idle();
    expect(reply.state).toBe('cancelled');
    expect(stateOf(store, job!.id)).toBe('cancelled');
    expect(store.getJob(job!.id)!.cancel?.by).toEqual(nirik);
    expect(scripted.runs).toEqual([]);
    expect(store.disk.document().jobs.find((j) => j.id === job!.id)?.state).toBe('cancelled');
    expect(events.filter((e) => e.type === 'step-started')).toEqual([]);
  });

  it('a !cancel during !retry\'s write stays cancelled: the failed step does not run again', async () => {
    const store = new ControlledStore();
    const { executor, scripted } = await setup({ store });
    scripted.behaviour.set('drain', { kind: 'fail', message: 'drain broke', times: 1 });
    const [job] = await executor.reinstall({ hosts: [HOST], by: kevin, origin });
    await executor.idle();
    expect(stateOf(store, job!.id)).toBe('failed');
    const before = scripted.runs.length;
    store.pause();
    const retried = executor.retry(HOST, { by: kevin, origin });
    const cancelled = executor.cancel(HOST, { by: nirik, origin });
    store.resume();
    await retried;
    await cancelled;
    await executor.idle();
    expect(stateOf(store, job!.id)).toBe('cancelled');
    expect(scripted.runs.slice(before)).toEqual([]);
  });

  it('start() resumes each job as the store holds it at its turn: a cancel while start() works is kept', async () => {
    const store = new MemoryStore();
    await store.open();
    // A job with a cancel pending (start() ends it cancelled, with writes) and a running job after it.
    const a = makeJob({ host: 'buildarm-01', id: 'j-a', createdAt: '2026-01-01T00:00:00.000Z', cancel: { by: kevin, at: '2026-01-01T00:01:00.000Z' } });
    const b = makeJob({ host: HOST, id: 'j-b', createdAt: '2026-01-01T00:00:01.000Z' });
    await store.saveJobs([a, b]);
    const { executor, scripted } = await setup({ store });
    const started = executor.start();
    const cancelled = executor.cancel(HOST, { by: nirik, origin });
    await started;
    await cancelled;
    await executor.idle();
    expect(stateOf(store, 'j-a')).toBe('cancelled');
    expect(stateOf(store, 'j-b')).toBe('cancelled');
    expect(scripted.runs.filter((r) => r.host === HOST)).toEqual([]);
  });

  it('!retry while the failed job\'s runner still records its failure (Koji comment) is not undone by that runner', async () => {
    const { executor, store, koji, scripted } = await setup();
    scripted.behaviour.set('drain', { kind: 'fail', message: 'drain broke', times: 1 });
    let letCommentGo!: () => void;
    const commentHeld = new Promise<void>((r) => (letCommentGo = r));
    const setHostComment = koji.setHostComment.bind(koji);
    koji.setHostComment = async (name, comment) => {
      if (comment.includes('failed')) await commentHeld;
      return setHostComment(name, comment);
    };
    const [job] = await executor.reinstall({ hosts: [HOST], by: kevin, origin });
    await until(() => store.getJob(job!.id)!.state === 'failed');
    const retried = executor.retry(HOST, { by: kevin, origin });
    letCommentGo();
    await retried;
    await executor.idle();
    expect(stateOf(store, job!.id)).toBe('awaiting-approval');
    expect(scripted.runs.filter((r) => r.step === 'drain').length).toBe(2);
  });
});

describe('a cancel at the approval gate', () => {
  /** Steps whose last one (reboot-verify) lets the test act just before the job's approval-gate write. */
  async function atTheGate(act: (executor: Executor, job: Job) => void) {
    const store = new ControlledStore();
    const rig = await setup({ store });
    const { executor } = rig;
    store.pause();
    const queued = executor.reinstall({ hosts: [HOST], by: kevin, origin });
    // Let the job's writes through one by one until the one that puts it into awaiting-approval is held.
    await until(() => store.heldWrites().some((w) => w.endsWith(' awaiting-approval')) || (store.releaseNext() && false));
    const [job] = await queued;
    act(executor, job!);
    store.resume();
    await executor.idle();
    return { ...rig, store, job: job! };
  }

  it('a !cancel in the gate\'s write ends the job cancelled; a second !cancel and !approve are refused; nothing is enabled', async () => {
    let cancelled!: Promise<Job>;
    const { executor, store, scripted, job, events } = await atTheGate((ex) => {
      cancelled = ex.cancel(HOST, { by: nirik, origin });
    });
    await cancelled;
    await executor.idle();
    expect(stateOf(store, job.id)).toBe('cancelled');
    expect(await refusal(executor.cancel(HOST, { by: nirik, origin }))).toMatchObject({ code: 'E_NO_JOB' });
    expect(await refusal(executor.approve([HOST], { by: nirik, origin }))).toMatchObject({ code: 'E_NOT_WAITING' });
    await executor.idle();
    expect(scripted.runs.filter((r) => r.step === 'enable')).toEqual([]);
    // Chat never offered a cancelled job for approval.
    expect(events.some((e) => e.type === 'awaiting-approval')).toBe(false);
    expect(events.filter((e) => e.type === 'cancelled').length).toBe(1);
  });

  it('a !deny in the gate\'s write: the job ends denied and chat is not told it is ready afterwards', async () => {
    let denied!: Promise<Job>;
    const { executor, store, job, events } = await atTheGate((ex) => {
      denied = ex.deny(HOST, { by: nirik, origin, reason: 'no' });
    });
    await denied;
    await executor.idle();
    expect(stateOf(store, job.id)).toBe('denied');
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'awaiting-approval')).toEqual([]);
    expect(types).toContain('denied');
  });

  it('a job waiting with a cancel pending (written before a crash) is ended cancelled by start(), and cannot be approved', async () => {
    const disk = new Disk();
    const store = new ControlledStore(disk);
    await store.open();
    const waiting = makeJob({ host: HOST, id: 'j-w', state: 'awaiting-approval', current: 7, cancel: { by: nirik, at: new Date().toISOString() } });
    waiting.steps.forEach((s, i) => (s.status = i < 7 ? 'succeeded' : 'pending'));
    await store.saveJob(waiting);
    const { executor, scripted } = await setup({ store });
    expect(await refusal(executor.approve([HOST], { by: nirik, origin }))).toMatchObject({ code: 'E_CANCELLING' });
    await executor.start();
    await executor.idle();
    expect(stateOf(store, 'j-w')).toBe('cancelled');
    expect(await refusal(executor.approve([HOST], { by: nirik, origin }))).toMatchObject({ code: 'E_NOT_WAITING' });
    expect(scripted.runs.filter((r) => r.step === 'enable')).toEqual([]);
  });

  it('a cancel while a step waits to be retried stops there: the step does not run again', async () => {
    const { executor, store, scripted, events } = await setup({ config: { retry: { attempts: 3, backoff: '3s', maxBackoff: '3s' } } });
    scripted.behaviour.set('stage-installer', { kind: 'fail', message: 'mirror down', retryable: true, times: 1 });
    const [job] = await executor.reinstall({ hosts: [HOST], by: kevin, origin });
    await until(() => events.some((e) => e.type === 'step-retrying'));
    await executor.cancel(HOST, { by: nirik, origin });
    await executor.idle();
    expect(stateOf(store, job!.id)).toBe('cancelled');
    expect(scripted.runs.filter((r) => r.step === 'stage-installer').length).toBe(1);
  });
});

describe('an approval or denial bound to a job', () => {
  async function waitingJob(rig: Awaited<ReturnType<typeof setup>>) {
    const [job] = await rig.executor.reinstall({ hosts: [HOST], by: kevin, origin });
    await rig.executor.idle();
    return job!;
  }

  it('an approval meant for an earlier job of the host is refused, saying what became of that job; the later job waits', async () => {
    const rig = await setup();
    const first = await waitingJob(rig);
    await rig.executor.cancel(HOST, { by: kevin, origin });
    const second = await waitingJob(rig);
    const r = await refusal(rig.executor.approve([HOST], { by: nirik, origin, jobIds: { [HOST]: first.id } }));
    expect(r).toMatchObject({ code: 'E_NOT_WAITING' });
    expect(r!.message).toBe(
      `${HOST}'s job ${first.id} is no longer waiting for approval (it was cancelled by kevin); ${HOST} is now in job ${second.id} (waiting for approval); nothing approved`,
    );
    const d = await refusal(rig.executor.deny(HOST, { by: nirik, origin, jobId: first.id }));
    expect(d!.message).toMatch(/no longer waiting for approval \(it was cancelled by kevin\).*nothing denied$/);
    expect(stateOf(rig.store, second.id)).toBe('awaiting-approval');
    await rig.executor.approve([HOST], { by: nirik, origin, jobIds: { [HOST]: second.id } });
    await rig.executor.idle();
    expect(stateOf(rig.store, second.id)).toBe('succeeded');
  });
});

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setImmediate(r));
  }
}
