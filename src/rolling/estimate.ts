/**
 * Durations for rolling notices: how long one host's reinstall takes (from past jobs in the store: first step
 * started to reboot-verify ended, so time waiting for a human is left out), and what that makes for a run.
 */
import type { Frozen, Store } from '../../store/store';
import { STEP_NAMES, type Job, type RollingRun } from '../model';
import type { RollingTally } from './types';

const VERIFY = STEP_NAMES.indexOf('reboot-verify');

/** Durations already worked out, per stored job version (the store replaces a job's object when it saves it). */
const durations = new WeakMap<Frozen<Job>, number | undefined>();

/**
 * Machine time of one reinstall, or undefined when the job did not get through reboot-verify. For jobs as the store
 * holds them (Frozen: never changed, a save stores a new object), so the answer is kept per object.
 */
export function reinstallDurationMs(job: Frozen<Job>): number | undefined {
  if (durations.has(job)) return durations.get(job);
  const ms = computeDurationMs(job);
  durations.set(job, ms);
  return ms;
}

function computeDurationMs(job: Frozen<Job>): number | undefined {
  const first = job.steps.find((s) => s.startedAt)?.startedAt;
  const verified = job.steps[VERIFY];
  if (!first || !verified || verified.status !== 'succeeded' || !verified.endedAt) return undefined;
  const ms = Date.parse(verified.endedAt) - Date.parse(first);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

export interface TypicalDuration {
  ms: number;
  samples: number;
}

/** The median reinstall time of these jobs (those that got through reboot-verify), or undefined with none. */
export function typicalDuration(jobs: readonly Frozen<Job>[]): TypicalDuration | undefined {
  const times = jobs.map(reinstallDurationMs).filter((m): m is number => m !== undefined).sort((a, b) => a - b);
  if (!times.length) return undefined;
  const mid = Math.floor(times.length / 2);
  const ms = times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
  return { ms, samples: times.length };
}

/** Hosts go in waves of `slots`: what is left takes ceil(left / slots) reinstall times. */
export function estimateRunMs(hostsLeft: number, slots: number, perHostMs: number): number {
  if (hostsLeft <= 0) return 0;
  return Math.ceil(hostsLeft / Math.max(1, slots)) * perHostMs;
}

/** Reinstall time per host for a run: its own jobs once it has some, else past jobs in the store. */
export function runTypicalDuration(run: RollingRun, store: Store): TypicalDuration | undefined {
  // Peeks, not copies: every job of the run, on every progress line.
  const own = Object.values(run.jobs)
    .map((id) => store.peekJob(id))
    .filter((j): j is Frozen<Job> => j !== undefined);
  return typicalDuration(own) ?? typicalDuration(store.peekJobs({ states: ['succeeded', 'awaiting-approval', 'enabling'], limit: 200 }));
}

/** What is left of a run (hosts not started, and those in flight that are not waiting for a human). */
export function runEtaMs(run: RollingRun, t: RollingTally, store: Store): number | undefined {
  const typical = runTypicalDuration(run, store);
  if (!typical) return undefined;
  const working = t.inFlight.filter((j) => j.state !== 'awaiting-approval').length;
  return estimateRunMs(t.left.length + working, run.slots ?? 1, typical.ms);
}
