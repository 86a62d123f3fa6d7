/**
 * The disarm activity (src/steps/disarm-installer.ts): when a cancelled or failed job needs it, how many bounded tries
 * it makes at a host that does not answer before it reports a failure, what a shutdown leaves (pending), and how a
 * retry of a disarmed job re-arms from stage-installer.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { DisarmResult, DriverContext, HostDriver } from '../../src/drivers/types';
import { disarmClause } from '../../src/present/disarm';
import { HostKeyChangedError } from '../../src/ssh/errors';
import { disarmInstaller, disarmNeeded, retryStep, type DisarmDeps } from '../../src/steps/disarm-installer';
import { markDisarm, rearmOnRetry } from '../../src/executor/job-transitions-disarm';
import { STEP_NAMES, type Job, type StepStatus } from '../../src/model';
import { makeJob } from '../fakes/jobs';
import { testConfig } from '../fakes/test-config';

const config = testConfig({ ssh: { user: 'root', key: '/nonexistent', knownHosts: '/tmp/kh-unused', connectTimeout: '1s' } });
const bm = config.hosts.find((h) => h.name === 'buildarm-01')!;
const guest = config.hosts.find((h) => h.name === 'buildvm-01')!;
const vh = config.hosts.find((h) => h.name === 'vmhost-01')!;

const before = { at: 'T', hostKeys: ['SHA256:old'], from: 'host' as const };

/** A job whose steps up to `upTo` have the given statuses (the rest pending). */
function jobAt(host: string, statuses: StepStatus[], extra: Partial<Job> = {}): Job {
  const job = makeJob({ host, ...extra });
  statuses.forEach((s, i) => {
    job.steps[i]!.status = s;
    if (s !== 'pending' && s !== 'skipped') job.steps[i]!.attempts = 1;
  });
  job.current = Math.max(0, statuses.length - 1);
  return job;
}

function deps(disarm: HostDriver['disarm']): DisarmDeps {
  const driver = { stage: async () => undefined, reinstall: async () => undefined, disarm };
  return { config, connector: {} as never, drivers: { baremetal: driver, virt: { ...driver, disarm: undefined } }, log: pino({ level: 'silent' }) };
}

describe('when a job needs disarming', () => {
  it('bare metal: from stage-installer started until a new system is proven', () => {
    expect(disarmNeeded(jobAt('buildarm-01', ['succeeded', 'failed']), bm)).toBeUndefined(); // drain: nothing staged
    // stage-installer's work started once it recorded the old system (before arming anything)
    expect(disarmNeeded(jobAt('buildarm-01', ['succeeded', 'succeeded', 'running'], { before }), bm)).toBe('installer');
    expect(disarmNeeded(jobAt('buildarm-01', ['succeeded', 'succeeded', 'failed'], { before }), bm)).toBe('installer');
    // failed or cancelled while it waited for linked jobs (or before it could log in): nothing was touched
    expect(disarmNeeded(jobAt('buildarm-01', ['succeeded', 'succeeded', 'failed']), bm)).toBeUndefined();
    expect(disarmNeeded(jobAt('buildvm-01', ['succeeded', 'succeeded', 'failed']), guest)).toBeUndefined();
    expect(disarmNeeded(jobAt('buildarm-01', ['succeeded', 'succeeded', 'succeeded', 'failed']), bm)).toBe('installer');
    // E_NOT_REINSTALLED: wait-ssh failed, no proof: the old system is back with the stale entry
    expect(disarmNeeded(jobAt('buildarm-01', ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed']), bm)).toBe('installer');
    // post-install failed on the new system (proven): nothing is armed any more
    const proven = jobAt('buildarm-01', ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed'], {
      proof: { at: 'now', hostKey: { before: 'SHA256:a', after: 'SHA256:b' }, machineId: {}, changed: ['host key'] },
    });
    expect(disarmNeeded(proven, bm)).toBeUndefined();
    // a virthost is staged with the grub driver too
    expect(disarmNeeded(jobAt('vmhost-01', ['skipped', 'skipped', 'succeeded']), vh)).toBe('installer');
  });

  it('virt: the VM is gone from stage-installer until virt-install re-created it', () => {
    expect(disarmNeeded(jobAt('buildvm-01', ['succeeded', 'succeeded', 'succeeded', 'failed']), guest)).toBe('vm-gone');
    expect(disarmNeeded(jobAt('buildvm-01', ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed']), guest)).toBeUndefined();
    const job = jobAt('buildvm-01', ['succeeded', 'succeeded', 'succeeded', 'failed']);
    expect(markDisarm(job, guest, 'T')).toBe(false);
    expect(job.disarm).toEqual({ outcome: 'vm-gone', at: 'T', detail: 'destroyed and undefined at [3/8] stage-installer' });
  });

  it('markDisarm writes pending for bare metal', () => {
    const job = jobAt('buildarm-01', ['succeeded', 'succeeded', 'succeeded', 'failed']);
    expect(markDisarm(job, bm, 'T')).toBe(true);
    expect(job.disarm).toEqual({ outcome: 'pending', at: 'T' });
  });
});

describe('the activity', () => {
  const job = jobAt('buildarm-01', ['succeeded', 'succeeded', 'succeeded']);

  it('returns the driver’s outcome: disarmed, or nothing armed', async () => {
    const armed = await disarmInstaller(job, bm, deps(async () => ({ armed: true, detail: 'next_entry unset' })));
    expect(armed).toMatchObject({ outcome: 'disarmed', detail: 'next_entry unset' });
    const clean = await disarmInstaller(job, bm, deps(async () => ({ armed: false, detail: 'nothing' })));
    expect(clean).toMatchObject({ outcome: 'nothing-armed' });
  });

  it('after the reboot into the installer, a new host key means the installer ran: nothing armed, no failure, once', async () => {
    let tries = 0;
    const newKey = async (): Promise<DisarmResult> => {
      tries++;
      throw new HostKeyChangedError('buildarm-01', ['SHA256:old'], 'SHA256:new', '/tmp/kh');
    };
    // cancelled at wait-ssh: the reinstall step had rebooted the host into the installer
    const rebooted = jobAt('buildarm-01', ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'running'], { before });
    expect(await disarmInstaller(rebooted, bm, deps(newKey), { pauseMs: 1 })).toMatchObject({ outcome: 'installer-ran', detail: 'buildarm-01 answers with a new host key (SHA256:new)' });
    expect(tries).toBe(1);
    expect(disarmClause({ ...rebooted, state: 'cancelled', disarm: { outcome: 'installer-ran', at: 'T' } })).toMatch(/^the installer ran .*nothing is armed any more/);
    // before that reboot a changed key is not the installer's work: a failure, said as such
    const staged = jobAt('buildarm-01', ['succeeded', 'succeeded', 'succeeded', 'running'], { before });
    expect(await disarmInstaller(staged, bm, deps(newKey), { pauseMs: 1 })).toMatchObject({ outcome: 'failed' });
  });

  it('a host that does not answer: two tries, then failed with the reason (never thrown)', async () => {
    const tries: number[] = [];
    const down = async (): Promise<DisarmResult> => {
      tries.push(Date.now());
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:22'), { code: 'E_SSH_CONNECT' });
    };
    const r = await disarmInstaller(job, bm, deps(down), { pauseMs: 10 });
    expect(tries).toHaveLength(2);
    expect(r).toMatchObject({ outcome: 'failed', detail: expect.stringMatching(/^connect ECONNREFUSED 127\.0\.0\.1:22 \(2 tries in \d+s\)$/) });
  });

  it('a host that hangs: each try is bounded (connect timeout + the commands), then failed', async () => {
    const bounds: number[] = [];
    const hang = (ctx: DriverContext) =>
      new Promise<DisarmResult>((_, reject) => {
        bounds.push(ctx.timeoutMs);
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
      });
    const quick = testConfig({ ssh: { user: 'root', key: '/x', knownHosts: '/tmp/kh', connectTimeout: '100ms', commandTimeout: '100ms' } });
    const r = await disarmInstaller(job, bm, { ...deps(hang), config: quick }, { pauseMs: 1 });
    expect(bounds).toEqual([200, 200]);
    expect(r).toMatchObject({ outcome: 'failed', detail: expect.stringContaining('did not finish within') });
  });

  it('stopped by a shutdown: undefined (the job keeps its pending disarm for the next start)', async () => {
    const stop = new AbortController();
    const slow = (ctx: DriverContext) =>
      new Promise<DisarmResult>((_, reject) => {
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        stop.abort();
      });
    expect(await disarmInstaller(job, bm, deps(slow), { signal: stop.signal })).toBeUndefined();
  });

  it('a driver without disarm is a failure that says so', async () => {
    expect(await disarmInstaller(job, bm, deps(undefined))).toMatchObject({ outcome: 'failed', detail: 'the baremetal driver cannot disarm' });
  });
});

describe('retry after a disarm', () => {
  it('resumes from stage-installer (re-arm), steps after it afresh, their scratch data dropped', () => {
    const job = jobAt('buildarm-01', ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed'], {
      data: { 'reinstall.issuedAt': 1, 'wait-ssh.since': 2, 'drain.since': 3 },
      disarm: { outcome: 'disarmed', at: 'T' },
      error: { code: 'E_NOT_REINSTALLED', message: 'old system', step: 'wait-ssh' },
    });
    expect(retryStep(job)).toBe('stage-installer');
    rearmOnRetry(job);
    expect(job.current).toBe(STEP_NAMES.indexOf('stage-installer'));
    expect(job.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'pending', 'pending', 'pending', 'pending', 'pending', 'pending']);
    expect(job.data).toEqual({ 'drain.since': 3 });
    expect(job.disarm).toBeUndefined();
  });

  it('after a failed disarm (the host may be installing) a retry resumes from the failed step', () => {
    const job = jobAt('buildarm-01', ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed'], {
      data: { 'wait-ssh.since': 2 },
      disarm: { outcome: 'failed', at: 'T', detail: 'connect ECONNREFUSED' },
    });
    expect(retryStep(job, 'wait-ssh')).toBe('wait-ssh');
    rearmOnRetry(job);
    expect(job.current).toBe(4);
    expect(job.data).toEqual({ 'wait-ssh.since': 2 });
    expect(job.disarm).toBeUndefined();
  });

  it('a virt guest (VM gone) and a job without a disarm resume from the failed step', () => {
    const vm = jobAt('buildvm-01', ['succeeded', 'succeeded', 'succeeded', 'failed'], { disarm: { outcome: 'vm-gone', at: 'T' } });
    expect(retryStep(vm)).toBe('reinstall');
    rearmOnRetry(vm);
    expect(vm.current).toBe(3);
    const plain = jobAt('buildarm-01', ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed']);
    rearmOnRetry(plain);
    expect(plain.current).toBe(5);
  });
});
