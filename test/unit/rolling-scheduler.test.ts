/**
 * The rolling scheduler against the REAL executor and MemoryStore, with scripted steps (which steps run does not
 * matter to the scheduler). Samples the fleet on every executor event to prove the limits hold at all times.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../store/memory-store';
import { Executor } from '../../src/executor/executor';
import { StepError, UserError } from '../../src/errors';
import { createRollingScheduler } from '../../src/rolling/scheduler';
import { ROLLING_IDENTITY } from '../../src/rolling/identity';
import type { RollingScheduler } from '../../src/rolling/types';
import { reconcileRun } from '../../src/rolling/reconcile';
import { renderCounts } from '../../src/present/rolling-lines';
import { tallyRun } from '../../src/rolling/tally';
import type { Step } from '../../src/steps/types';
import { ACTIVE_JOB_STATES, type ExecutorEvent, type Identity, type Origin, type RollingRun, type StepName } from '../../src/model';
import { FakeKoji } from '../fakes/fake-koji';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';

const kevin: Identity = { source: 'irc', id: 'kevin', display: 'kevin' };
const nirik: Identity = { source: 'irc', id: 'nirik', display: 'nirik' };
const origin: Origin = { adapter: 'irc', room: '#builders' };
const log = pino({ level: process.env.RLOG ?? 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fleet(n: number, more: (i: number) => Record<string, unknown> = () => ({})) {
  return Array.from({ length: n }, (_, i) => ({ name: `build-${String(i + 1).padStart(2, '0')}`, kind: 'baremetal', ...more(i) }));
}

interface Sample {
  active: string[];
  waiting: number;
}

interface RigOptions {
  hosts: unknown[];
  rolling?: Record<string, unknown>;
  clock?: () => Date;
  /** host -> the step that fails for it (every time). */
  failing?: Map<string, StepName>;
  /** Delay of each host's `reinstall` step, so jobs overlap. */
  delayMs?: number;
}

/** Scripted steps that also disable/enable the host in the fake Koji, and fail where the test says. */
function labSteps(scripted: ScriptedSteps, failing: Map<string, StepName>): Step[] {
  return scripted.steps().map((step) => ({
    ...step,
    async run(ctx) {
      if (failing.get(ctx.host.name) === step.name) throw new StepError('E_INJECTED', `injected failure: ${ctx.host.name} broke in ${step.name}`);
      if (step.name === 'disable') await ctx.koji.disableHost(ctx.host.name);
      await step.run(ctx);
      if (step.name === 'enable') await ctx.koji.enableHost(ctx.host.name);
    },
  }));
}

const rigs: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of rigs.splice(0)) await stop();
});

async function createRig(o: RigOptions) {
  const config = testConfig({ rolling: o.rolling ?? {} }, o.hosts);
  const store = new MemoryStore();
  await store.open();
  const koji = new FakeKoji();
  for (const h of config.hosts) koji.addHost(h.name, h.arch);
  const scripted = new ScriptedSteps();
  scripted.behaviour.set('reinstall', { kind: 'ok', delayMs: o.delayMs ?? 3 });
  const steps = labSteps(scripted, o.failing ?? new Map());
  const events: ExecutorEvent[] = [];
  const samples: Sample[] = [];
  const r = {
    config,
    store,
    koji,
    events,
    samples,
    executor: undefined as unknown as Executor,
    scheduler: undefined as unknown as RollingScheduler,
    notices: () => events.filter((e): e is Extract<ExecutorEvent, { type: 'notice' }> => e.type === 'notice').map((e) => e.text),
    /** Starts an executor and a scheduler on the store (again after a kill). */
    async boot() {
      const executor = new Executor({ config, store, koji, connector: {} as never, drivers: {} as never, log, steps });
      executor.on((e) => {
        events.push(e);
        const active = store.listJobs({ states: ACTIVE_JOB_STATES });
        samples.push({ active: active.map((j) => j.host), waiting: active.filter((j) => j.state === 'awaiting-approval').length });
      });
      const scheduler = createRollingScheduler({ executor, store, config, log, clock: o.clock, tickMs: 15 });
      r.executor = executor;
      r.scheduler = scheduler;
      // As in the composition root: the scheduler resumes its run first, then the executor its jobs.
      await scheduler.activate();
      await executor.start();
    },
    /** Stops both without letting jobs finish (running steps are aborted where they are). */
    async kill() {
      await r.scheduler.close();
      await r.executor.stop(0);
    },
    /** Lets the run go on until `until` holds; approves waiting hosts when asked to. */
    async drive(until: (run: RollingRun) => boolean, approve = false): Promise<RollingRun> {
      for (let i = 0; i < 3000; i++) {
        await r.executor.idle();
        await r.scheduler.settled();
        const run = r.scheduler.current();
        if (run && until(run)) return run;
        if (approve && r.executor.queue().length) await r.executor.approve('all', { by: nirik, origin });
        else await sleep(3);
      }
      throw new Error(`the run did not get there: ${JSON.stringify(r.scheduler.current())}`);
    },
  };
  await r.boot();
  rigs.push(async () => {
    await r.scheduler.close();
    await r.executor.stop(0);
  });
  return r;
}

const finished = (run: RollingRun) => run.state === 'finished';

describe('rolling scheduler', () => {
  it('20 hosts at fraction 0.25: never more than 5 in flight (waiting for approval included), all 20 reinstalled, least recently reinstalled first', async () => {
    const hosts = fleet(20);
    const r = await createRig({ hosts, rolling: { fraction: 0.25 } });
    // A shuffled history; build-05 and build-12 were never reinstalled by rekick (oldest).
    const seeded = new Map<string, string>();
    hosts.forEach((h, i) => {
      if (i === 4 || i === 11) return;
      seeded.set(h.name, new Date(Date.UTC(2026, 0, 1 + ((i * 7) % 20))).toISOString());
    });
    for (const [name, at] of seeded) await r.store.saveHost({ name, lastReinstalledAt: at });
    const expectedOrder = ['build-05', 'build-12', ...[...seeded].sort((a, b) => a[1].localeCompare(b[1])).map(([n]) => n)];

    await r.scheduler.start({ by: kevin, origin, continuous: false });
    expect(r.scheduler.current()!.order).toEqual(expectedOrder);
    // Approve only when the run is stuck: every host in flight waits for approval then.
    const run = await r.drive(finished, true);

    expect(Math.max(...r.samples.map((s) => s.active.length))).toBe(5);
    expect(r.samples.every((s) => s.active.length <= 5)).toBe(true);
    expect(r.samples.some((s) => s.waiting === 5)).toBe(true);
    expect(run.done.sort()).toEqual(hosts.map((h) => h.name));
    expect(run.failed).toEqual([]);
    const started = r.events.filter((e) => e.type === 'job-queued').map((e) => (e.type === 'job-queued' ? e.job.host : ''));
    expect(started).toEqual(expectedOrder);
    for (const h of hosts) {
      const rec = r.store.getHost(h.name)!;
      expect(rec.lastOutcome).toBe('succeeded');
      expect(rec.lastReinstalledAt! > '2026-06-01').toBe(true);
      expect(r.koji.hosts.get(h.name)!.enabled).toBe(true);
    }
    expect(r.store.listJobs().every((j) => j.options.rollingRunId === run.id && j.requestedBy.source === 'rolling')).toBe(true);
  });

  it('a 20-host run says at most 22 lines in chat (start, one per pass where hosts ended, summary) and every host end appears', async () => {
    const hosts = fleet(20);
    const r = await createRig({ hosts, rolling: { fraction: 0.25, autoApprove: true } });
    await r.scheduler.start({ by: kevin, origin, continuous: false });
    await r.drive(finished);
    const lines = r.notices();
    // Bound: 1 start line + at most 20 progress lines (one per pass in which hosts ended) + 1 summary = 22.
    expect(lines.length).toBeLessThanOrEqual(22);
    expect(lines[0]).toMatch(/^rolling run \S+ started by kevin: 20 host\(s\) of the fleet, 5 at a time \(fraction 0.25\)/);
    expect(lines[0]).toMatch(/no past reinstalls to estimate/);
    for (const h of hosts) expect(lines.some((l) => l.includes(`${h.name} reinstalled`))).toBe(true);
    expect(lines.at(-1)).toMatch(/finished after .*: 20\/20 reinstalled, none failed/);
    expect(lines.some((l) => /\d+\/20 done, \d+ in flight, 0 failed, \d+ left; ETA ~/.test(l))).toBe(true);
    // Auto-approval is the executor's, audited as such.
    const auto = r.store.listAudit().filter((a) => a.action === 'auto-approve');
    expect(auto).toHaveLength(20);
    expect(auto.every((a) => a.who.source === ROLLING_IDENTITY.source)).toBe(true);
    expect(r.store.listJobs().every((j) => j.approval?.auto === true)).toBe(true);

    // The next run estimates its duration from those 20 reinstalls: 4 waves of the median reinstall time.
    await r.scheduler.start({ by: kevin, origin, continuous: false });
    expect(r.notices().at(-1)).toMatch(/; estimated \d+s \(from 20 past reinstalls, approvals not counted\)$/);
    await r.scheduler.stop({ by: kevin, origin });
    await r.executor.idle();
  });

  it('auto-approves every host waiting in a pass side by side (their durable writes shared), not one after another', async () => {
    const hosts = fleet(5);
    const r = await createRig({ hosts, rolling: { fraction: 1, autoApprove: false } });
    await r.scheduler.start({ by: kevin, origin, continuous: false });
    for (let i = 0; i < 3000 && r.executor.queue().length < 5; i++) await sleep(3);
    expect(r.executor.queue()).toHaveLength(5);
    const order: string[] = [];
    const approve = r.executor.approve.bind(r.executor);
    r.executor.approve = async (names, ctx) => {
      order.push(`asked ${String(names)}`);
      const jobs = await approve(names, ctx);
      order.push(`done ${String(names)}`);
      return jobs;
    };
    r.config.rolling.autoApprove = true;
    await r.scheduler.tick();
    // All five asked before the first was done: one pass does not hold a host back behind another's writes.
    expect(order.slice(0, 5).every((o) => o.startsWith('asked'))).toBe(true);
    expect(order.filter((o) => o.startsWith('done'))).toHaveLength(5);
    await r.drive(finished);
    expect(r.store.listAudit().filter((a) => a.action === 'auto-approve')).toHaveLength(5);
  });

  it("auto-approves the job it saw waiting, by its id: a later job of the same host (a person's !reinstall) is not approved by that pass", async () => {
    const r = await createRig({ hosts: fleet(1), rolling: { fraction: 1, autoApprove: false } });
    await r.scheduler.start({ by: kevin, origin, continuous: false });
    for (let i = 0; i < 3000 && r.executor.queue().length < 1; i++) await sleep(3);
    const seen = r.executor.queue()[0]!;
    expect(seen.options.rollingRunId).toBeDefined();
    // The pass's approval is held between its look at the waiting jobs and the executor's decision; meanwhile the
    // host's job is cancelled and a person starts another one, which waits for approval in its turn.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let asked = 0;
    const approve = r.executor.approve.bind(r.executor);
    r.executor.approve = async (names, ctx) => {
      if (ctx.auto) {
        asked += 1;
        await gate;
      }
      return approve(names, ctx);
    };
    r.config.rolling.autoApprove = true;
    const pass = r.scheduler.tick();
    for (let i = 0; i < 3000 && asked < 1; i++) await sleep(3);
    expect(asked).toBe(1);
    await r.executor.cancel('build-01', { by: kevin, origin });
    const [later] = await r.executor.reinstall({ hosts: ['build-01'], by: kevin, origin });
    for (let i = 0; i < 3000 && !r.executor.queue().some((j) => j.id === later!.id); i++) await sleep(3);
    expect(r.executor.queue().map((j) => j.id)).toEqual([later!.id]);
    release();
    await pass;
    await r.executor.idle();
    await r.scheduler.settled();
    expect(r.store.getJob(seen.id)!.state).toBe('cancelled');
    expect(r.store.getJob(later!.id)!.state).toBe('awaiting-approval');
    expect(r.store.getJob(later!.id)!.approval).toBeUndefined();
    expect(r.notices()).toContainEqual(expect.stringMatching(new RegExp(`build-01 was not approved automatically: build-01's job ${seen.id} is no longer waiting for approval \\(it was cancelled by kevin\\); build-01 is now in job ${later!.id}`)));
  });

  it('starts the due hosts of a pass side by side, records them in one save, and a host refused does not hold back the others', async () => {
    const hosts = fleet(5);
    const r = await createRig({ hosts, rolling: { fraction: 1, autoApprove: true } });
    const order: string[] = [];
    const reinstall = r.executor.reinstall.bind(r.executor);
    r.executor.reinstall = async (req) => {
      order.push(`asked ${req.hosts.join()}`);
      await sleep(5);
      if (req.hosts[0] === 'build-03') throw new UserError('build-03 is in the way (injected)', 'E_BUSY');
      const jobs = await reinstall(req);
      order.push(`done ${req.hosts.join()}`);
      return jobs;
    };
    const savedJobs: number[] = [];
    const saveRolling = r.store.saveRolling.bind(r.store);
    r.store.saveRolling = async (run) => {
      if (order.length) savedJobs.push(Object.keys(run?.jobs ?? {}).length);
      return saveRolling(run);
    };
    await r.scheduler.start({ by: kevin, origin, continuous: false });
    await r.scheduler.settled();
    // All five asked before the first was done.
    expect(order.slice(0, 5).every((o) => o.startsWith('asked'))).toBe(true);
    expect(order.filter((o) => o.startsWith('done'))).toHaveLength(4);
    const run = r.scheduler.current()!;
    expect(Object.keys(run.jobs).sort()).toEqual(['build-01', 'build-02', 'build-04', 'build-05']);
    // The four starts were recorded by one save of the run, not one per host.
    expect(savedJobs[0]).toBe(4);
    r.executor.reinstall = reinstall;
    const done = await r.drive(finished);
    expect(done.done.sort()).toEqual(hosts.map((h) => h.name));
  });

  it('passes on the events that can change its decisions (a job queued, waiting, ended), not on every step event', async () => {
    const hosts = fleet(3);
    const r = await createRig({ hosts, rolling: { fraction: 1, autoApprove: false } });
    await r.scheduler.start({ by: kevin, origin, continuous: false });
    for (let i = 0; i < 3000 && r.executor.queue().length < 3; i++) await sleep(3);
    await r.scheduler.settled();
    let reads = 0;
    const peekJobs = r.store.peekJobs.bind(r.store);
    r.store.peekJobs = (filter) => {
      reads++;
      return peekJobs(filter);
    };
    const job = r.store.listJobs({ host: 'build-01' })[0]!;
    for (let i = 0; i < 20; i++) r.executor.emit({ type: 'step-progress', job, step: 'post-install', message: `line ${i}` });
    r.executor.emit({ type: 'step-succeeded', job, step: 'post-install', index: 5, durationMs: 1 });
    await r.scheduler.settled();
    // A pass reads every host of the run: none ran for those.
    expect(reads).toBe(0);
    r.executor.emit({ type: 'enabled', job });
    await r.scheduler.settled();
    expect(reads).toBeGreaterThan(0);
    await r.executor.approve('all', { by: nirik, origin });
    await r.drive(finished);
  });

  it('per-arch and per-virthost limits hold in a mixed fleet; virthosts whose guests exceed maxPerArch are left out, their guests go alone', async () => {
    const hosts = [
      ...fleet(3, () => ({ arch: 'aarch64' })).map((h) => ({ ...h, name: h.name.replace('build', 'arm') })),
      ...fleet(3).map((h) => ({ ...h, name: h.name.replace('build', 'x86') })),
      ...fleet(2, () => ({ arch: 'ppc64le' })).map((h) => ({ ...h, name: h.name.replace('build', 'ppc') })),
      { name: 'vmhost-01', kind: 'virthost' },
      { name: 'vmhost-02', kind: 'virthost' },
      ...[1, 2, 3, 4].map((i) => ({ name: `vm-0${i}`, kind: 'virt', virthost: 'vmhost-01' })),
      ...[5, 6].map((i) => ({ name: `vm-0${i}`, kind: 'virt', virthost: 'vmhost-02' })),
    ];
    const r = await createRig({ hosts, rolling: { fraction: 1, maxPerArch: 2, maxPerVirthost: 1, autoApprove: true } });
    const byName = new Map(r.config.hosts.map((h) => [h.name, h]));
    await r.scheduler.start({ by: kevin, origin, continuous: false });
    expect(r.scheduler.current()!.slots).toBe(16);
    // Each virthost with its x86_64 guests would put more than 2 x86_64 hosts in flight: they cannot be taken.
    expect(r.scheduler.current()!.leftOut!.map((x) => x.host)).toEqual(['vmhost-01', 'vmhost-02']);
    const run = await r.drive(finished);
    expect(run.done).toHaveLength(14);
    let sawTwoOfAnArch = false;
    for (const s of r.samples) {
      const perArch = new Map<string, number>();
      const perVirthost = new Map<string, number>();
      for (const name of s.active) {
        const h = byName.get(name)!;
        perArch.set(h.arch, (perArch.get(h.arch) ?? 0) + 1);
        if (h.virthost) perVirthost.set(h.virthost, (perVirthost.get(h.virthost) ?? 0) + 1);
        if (h.virthost) expect(s.active).not.toContain(h.virthost);
      }
      expect(Math.max(0, ...perArch.values())).toBeLessThanOrEqual(2);
      expect(Math.max(0, ...perVirthost.values())).toBeLessThanOrEqual(1);
      if ([...perArch.values()].includes(2)) sawTwoOfAnArch = true;
    }
    expect(sawTwoOfAnArch).toBe(true);
  });

  it('a virthost is taken with its guests: 1 + its guests in slots, only when they fit, the slots kept for it meanwhile; its guests count as done', async () => {
    const hosts = [...fleet(5), { name: 'vmhost-01', kind: 'virthost' }, ...[1, 2].map((i) => ({ name: `vm-0${i}`, kind: 'virt', virthost: 'vmhost-01' }))];
    const r = await createRig({ hosts, rolling: { fraction: 0.375, autoApprove: true } });
    // build-01 never reinstalled (first), then the virthost and its guests, then the other builders.
    const day = (d: number) => new Date(Date.UTC(2026, 0, d)).toISOString();
    await r.store.saveHost({ name: 'vmhost-01', lastReinstalledAt: day(1) });
    for (const g of ['vm-01', 'vm-02']) await r.store.saveHost({ name: g, lastReinstalledAt: day(2) });
    for (const b of ['build-02', 'build-03', 'build-04', 'build-05']) await r.store.saveHost({ name: b, lastReinstalledAt: day(3) });
    await r.scheduler.start({ by: kevin, origin, continuous: false });
    const started = r.scheduler.current()!;
    expect(started.slots).toBe(3);
    expect(started.virthosts).toEqual(['vmhost-01']);
    expect(r.notices()[0]).toMatch(/started by kevin: 7 builders and 1 virthost of the fleet, 3 at a time/);
    const run = await r.drive(finished);

    const queued = r.events.filter((e) => e.type === 'job-queued').map((e) => (e.type === 'job-queued' ? e.job : undefined)!);
    const vhJob = queued.find((j) => j.host === 'vmhost-01')!;
    // Taken with its guests (linked jobs), and only once nothing else was in flight: 3 slots for 3 hosts.
    for (const g of ['vm-01', 'vm-02']) expect(queued.find((j) => j.host === g)!.options.virthostJobId).toBe(vhJob.id);
    expect(queued.filter((j) => j.host.startsWith('vm-')).length).toBe(2);
    const atVirthost = r.samples[r.events.findIndex((e) => e.type === 'job-queued' && e.job.id === vhJob.id)]!;
    expect(atVirthost.active.sort()).toEqual(['vm-01', 'vm-02', 'vmhost-01']);
    // build-02 waited for the virthost though it had a free slot (the slots were kept for it).
    expect(queued.findIndex((j) => j.host === 'build-02')).toBeGreaterThan(queued.findIndex((j) => j.host === 'vmhost-01'));
    expect(r.samples.every((s) => s.active.length <= 3)).toBe(true);
    expect(run.done.sort()).toEqual(hosts.map((h) => h.name).sort());
    expect(run.jobs['vm-01']).toBe(queued.find((j) => j.host === 'vm-01')!.id);
    expect(r.notices().at(-1)).toMatch(/8\/8 reinstalled, none failed/);
    expect(r.notices().some((n) => /\d+\/8 done \(\d\/7 builders, [01]\/1 virthosts\)/.test(n))).toBe(true);
  });

  it('a virthost whose guests can never fit in the slots is left out, named in the start line and the status, with the command to do it by hand', async () => {
    const hosts = [...fleet(3), { name: 'vmhost-01', kind: 'virthost' }, ...[1, 2, 3, 4].map((i) => ({ name: `vm-0${i}`, kind: 'virt', virthost: 'vmhost-01' }))];
    const r = await createRig({ hosts, rolling: { fraction: 0.25, autoApprove: true, maxPerVirthost: 1 } });
    await r.scheduler.start({ by: kevin, origin, continuous: false });
    const line = 'vmhost-01 left out: it and its 4 guests need 5 slots, the run has 2; reinstall it by hand: !reinstall vmhost-01';
    expect(r.notices()[0]).toContain(line);
    expect(r.notices()[0]).toMatch(/: 7 host\(s\) of the fleet, 2 at a time/);
    expect(r.scheduler.status()).toContain(`  ${line}`);
    const run = await r.drive(finished);
    expect(run.order).not.toContain('vmhost-01');
    // Its guests went on their own, rolling.maxPerVirthost at a time.
    expect(run.done.sort()).toEqual(['build-01', 'build-02', 'build-03', 'vm-01', 'vm-02', 'vm-03', 'vm-04']);
    expect(r.store.listJobs({ host: 'vmhost-01' })).toEqual([]);
    expect(r.samples.every((s) => s.active.filter((h) => h.startsWith('vm-')).length <= 1)).toBe(true);
  });

  it('2 injected failures with failureBudget 2 pause the run naming both; failed hosts stay disabled; resume goes on', async () => {
    const hosts = fleet(8);
    const failing = new Map<string, StepName>([
      ['build-02', 'drain'],
      ['build-03', 'post-install'],
    ]);
    const r = await createRig({ hosts, failing, rolling: { fraction: 0.25, failureBudget: 2, autoApprove: true } });
    await r.scheduler.start({ by: kevin, origin, continuous: false });
    const paused = await r.drive((run) => run.state !== 'running');
    expect(paused.state).toBe('paused');
    expect(paused.failed.map((f) => f.host).sort()).toEqual(['build-02', 'build-03']);
    expect(paused.failed.find((f) => f.host === 'build-02')).toMatchObject({ step: 'drain', message: 'injected failure: build-02 broke in drain' });
    const pauseLine = r.notices().find((l) => /paused: 2 reinstall\(s\) failed/.test(l))!;
    expect(pauseLine).toContain('build-02 at drain: injected failure: build-02 broke in drain');
    expect(pauseLine).toContain('build-03 at post-install: injected failure: build-03 broke in post-install');
    expect(pauseLine).toMatch(/!rolling resume/);
    expect(r.koji.hosts.get('build-02')!.enabled).toBe(false);
    expect(r.koji.hosts.get('build-03')!.enabled).toBe(false);
    expect(r.scheduler.status().join('\n')).toMatch(/paused — .*2 failed[\s\S]*failed \(stay disabled\): build-0[23]/);
    expect(r.store.listAudit().some((a) => a.action === 'rolling-pause' && a.who.source === 'rolling')).toBe(true);

    // Paused: nothing new starts, however long we wait.
    const jobsAtPause = r.store.listJobs().length;
    await sleep(60);
    await r.scheduler.tick();
    await r.executor.idle();
    expect(r.store.listJobs().length).toBe(jobsAtPause);
    expect(jobsAtPause).toBeLessThan(8);

    await expect(r.scheduler.start({ by: kevin, origin, continuous: false })).rejects.toThrow(/is paused .*!rolling stop ends it first/);
    await r.scheduler.resume({ by: kevin, origin });
    const run = await r.drive(finished);
    expect(run.done.sort()).toEqual(['build-01', 'build-04', 'build-05', 'build-06', 'build-07', 'build-08']);
    expect(run.failed.map((f) => f.host).sort()).toEqual(['build-02', 'build-03']);
    expect(r.notices().at(-1)).toMatch(/finished .*6\/8 reinstalled, 2 failed \(still disabled\)/);
    expect(r.koji.hosts.get('build-02')!.enabled).toBe(false);
  });

  it('killed mid-run and started again on the same store, it continues the same run with the same counts and order', async () => {
    const hosts = fleet(10);
    const r = await createRig({ hosts, delayMs: 25, rolling: { fraction: 0.3, autoApprove: true } });
    await r.scheduler.start({ by: kevin, origin, continuous: false });
    for (let i = 0; i < 2000 && (r.store.getRolling()?.done.length ?? 0) < 3; i++) await sleep(2);
    await r.kill();
    const before = r.store.getRolling()!;
    const expected = structuredClone(before);
    reconcileRun(expected, r.store);
    const counts = renderCounts(expected, tallyRun(expected, r.store));
    expect(before.state).toBe('running');
    expect(before.done.length).toBeGreaterThanOrEqual(3);
    expect(before.done.length).toBeLessThan(10);
    const inFlight = r.store.listJobs({ states: ACTIVE_JOB_STATES }).map((j) => j.host);
    expect(inFlight.length).toBeGreaterThan(0);

    await r.boot();
    const after = r.scheduler.current()!;
    expect(after.id).toBe(before.id);
    expect(after.order).toEqual(before.order);
    // The resumed line says the counts at the restart; by now resumed jobs may have gone on from there.
    expect(after.done.slice(0, expected.done.length)).toEqual(expected.done);
    expect(after.failed).toEqual([]);
    expect(after.jobs).toMatchObject(before.jobs);
    expect(r.notices()).toContain(`rolling ${before.id} resumed after a restart (running): ${counts}`);

    const run = await r.drive(finished);
    expect(run.id).toBe(before.id);
    expect(run.done.sort()).toEqual(hosts.map((h) => h.name));
    // No host started twice: one job per host, all of this run.
    const jobs = r.store.listJobs();
    expect(jobs.map((j) => j.host).sort()).toEqual(hosts.map((h) => h.name));
    expect(jobs.every((j) => j.options.rollingRunId === before.id && j.state === 'succeeded')).toBe(true);
    // The hosts in flight at the kill were resumed by the new executor, not started again.
    for (const h of inFlight) expect(run.jobs[h]).toBe(before.jobs[h]);
  });

  it('--continuous with a 1h cadence starts hosts as they come due and not before (fake clock)', async () => {
    const t0 = Date.now();
    let now = t0;
    const hosts = fleet(4);
    const r = await createRig({ hosts, clock: () => new Date(now), rolling: { fraction: 1, cadence: '1h', autoApprove: true } });
    const min = 60_000;
    await r.store.saveHost({ name: 'build-01', lastReinstalledAt: new Date(t0 - 120 * min).toISOString() });
    await r.store.saveHost({ name: 'build-02', lastReinstalledAt: new Date(t0 - 30 * min).toISOString() });
    await r.store.saveHost({ name: 'build-03', lastReinstalledAt: new Date(t0 - 10 * min).toISOString() });
    const startedHosts = () => r.events.flatMap((e) => (e.type === 'job-queued' ? [e.job.host] : []));
    const at = async (minutes: number) => {
      now = t0 + minutes * min;
      await r.scheduler.tick();
      await r.drive(() => r.store.listJobs({ states: ACTIVE_JOB_STATES }).length === 0);
      return startedHosts();
    };

    await r.scheduler.start({ by: kevin, origin, continuous: true });
    await r.drive(() => r.store.listJobs({ states: ACTIVE_JOB_STATES }).length === 0);
    expect(startedHosts()).toEqual(['build-04', 'build-01']);
    expect(await at(29)).toEqual(['build-04', 'build-01']);
    expect(r.scheduler.status().join('\n')).toMatch(/next due: build-02 at/);
    expect(await at(31)).toEqual(['build-04', 'build-01', 'build-02']);
    expect(await at(49)).toHaveLength(3);
    expect(await at(51)).toEqual(['build-04', 'build-01', 'build-02', 'build-03']);
    // build-04 and build-01 were reinstalled (real time) just after t0: due again one cadence later.
    expect(await at(59)).toHaveLength(4);
    const sixth = await at(62);
    expect(sixth.slice(4).sort()).toEqual(['build-01', 'build-04']);
    const run = r.scheduler.current()!;
    expect(run.state).toBe('running');
    expect(run.continuous).toBe(true);
    await r.scheduler.stop({ by: kevin, origin });
    expect(r.scheduler.current()!.state).toBe('stopped');
    expect(r.notices().at(-1)).toMatch(/stopped by kevin/);
  });

  it('starts hosts only inside rolling.window', async () => {
    let now = Date.parse('2026-11-28T12:00:00Z'); // a Saturday
    const r = await createRig({ hosts: fleet(3), clock: () => new Date(now), rolling: { fraction: 1, window: 'Mon-Fri 08:00-18:00 UTC', autoApprove: true } });
    await r.scheduler.start({ by: kevin, origin, continuous: false });
    expect(r.notices()[0]).toMatch(/starts hosts only within Mon-Fri 08:00-18:00 UTC/);
    await r.scheduler.tick();
    await r.executor.idle();
    expect(r.store.listJobs()).toHaveLength(0);
    expect(r.scheduler.status().join('\n')).toMatch(/outside the window Mon-Fri 08:00-18:00 UTC: no host starts until 2026-11-30T08:00:00.000Z/);
    now = Date.parse('2026-11-30T07:59:00Z');
    await r.scheduler.tick();
    expect(r.store.listJobs()).toHaveLength(0);
    now = Date.parse('2026-11-30T08:00:00Z');
    await r.scheduler.tick();
    expect(r.store.listJobs()).toHaveLength(3);
    await r.drive(finished);
  });

  it('a progress line without host ends comes at most once every 5 minutes, and only when something changed', async () => {
    let now = Date.now();
    const r = await createRig({ hosts: fleet(4), clock: () => new Date(now), rolling: { fraction: 0.5 } });
    await r.scheduler.start({ by: kevin, origin, continuous: false });
    await r.drive(() => r.executor.queue().length === 2);
    const count = () => r.notices().length;
    expect(count()).toBe(1);
    now += 4 * 60_000;
    await r.scheduler.tick();
    expect(count()).toBe(1);
    now += 2 * 60_000;
    await r.scheduler.tick();
    expect(count()).toBe(2);
    expect(r.notices()[1]).toMatch(/0\/4 done, 2 in flight \(2 waiting approval\), 0 failed, 2 left/);
    now += 10 * 60_000;
    await r.scheduler.tick();
    expect(count()).toBe(2);
    await r.drive(finished, true);
  });

  it('a group run takes only the group, sized by it; stop starts nothing more and lets hosts in flight finish', async () => {
    const hosts = fleet(8, (i) => ({ groups: i < 6 ? ['arm'] : ['x86'] }));
    const r = await createRig({ hosts, delayMs: 20, rolling: { fraction: 0.5, autoApprove: true } });
    await r.scheduler.start({ by: kevin, origin, continuous: false, group: 'arm', fraction: 0.34 });
    const run = r.scheduler.current()!;
    expect(run.order).toEqual(['build-01', 'build-02', 'build-03', 'build-04', 'build-05', 'build-06']);
    expect(run.slots).toBe(3);
    expect(r.notices()[0]).toMatch(/6 host\(s\) of group:arm, 3 at a time \(fraction 0.34\)/);
    await r.scheduler.settled();
    expect(r.store.listJobs().map((j) => j.host).sort()).toEqual(['build-01', 'build-02', 'build-03']);
    await r.scheduler.stop({ by: kevin, origin });
    expect(r.notices().at(-1)).toMatch(/stopped by kevin after .*: 0\/6 reinstalled, none failed; 3 in flight go on, then wait for !approve: build-01, build-02, build-03; 3 not started/);
    await r.executor.idle();
    await sleep(40);
    await r.scheduler.tick();
    await r.executor.idle();
    expect(r.store.listJobs().map((j) => j.host).sort()).toEqual(['build-01', 'build-02', 'build-03']);
    // A stopped run approves nothing by itself any more, even with autoApprove: a human enables them.
    expect(r.store.listJobs().map((j) => j.state)).toEqual(['awaiting-approval', 'awaiting-approval', 'awaiting-approval']);
    expect(r.scheduler.current()!.state).toBe('stopped');
    await expect(r.scheduler.resume({ by: kevin, origin })).rejects.toThrow(/no rolling run to resume \(run \S+ stopped\)/);
    expect(r.store.listAudit().some((a) => a.action === 'rolling-stop' && a.who.id === 'kevin')).toBe(true);
  });

  it('refuses what it cannot do, in words an operator can act on', async () => {
    const r = await createRig({ hosts: fleet(2) });
    await expect(r.scheduler.pause({ by: kevin, origin })).rejects.toThrow(/no rolling run to pause; !rolling start begins one/);
    await expect(r.scheduler.start({ by: kevin, origin, continuous: true })).rejects.toThrow(/--continuous needs rolling.cadence/);
    expect(r.scheduler.status()).toEqual([]);
    await r.executor.reinstall({ hosts: ['build-01', 'build-02'], by: kevin, origin });
    await r.executor.idle();
    await expect(r.scheduler.start({ by: kevin, origin, continuous: false })).rejects.toThrow(/every host of the fleet is already in a job/);
    await r.executor.approve('all', { by: nirik, origin });
    await r.executor.idle();
  });
});
