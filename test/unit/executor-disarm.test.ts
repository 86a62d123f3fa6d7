/**
 * A job that ends cancelled or failed after stage-installer started, before a new system was proven, disarms the
 * installer (issue 19: "a job never lies"): the driver's disarm runs after the cancelled/failed state is durable, its
 * outcome is recorded on the job and said on the cancel/failure line and in the Koji comment, a failed disarm is an
 * error notice, a restart finishes a pending one, and `!retry` of a disarmed job re-arms from stage-installer. A job
 * failed on its new system (after the proof) is not touched; a virt guest's line says its VM is gone.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../store/memory-store';
import { renderEvent } from '../../src/present/event-lines';
import type { DisarmResult, DriverContext, HostDriver } from '../../src/drivers/types';
import { Executor } from '../../src/executor/executor';
import { pinnedHostKey } from '../../src/steps/host-key-pin';
import type { Step, StepContext } from '../../src/steps/types';
import type { ExecutorEvent, Identity, Job, Origin } from '../../src/model';
import { FakeKoji } from '../fakes/fake-koji';
import { ScriptedSteps } from '../fakes/fake-steps';
import { testConfig } from '../fakes/test-config';

const kevin: Identity = { source: 'irc', id: 'kevin', display: 'kevin' };
const origin: Origin = { adapter: 'irc', room: '#builders' };
const BY_HAND = 'grub2-editenv - unset next_entry; grubby --remove-kernel=/boot/vmlinuz-rekick-installer';

type DisarmBehaviour = (ctx: DriverContext) => Promise<DisarmResult>;

class FakeDrivers {
  disarms: string[] = [];
  behaviour: DisarmBehaviour = async () => ({ armed: true, detail: 'next_entry rekick-installer unset, installer entry removed' });
  drivers(): Record<'baremetal' | 'virt', HostDriver> {
    const nothing = async () => undefined;
    return {
      baremetal: {
        stage: nothing,
        reinstall: nothing,
        disarm: (ctx) => {
          this.disarms.push(ctx.host.name);
          return this.behaviour(ctx);
        },
      },
      virt: { stage: nothing, reinstall: nothing },
    };
  }
}

async function setup(store = new MemoryStore(), shared?: { koji: FakeKoji; scripted: ScriptedSteps; fake: FakeDrivers }) {
  const config = testConfig({ ssh: { user: 'root', key: '/nonexistent', knownHosts: '/tmp/kh-unused', connectTimeout: '1s', commandTimeout: '1s' } });
  if (!shared) await store.open();
  const koji = shared?.koji ?? new FakeKoji();
  for (const h of config.hosts) if (!koji.hosts.has(h.name)) koji.addHost(h.name);
  const scripted = shared?.scripted ?? new ScriptedSteps();
  const fake = shared?.fake ?? new FakeDrivers();
  const events: ExecutorEvent[] = [];
  /** Called as wait-ssh starts (a test sees the job as the step does, or accepts a key as the real step may). */
  const hooks: { waitSsh?: (ctx: StepContext) => void } = {};
  // wait-ssh records the proof of a new system, as the real step does
  const steps: Step[] = scripted.steps().map((s) =>
    s.name === 'wait-ssh'
      ? {
          ...s,
          run: async (ctx: StepContext) => {
            hooks.waitSsh?.(ctx);
            await s.run(ctx);
            ctx.job.proof = { at: new Date().toISOString(), hostKey: { before: 'SHA256:old', after: 'SHA256:new' }, machineId: {}, changed: ['host key'] };
          },
        }
      : s,
  );
  const executor = new Executor({ config, store, koji, connector: {} as never, drivers: fake.drivers(), log: pino({ level: 'silent' }), steps });
  executor.on((e) => events.push(e));
  return { executor, store, koji, scripted, fake, events, hooks };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

const lineOf = (events: ExecutorEvent[], type: 'cancelled' | 'step-failed') => renderEvent(events.find((e) => e.type === type)!)[0]!;

describe('disarming a cancelled or failed job', () => {
  it('cancel after stage-installer succeeded: disarmed, recorded, and said on the line and in the Koji comment', async () => {
    const { executor, store, koji, scripted, fake, events } = await setup();
    scripted.behaviour.set('wait-ssh', { kind: 'hang' });
    const [job] = await executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
    await until(() => events.some((e) => e.type === 'step-started' && e.step === 'wait-ssh'), 'wait-ssh');
    await executor.cancel('buildarm-01', { by: kevin, origin });
    await executor.idle();
    const done = store.getJob(job!.id)!;
    expect(done.state).toBe('cancelled');
    expect(fake.disarms).toEqual(['buildarm-01']);
    expect(done.disarm).toMatchObject({ outcome: 'disarmed', detail: 'next_entry rekick-installer unset, installer entry removed' });
    expect(koji.hosts.get('buildarm-01')!.comment).toBe(`rekick: reinstall cancelled by irc:kevin at wait-ssh (job ${job!.id}); left disabled; installer disarmed`);
    expect(done.kojiComment).toBe(koji.hosts.get('buildarm-01')!.comment);
    expect(lineOf(events, 'cancelled')).toMatch(/^buildarm-01 cancelled by kevin at \[5\/8\] wait-ssh — host left disabled in Koji \(".*"\); installer disarmed: the next reboot boots the old system$/);
  });

  it('the disarm runs after the cancelled state is durable', async () => {
    const { executor, store, scripted, fake, events } = await setup();
    let stored: Job | undefined;
    fake.behaviour = async (ctx) => {
      stored = store.getJob(store.listJobs({ host: ctx.host.name, limit: 1 })[0]!.id);
      return { armed: true, detail: 'done' };
    };
    scripted.behaviour.set('wait-ssh', { kind: 'hang' });
    await executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
    await until(() => events.some((e) => e.type === 'step-started' && e.step === 'wait-ssh'), 'wait-ssh');
    await executor.cancel('buildarm-01', { by: kevin, origin });
    await executor.idle();
    expect(stored).toMatchObject({ state: 'cancelled', disarm: { outcome: 'pending' } });
  });

  it('failure at reinstall (before the reboot): disarmed; !retry resumes from stage-installer, which arms it again', async () => {
    const { executor, store, scripted, fake, events } = await setup();
    scripted.behaviour.set('reinstall', { kind: 'fail', message: 'systemctl reboot: access denied', times: 1 });
    const [job] = await executor.reinstall({ hosts: ['buildarm-02'], by: kevin, origin });
    await executor.idle();
    const failed = store.getJob(job!.id)!;
    expect(failed.state).toBe('failed');
    expect(fake.disarms).toEqual(['buildarm-02']);
    expect(failed.disarm?.outcome).toBe('disarmed');
    expect(failed.kojiComment).toMatch(/; left disabled; installer disarmed$/);
    expect(lineOf(events, 'step-failed')).toMatch(/; installer disarmed: the next reboot boots the old system; !retry buildarm-02 resumes from stage-installer$/);

    const before = scripted.runs.length;
    await executor.retry('buildarm-02', { by: kevin, origin });
    await executor.idle();
    expect(scripted.runs.slice(before).map((r) => r.step)).toEqual(['stage-installer', 'reinstall', 'wait-ssh', 'post-install', 'reboot-verify']);
    const after = store.getJob(job!.id)!;
    expect(after.state).toBe('awaiting-approval');
    expect(after.disarm).toBeUndefined();
  });

  it('failure at wait-ssh after a key was accepted, found not armed: !retry re-stages and does not pin the key of the attempt before', async () => {
    const { executor, store, scripted, fake, hooks } = await setup();
    fake.behaviour = async () => ({ armed: false, detail: 'next_entry was not set, no installer entry' });
    // the host came back with a new key (accepted, recorded), then the step failed before its proof
    scripted.behaviour.set('wait-ssh', { kind: 'fail', message: 'cat /etc/machine-id: timed out', retryable: false, times: 1 });
    const pins: Array<string | undefined> = [];
    hooks.waitSsh = (ctx) => {
      pins.push(pinnedHostKey(ctx.job));
      if (pins.length === 1) ctx.hostKeyChanged({ previous: 'SHA256:old', fingerprint: 'SHA256:first' });
    };
    const [job] = await executor.reinstall({ hosts: ['buildarm-02'], by: kevin, origin });
    await executor.idle();
    expect(store.getJob(job!.id)).toMatchObject({ state: 'failed', hostKey: { accepted: 'SHA256:first' }, disarm: { outcome: 'nothing-armed' } });
    const retried = await executor.retry('buildarm-02', { by: kevin, origin });
    expect(retried.current).toBe(2);
    expect(retried.hostKey).toBeUndefined();
    await executor.idle();
    // the re-staged install brings yet another key: wait-ssh may accept it, not insist on the one before
    expect(pins).toEqual([undefined, undefined]);
    expect(store.getJob(job!.id)!.state).toBe('awaiting-approval');
  });

  it('failure after the proof (post-install on the new system): nothing to disarm, nothing said of it', async () => {
    const { executor, store, scripted, fake, events } = await setup();
    scripted.behaviour.set('post-install', { kind: 'fail', message: 'hostnamectl exited 3' });
    const [job] = await executor.reinstall({ hosts: ['buildarm-03'], by: kevin, origin });
    await executor.idle();
    const failed = store.getJob(job!.id)!;
    expect(failed.state).toBe('failed');
    expect(failed.proof).toBeTruthy();
    expect(fake.disarms).toEqual([]);
    expect(failed.disarm).toBeUndefined();
    expect(lineOf(events, 'step-failed')).not.toMatch(/disarm|DISARM/);
    expect(lineOf(events, 'step-failed')).toMatch(/!retry buildarm-03 resumes from post-install$/);
  });

  it('a disarm that fails: COULD NOT DISARM on the line and in the comment, an error notice, after bounded tries', async () => {
    const { executor, store, koji, scripted, fake, events } = await setup();
    fake.behaviour = async () => {
      throw Object.assign(new Error('buildarm-01: connect ECONNREFUSED'), { code: 'E_SSH_CONNECT' });
    };
    scripted.behaviour.set('reinstall', { kind: 'fail', message: 'boom' });
    const [job] = await executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
    await executor.idle();
    expect(fake.disarms).toEqual(['buildarm-01', 'buildarm-01']);
    const failed = store.getJob(job!.id)!;
    expect(failed.disarm).toMatchObject({ outcome: 'failed', detail: expect.stringContaining('connect ECONNREFUSED') });
    expect(koji.hosts.get('buildarm-01')!.comment).toMatch(new RegExp(`; left disabled; COULD NOT DISARM the installer: the next reboot reinstalls it — run on the host: ${BY_HAND}$`));
    expect(lineOf(events, 'step-failed')).toContain(`COULD NOT DISARM the installer (buildarm-01: connect ECONNREFUSED (2 tries in`);
    const notice = events.find((e) => e.type === 'notice');
    expect(notice).toMatchObject({ type: 'notice', level: 'error', text: expect.stringContaining(`buildarm-01 (job ${job!.id}, failed): COULD NOT DISARM the installer`) });
  });

  it('a virt guest: the line says its VM is gone and stays down until reinstalled', async () => {
    const { executor, store, scripted, fake, events } = await setup();
    scripted.behaviour.set('stage-installer', { kind: 'ok', delayMs: 100 });
    const [job] = await executor.reinstall({ hosts: ['buildvm-01'], by: kevin, origin });
    await until(() => events.some((e) => e.type === 'step-started' && e.step === 'stage-installer'), 'stage-installer');
    await executor.cancel('buildvm-01', { by: kevin, origin });
    await executor.idle();
    expect(fake.disarms).toEqual([]);
    expect(store.getJob(job!.id)!.disarm).toMatchObject({ outcome: 'vm-gone' });
    expect(lineOf(events, 'cancelled')).toMatch(/; buildvm-01's VM was destroyed and undefined at \[3\/8\]; it stays down until reinstalled: !reinstall buildvm-01$/);
  });

  it('a crash between the cancel and the disarm: the next start() disarms and says so', async () => {
    const store = new MemoryStore();
    const first = await setup(store);
    first.fake.behaviour = () => new Promise<never>(() => undefined); // the process "dies" here: nothing more happens
    first.scripted.behaviour.set('wait-ssh', { kind: 'hang' });
    const [job] = await first.executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
    await until(() => first.events.some((e) => e.type === 'step-started' && e.step === 'wait-ssh'), 'wait-ssh');
    await first.executor.cancel('buildarm-01', { by: kevin, origin });
    await until(() => first.fake.disarms.length === 1, 'the first disarm');
    expect(store.getJob(job!.id)).toMatchObject({ state: 'cancelled', disarm: { outcome: 'pending' } });
    expect(first.events.some((e) => e.type === 'cancelled')).toBe(false);

    const second = await setup(store, { koji: first.koji, scripted: new ScriptedSteps(), fake: new FakeDrivers() });
    await second.executor.start();
    await second.executor.idle();
    expect(second.fake.disarms).toEqual(['buildarm-01']);
    const done = store.getJob(job!.id)!;
    expect(done.disarm?.outcome).toBe('disarmed');
    expect(first.koji.hosts.get('buildarm-01')!.comment).toMatch(/; installer disarmed$/);
    expect(lineOf(second.events, 'cancelled')).toMatch(/^buildarm-01 cancelled by kevin at \[5\/8\] wait-ssh — .*; installer disarmed: the next reboot boots the old system$/);
    expect(second.scripted.runs).toEqual([]); // a finished job is not resumed
  });

  it('a crash after a failure, before its disarm: start() disarms it and records the failure on the host, as the runner would have', async () => {
    const store = new MemoryStore();
    const first = await setup(store);
    first.fake.behaviour = () => new Promise<never>(() => undefined); // the process "dies" here
    first.scripted.behaviour.set('reinstall', { kind: 'fail', message: 'boom' });
    const [job] = await first.executor.reinstall({ hosts: ['buildarm-02'], by: kevin, origin });
    await until(() => first.fake.disarms.length === 1, 'the first disarm');
    expect(store.getHost('buildarm-02')?.lastOutcome).toBeUndefined();

    const second = await setup(store, { koji: first.koji, scripted: new ScriptedSteps(), fake: new FakeDrivers() });
    await second.executor.start();
    await second.executor.idle();
    expect(store.getJob(job!.id)!.disarm?.outcome).toBe('disarmed');
    expect(store.getHost('buildarm-02')).toMatchObject({ lastJobId: job!.id, lastOutcome: 'failed' });
    expect(second.events.filter((e) => e.type === 'step-failed')).toHaveLength(1);
  });

  it('a crash after a failure, before its disarm: start() disarms it, and a !retry meanwhile waits for that, then re-arms', async () => {
    const store = new MemoryStore();
    const first = await setup(store);
    first.fake.behaviour = () => new Promise<never>(() => undefined); // the process "dies" here
    first.scripted.behaviour.set('reinstall', { kind: 'fail', message: 'boom' });
    const [job] = await first.executor.reinstall({ hosts: ['buildarm-03'], by: kevin, origin });
    await until(() => first.fake.disarms.length === 1, 'the first disarm');
    expect(store.getJob(job!.id)).toMatchObject({ state: 'failed', disarm: { outcome: 'pending' } });

    const second = await setup(store, { koji: first.koji, scripted: new ScriptedSteps(), fake: new FakeDrivers() });
    let release!: () => void;
    second.fake.behaviour = () => new Promise((resolve) => (release = () => resolve({ armed: true, detail: 'done' })));
    await second.executor.start();
    await until(() => second.fake.disarms.length === 1, 'the resumed disarm');
    const retried = second.executor.retry('buildarm-03', { by: kevin, origin });
    await new Promise((r) => setTimeout(r, 50));
    expect(second.scripted.runs).toEqual([]); // the retry waits for the disarm
    release();
    await retried;
    await second.executor.idle();
    expect(lineOf(second.events, 'step-failed')).toMatch(/^buildarm-03 \[4\/8\] reinstall failed: boom — .*; installer disarmed: the next reboot boots the old system; !retry buildarm-03 resumes from stage-installer$/);
    expect(second.scripted.runs.map((r) => r.step)).toEqual(['stage-installer', 'reinstall', 'wait-ssh', 'post-install', 'reboot-verify']);
    expect(store.getJob(job!.id)!.state).toBe('awaiting-approval');
  });

  it('a cancel a crash left pending is finished at start with its disarm in the background: start() and the other jobs do not wait for it', async () => {
    const store = new MemoryStore();
    const first = await setup(store);
    first.scripted.behaviour.set('reinstall', { kind: 'hang' }); // not abortable: the cancel waits for its end
    const [job] = await first.executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
    const [other] = await first.executor.reinstall({ hosts: ['buildarm-02'], by: kevin, origin });
    await until(() => first.scripted.runs.filter((r) => r.step === 'reinstall').length === 2, 'both reinstalls');
    await first.executor.cancel('buildarm-01', { by: kevin, origin });
    expect(store.getJob(job!.id)).toMatchObject({ state: 'running', cancel: { by: kevin } }); // the process "dies" here

    const second = await setup(store, { koji: first.koji, scripted: new ScriptedSteps(), fake: new FakeDrivers() });
    let release!: () => void;
    second.fake.behaviour = () => new Promise((resolve) => (release = () => resolve({ armed: true, detail: 'done' })));
    const started = second.executor.start().then(() => 'started');
    await until(() => second.fake.disarms.length === 1, 'the disarm');
    expect(await Promise.race([started, new Promise((r) => setTimeout(() => r('waiting for the disarm'), 300))])).toBe('started');
    expect(store.getJob(job!.id)).toMatchObject({ state: 'cancelled', disarm: { outcome: 'pending' } });
    await until(() => second.scripted.runs.some((r) => r.host === 'buildarm-02'), 'the other job resumed');
    await expect(second.executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin })).rejects.toMatchObject({ code: 'E_BUSY' });
    release();
    await second.executor.idle();
    expect(store.getJob(job!.id)!.disarm?.outcome).toBe('disarmed');
    expect(lineOf(second.events, 'cancelled')).toMatch(/^buildarm-01 cancelled by kevin at \[4\/8\] reinstall — .*; installer disarmed: the next reboot boots the old system$/);
    expect(store.getJob(other!.id)!.state).toBe('awaiting-approval');
  });

  it('a new reinstall of the host is refused while its installer is being disarmed, and taken once it is', async () => {
    const { executor, scripted, fake } = await setup();
    let release!: () => void;
    fake.behaviour = () => new Promise((resolve) => (release = () => resolve({ armed: true, detail: 'done' })));
    scripted.behaviour.set('reinstall', { kind: 'fail', message: 'boom' });
    await executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
    await until(() => fake.disarms.length === 1, 'the disarm');
    await expect(executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin })).rejects.toMatchObject({ code: 'E_BUSY', message: expect.stringContaining('disarming its installer') });
    release();
    await executor.idle();
    await executor.reinstall({ hosts: ['buildarm-01'], by: kevin, origin });
  });
});
