/**
 * The job state machine (src/executor/job-transitions.ts), exhaustively: every state x event pair either moves the
 * job as the table says or is refused with its state named, and a transition never changes the job it was given.
 */
import { describe, expect, it } from 'vitest';
import { ALLOWED, type JobEvent, type JobEventType } from '../../src/executor/job-events';
import { applyInPlace, isRefusal, queuedJob, transition, transitioned } from '../../src/executor/job-transitions';
import type { HostConfig } from '../../src/config/schema';
import { STEP_NAMES, type Job, type JobState } from '../../src/model';

const STATES: JobState[] = ['queued', 'running', 'awaiting-approval', 'enabling', 'succeeded', 'failed', 'cancelled', 'denied'];
const AT = '2026-01-02T03:04:05.000Z';
const by = { source: 'irc' as const, id: 'kevin', display: 'kevin' };
const decision = { by, at: AT };
const host = { name: 'b1', kind: 'baremetal', arch: 'x86_64', port: 22, groups: [] } as unknown as HostConfig;

/** One event of each type, applied at step 2 (stage-installer) where it names a step. */
const EVENTS: Record<JobEventType, JobEvent> = {
  run: { type: 'run' },
  move: { type: 'move', index: 3 },
  'step-started': { type: 'step-started', index: 2, at: AT },
  'attempt-started': { type: 'attempt-started', index: 2, at: AT },
  'step-progress': { type: 'step-progress', index: 2, message: 'b1: waiting' },
  'step-output': { type: 'step-output', index: 2, line: 'x'.repeat(500) },
  'host-key-accepted': { type: 'host-key-accepted', previous: 'SHA256:old', fingerprint: 'SHA256:new', at: AT },
  'step-succeeded': { type: 'step-succeeded', index: 2, at: AT, durationMs: 1500, next: { index: 3, at: AT } },
  'step-cancelled': { type: 'step-cancelled', index: 2, at: AT },
  'step-failed': { type: 'step-failed', index: 2, at: AT, error: { code: 'E_X', message: 'boom' }, outputTail: ['a'], host },
  'await-approval': { type: 'await-approval', at: AT },
  approve: { type: 'approve', decision },
  deny: { type: 'deny', decision },
  cancel: { type: 'cancel', decision },
  'end-cancelled': { type: 'end-cancelled', at: AT, host },
  retry: { type: 'retry', by, at: AT },
  'disarm-outcome': { type: 'disarm-outcome', record: { outcome: 'disarmed', at: AT } },
  'comment-set': { type: 'comment-set', comment: 'rekick: failed' },
  succeed: { type: 'succeed', at: AT },
};

/** The state each allowed event leaves the job in (same: unchanged). */
const TARGET: Partial<Record<JobEventType, JobState | ((from: JobState) => JobState)>> = {
  run: 'running',
  'step-failed': 'failed',
  'await-approval': 'awaiting-approval',
  approve: 'enabling',
  deny: 'denied',
  'end-cancelled': 'cancelled',
  retry: 'running',
  succeed: 'succeeded',
};

function jobIn(state: JobState): Job {
  const job = queuedJob({ id: 'j-1', host: 'b1', requestedBy: by, origin: { source: 'irc', room: '#ops' } as unknown as Job['origin'], reason: undefined, options: {} }, () => false, AT);
  job.state = state;
  job.current = 2;
  job.steps[0]!.status = 'succeeded';
  job.steps[1]!.status = 'succeeded';
  job.steps[2]!.status = state === 'failed' ? 'failed' : 'running';
  job.steps[2]!.startedAt = '2026-01-02T03:04:00.000Z';
  job.steps[2]!.attempts = 1;
  if (state === 'failed') job.error = { code: 'E_X', message: 'boom', step: 'stage-installer' };
  return job;
}

describe('job transitions: every state x event', () => {
  for (const state of STATES) {
    for (const type of Object.keys(EVENTS) as JobEventType[]) {
      const allowed = ALLOWED[type].includes(state);
      it(`${type} in ${state}: ${allowed ? 'applies' : 'refused'}`, () => {
        const job = jobIn(state);
        const before = JSON.stringify(job);
        const result = transition(job, EVENTS[type]);
        expect(JSON.stringify(job)).toBe(before); // pure: the job given is never changed
        if (!allowed) {
          expect(isRefusal(result)).toBe(true);
          expect(result).toEqual({ refused: type, state, reason: `${type} does not apply to a job ${state}` });
          expect(() => transitioned(job, EVENTS[type])).toThrow(`job j-1: ${type} does not apply to a job ${state}`);
          return;
        }
        expect(isRefusal(result)).toBe(false);
        const target = TARGET[type];
        expect((result as Job).state).toBe(target === undefined ? state : typeof target === 'function' ? target(state) : target);
      });
    }
  }

  it('the table names every event and only known states', () => {
    expect(Object.keys(ALLOWED).sort()).toEqual(Object.keys(EVENTS).sort());
    for (const states of Object.values(ALLOWED)) for (const s of states) expect(STATES).toContain(s);
  });
});

describe('job transitions: what each one records', () => {
  it('step-started marks the step running, its first attempt, and moves the job there', () => {
    const job = transitioned(jobIn('running'), { type: 'step-started', index: 3, at: AT });
    expect(job.current).toBe(3);
    expect(job.steps[3]).toMatchObject({ status: 'running', startedAt: AT, attempts: 1 });
    expect(job.updatedAt).toBe(AT);
  });

  it('step-succeeded records the duration and starts the next step in the same change', () => {
    const job = transitioned(jobIn('running'), EVENTS['step-succeeded']);
    expect(job.steps[2]).toMatchObject({ status: 'succeeded', endedAt: AT, durationMs: 1500 });
    expect(job.current).toBe(3);
    expect(job.steps[3]).toMatchObject({ status: 'running', attempts: 1 });
    const last = transitioned(jobIn('running'), { type: 'step-succeeded', index: 2, at: AT, durationMs: 5 });
    expect(last.current).toBe(3);
    expect(last.steps[3]!.status).toBe('pending');
  });

  it('step-failed ends the job failed with the error, the tail and a pending disarm (stage-installer had started)', () => {
    const job = jobIn('running');
    job.before = { hostKey: 'SHA256:old' } as unknown as Job['before'];
    const failed = transitioned(job, EVENTS['step-failed']);
    expect(failed.state).toBe('failed');
    expect(failed.error).toEqual({ code: 'E_X', message: 'boom', step: 'stage-installer' });
    expect(failed.steps[2]).toMatchObject({ status: 'failed', error: { code: 'E_X', message: 'boom' }, outputTail: ['a'], durationMs: 5000 });
    expect(failed.disarm).toEqual({ outcome: 'pending', at: AT });
    expect(failed.endedAt).toBe(AT);
  });

  it('step-output keeps the last 20 lines, each cut at 400 characters', () => {
    let job = jobIn('running');
    for (let i = 0; i < 25; i++) job = transitioned(job, { type: 'step-output', index: 2, line: `${i}${'x'.repeat(450)}` });
    expect(job.steps[2]!.outputTail).toHaveLength(20);
    expect(job.steps[2]!.outputTail![0]!.startsWith('5x')).toBe(true);
    expect(job.steps[2]!.outputTail![0]!.length).toBe(401);
  });

  it('approve, deny and cancel record the decision; deny skips enable', () => {
    expect(transitioned(jobIn('awaiting-approval'), EVENTS.approve)).toMatchObject({ state: 'enabling', approval: decision });
    const denied = transitioned(jobIn('awaiting-approval'), EVENTS.deny);
    expect(denied).toMatchObject({ state: 'denied', denial: decision, endedAt: AT });
    expect(denied.steps[STEP_NAMES.length - 1]!.status).toBe('skipped');
    expect(transitioned(jobIn('running'), EVENTS.cancel)).toMatchObject({ state: 'running', cancel: decision, updatedAt: AT });
  });

  it('end-cancelled skips what did not run', () => {
    const job = transitioned(transitioned(jobIn('running'), EVENTS.cancel), EVENTS['end-cancelled']);
    expect(job.state).toBe('cancelled');
    expect(job.steps.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
  });

  it('retry resumes the failed step afresh (its scratch data dropped, a cancel of the failed attempt forgotten); a failed enable resumes enabling', () => {
    const failed = jobIn('failed');
    failed.data = { 'stage-installer.x': 1, 'drain.startedAt': 2 };
    failed.cancel = decision;
    const job = transitioned(failed, EVENTS.retry);
    expect(job).toMatchObject({ state: 'running', current: 2, error: undefined, cancel: undefined, endedAt: undefined });
    expect(job.steps[2]!.status).toBe('pending');
    expect(job.data).toEqual({ 'drain.startedAt': 2, retriedBy: by });
    const enable = jobIn('failed');
    enable.current = STEP_NAMES.length - 1;
    enable.approval = decision;
    expect(transitioned(enable, EVENTS.retry).state).toBe('enabling');
  });

  it('succeed ends the job at enable', () => {
    expect(transitioned(jobIn('enabling'), EVENTS.succeed)).toMatchObject({ state: 'succeeded', endedAt: AT, current: STEP_NAMES.length - 1 });
  });

  it('applyInPlace changes the object others hold, and leaves it as it is on a refusal', () => {
    const job = jobIn('running');
    const shared = job;
    expect(applyInPlace(job, EVENTS.cancel)).toBeUndefined();
    expect(shared.cancel).toEqual(decision);
    const denied = jobIn('denied');
    const before = JSON.stringify(denied);
    expect(applyInPlace(denied, EVENTS.run)).toMatchObject({ refused: 'run', state: 'denied' });
    expect(JSON.stringify(denied)).toBe(before);
  });
});
