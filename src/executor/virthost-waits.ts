/**
 * The waits at the start of `stage-installer` that keep a virthost's reinstall from taking its guests' work down:
 * the virthost's job waits until every guest's job has drained; each guest's job waits until the virthost's job has
 * succeeded. They read the other jobs from the store on every look, so a restart resumes them as they were.
 */
import type { Frozen } from '../../store/store';
import { howJobEnded, waitingPosition } from '../present/job-position';
import type { Config, HostConfig } from '../config/schema';
import { CancelledError, StepError } from '../errors';
import { formatDuration } from '../present/duration';
import type { PlanContext, Step, StepContext } from '../steps/types';
import { guestsOf } from './virthost-guests';
import { ACTIVE_JOB_STATES, STEP_NAMES, type Job } from '../model';
import { abortableSleep } from '../util/sleep';
import { stepTag } from '../present/step-tag';

const DRAIN = STEP_NAMES.indexOf('drain');
const MAX_TIMER_MS = 2 ** 31 - 1;
const REINSTALL = STEP_NAMES.indexOf('reinstall');

/** When the virthost's job started waiting for its guests (kept across restarts; a retry starts a new window). */
export const GUESTS_WAIT_SINCE = 'stage-installer.guestsWaitSince';
/**
 * A guest's job that already failed because its virthost's job did: `!retry` of it means the operator says the
 * virthost is back, so the retried wait goes on instead of failing again. Not step-scoped: a retry keeps it.
 */
export const VIRTHOST_FAILURE_SEEN = 'virthost.failureSeen';

/**
 * The steps with `stage-installer` waiting first for the jobs it is linked to (the others as they are): a virthost's
 * job for its guests' drain (bounded by timeouts.drain + timeouts.step), a guest's job for its virthost's success,
 * after which the guest is reinstalled as any virt guest (its disk may be gone with the old virthost). Each look reads
 * the other jobs from the store (StepContext.jobOf), and a cancel of the waiting job stops the wait at its next look.
 */
export function withVirthostWaits(steps: Step[]): Step[] {
  return steps.map((step) =>
    step.name !== 'stage-installer'
      ? step
      : {
          ...step,
          // At most what a timer can hold (about 24.8 days): a longer one would fire at once.
          timeoutMs: (config: Config, job?: Job) => Math.min(MAX_TIMER_MS, step.timeoutMs(config, job) + waitBoundMs(config, job)),
          async run(ctx: StepContext) {
            if (ctx.job.options.guestJobIds?.length) await waitForGuestsDrained(ctx);
            if (ctx.job.options.virthostJobId) await waitForVirthost(ctx);
            // The staging itself sees its own bound (its commands are bounded by it), not the wait's.
            return step.run({ ...ctx, timeoutMs: Math.min(ctx.timeoutMs, step.timeoutMs(ctx.config, ctx.job)) });
          },
          ...(step.describe && { describe: (host: HostConfig, plan: PlanContext) => waitsBefore(host, plan) + step.describe!(host, plan) }),
        },
  );
}

/** The plan's words for the waits before stage-installer: a virthost's for its guests, a guest's for its virthost. */
function waitsBefore(host: HostConfig, { config, withVirthost }: PlanContext): string {
  const guests = host.kind === 'virthost' ? guestsOf(config.hosts, host.name).map((g) => g.name) : [];
  if (guests.length) return `once its guest${guests.length === 1 ? ` ${guests[0]} is` : `s ${guests.join(', ')} are`} disabled and drained (each its own job, at once): `;
  return withVirthost ? `once virthost ${host.virthost}'s job has succeeded: ` : '';
}

/** How long a virthost waits for its guests to drain: the drain bound, after a step's worth for their disable. */
export function guestsWaitMs(config: Config): number {
  return config.timeouts.drain + config.timeouts.step;
}

/** What the wait adds to stage-installer's bound (the executor's safety net; the waits end by themselves first). */
function waitBoundMs(config: Config, job?: Job): number {
  if (job?.options.guestJobIds?.length) return guestsWaitMs(config) + 60_000;
  if (job?.options.virthostJobId) {
    // The virthost's whole pipeline: its wait for the guests, then stage, reinstall, wait-ssh, post-install and
    // reboot-verify, each as often as retries allow.
    const { step, sshReturn } = config.timeouts;
    return guestsWaitMs(config) + config.retry.attempts * (4 * step + 2 * sshReturn + config.retry.maxBackoff) + 60_000;
  }
  return 0;
}

function pollMs(config: Config): number {
  return Math.max(10, Math.min(config.koji.pollInterval, 1_000));
}

/** A guest's job: wait until its virthost's job has succeeded; fail (leaving the guest disabled) when it did not. */
async function waitForVirthost(ctx: StepContext): Promise<void> {
  const id = ctx.job.options.virthostJobId!;
  const vh = ctx.job.options.virthost ?? ctx.host.virthost ?? 'its virthost';
  const guest = ctx.host.name;
  for (;;) {
    if (ctx.job.cancel) throw new CancelledError();
    const vhJob = ctx.jobOf(id);
    if (vhJob?.state === 'succeeded') {
      ctx.progress(`virthost ${vh} is back (job ${id} succeeded): reinstalling ${guest} on it`);
      return;
    }
    if (vhJob && ACTIVE_JOB_STATES.includes(vhJob.state)) {
      ctx.progress(`waiting for virthost ${vh} (job ${id}, ${waitingPosition(vhJob)})`);
    } else {
      const how = howJobEnded(vhJob);
      if (ctx.job.data[VIRTHOST_FAILURE_SEEN] === id) {
        // Failed once for this already and retried since: the operator says the virthost is back.
        ctx.progress(`virthost ${vh}'s job ${id} ${how}; retried: reinstalling ${guest} on the virthost as it is now`);
        return;
      }
      ctx.job.data[VIRTHOST_FAILURE_SEEN] = id; // saved with the failure
      const untouched = vhJob && ['pending', 'skipped'].includes(vhJob.steps[REINSTALL]?.status ?? '') ? ', before the virthost was touched' : '';
      throw new StepError('E_VIRTHOST_FAILED', `${guest} left disabled: its virthost ${vh}'s job ${id} ${how}${untouched}; once the virthost is back: !retry ${guest}`);
    }
    await abortableSleep(pollMs(ctx.config), ctx.signal);
  }
}

/** Where a guest's job stands in its drain, for the virthost's waiting line: `3 tasks`, `at [1/8] disable`. */
function drainPosition(job: Frozen<Job>): string {
  const drain = job.steps[DRAIN];
  if (job.current === DRAIN && drain?.status === 'running') {
    const n = /^waiting for (\d+) open task/.exec(drain.progress ?? '')?.[1];
    return n ? `${n} task${n === '1' ? '' : 's'}` : 'draining';
  }
  return waitingPosition(job);
}

/** A virthost's job: wait until each guest's job has drained (or, for a job that ended before, Koji says so). */
async function waitForGuestsDrained(ctx: StepContext): Promise<void> {
  const { job, config, koji } = ctx;
  const vh = ctx.host.name;
  // Goes with the job's next write (the waiting line's, within 2 s): no write of its own before the work starts.
  if (typeof job.data[GUESTS_WAIT_SINCE] !== 'number') job.data[GUESTS_WAIT_SINCE] = Date.now();
  const bound = guestsWaitMs(config);
  const deadline = (job.data[GUESTS_WAIT_SINCE] as number) + bound;
  for (;;) {
    if (job.cancel) throw new CancelledError();
    const waiting: string[] = [];
    const enabled: string[] = [];
    const drained: string[] = [];
    let askedKoji = false;
    for (const id of job.options.guestJobIds ?? []) {
      const g = ctx.jobOf(id);
      if (!g) continue; // long finished and gone from the state file
      if (g.steps[DRAIN]?.status === 'succeeded') {
        drained.push(g.host);
        continue;
      }
      if (ACTIVE_JOB_STATES.includes(g.state)) {
        waiting.push(`${g.host} (${drainPosition(g)})`);
        continue;
      }
      // Its job ended before its drain did (cancelled or failed): what Koji says of the guest decides.
      askedKoji = true;
      const kh = await koji.getHost(g.host, { signal: ctx.signal });
      if (!kh) continue;
      if (kh.enabled) {
        enabled.push(`${g.host} (its job ${g.id} ${howJobEnded(g)})`);
        continue;
      }
      const tasks = await koji.listOpenTasks(kh.id, { signal: ctx.signal });
      if (tasks.length) waiting.push(`${g.host} (${tasks.length} task${tasks.length === 1 ? '' : 's'}; its job ${g.id} ${howJobEnded(g)})`);
      else drained.push(g.host);
    }
    if (enabled.length) {
      throw new StepError(
        'E_GUEST_ENABLED',
        `${vh} not touched: its guest${enabled.length === 1 ? '' : 's'} ${enabled.join(', ')} ${enabled.length === 1 ? 'is' : 'are'} still enabled in Koji and would go down with it; disable ${enabled.length === 1 ? 'it' : 'them'} in Koji (or fix the cause and !reinstall ${vh} anew), then !retry ${vh}`,
      );
    }
    if (!waiting.length) {
      if (drained.length) ctx.progress(`guests drained: ${drained.join(', ')}`);
      return;
    }
    ctx.progress(`waiting for guests to drain: ${waiting.join(', ')}`);
    if (Date.now() >= deadline) {
      throw new StepError(
        'E_GUESTS_NOT_DRAINED',
        `${vh} not touched: its guests did not drain within ${formatDuration(bound)}: ${waiting.join(', ')}; once their tasks are done: !retry ${vh} (or !reinstall ${vh} --force-drain anew, which frees them)`,
      );
    }
    // The store is read often; the hub (for guests whose jobs ended) no more often than drain asks it.
    const nextLook = askedKoji ? Math.max(pollMs(config), config.koji.pollInterval) : pollMs(config);
    await abortableSleep(Math.min(nextLook, Math.max(1, deadline - Date.now())), ctx.signal);
  }
}
