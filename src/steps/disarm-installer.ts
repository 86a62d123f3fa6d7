/**
 * Disarming: a job ended cancelled or failed between stage-installer and a proven new system may leave the one-time
 * installer entry armed, so the next ordinary reboot would wipe the host. This module decides when the driver's
 * `disarm` runs, bounds it, and returns the outcome recorded on the job (written `pending` with the end, then
 * finished; a restart finishes a pending one).
 */
import type { Config, HostConfig } from '../config/schema';
import type { DriverContext, HostDriver } from '../drivers/types';
import { abortableSleep } from '../util/sleep';
import { toCodedError } from '../errors';
import { HostKeyChangedError } from '../ssh/errors';
import type { StepDeps } from './types';
import { STEP_NAMES, type DisarmRecord, type Job, type StepName } from '../model';
import { currentStep } from '../present/step-tag';

const STAGE = STEP_NAMES.indexOf('stage-installer');
const REINSTALL = STEP_NAMES.indexOf('reinstall');
const WAIT_SSH = STEP_NAMES.indexOf('wait-ssh');

/** How long the disarm's commands may take once connected (they are a handful of quick ones). */
const COMMANDS_MS = 30_000;

/**
 * What a job ending now (cancelled or failed) leaves behind: `installer` (bare metal or a virthost: an entry may be
 * armed), `vm-gone` (a virt guest whose VM stage-installer destroyed, not re-created by virt-install), or nothing:
 * stage-installer's work never started, or the host proved a new system (the installer ran; nothing is armed any
 * more). Its work has started once it recorded the old system (job.before, saved before anything is armed), or
 * when it succeeded; a stage-installer that failed or was cancelled while it waited for linked jobs (a guest for its
 * virthost, a virthost for its guests' drain) touched nothing.
 */
export function disarmNeeded(job: Job, host: HostConfig): 'installer' | 'vm-gone' | undefined {
  const stage = job.steps[STAGE];
  if (!stage || (!job.before && stage.status !== 'succeeded')) return undefined;
  if (job.proof || job.steps[WAIT_SSH]?.status === 'succeeded') return undefined;
  if (host.kind === 'virt') return job.steps[REINSTALL]?.status === 'succeeded' ? undefined : 'vm-gone';
  return 'installer';
}

export interface DisarmOptions {
  /** Connection attempts before giving up (default 2). */
  attempts?: number;
  /** The pause between attempts (default a fifth of ssh.connectTimeout, at most 3 s). */
  pauseMs?: number;
  /** Aborted at shutdown: the disarm stops and stays pending (the next start finishes it). */
  signal?: AbortSignal;
}

export type DisarmDeps = Pick<StepDeps, 'config' | 'connector' | 'drivers' | 'log'>;

/** The activity: disarms the job's host and returns the outcome, or undefined when shutdown stopped it. Never throws. */
export type DisarmActivity = (job: Job, host: HostConfig, deps: DisarmDeps, options?: DisarmOptions) => Promise<DisarmRecord | undefined>;

/**
 * Disarms the installer on the job's host: a few bounded tries (each the connect timeout plus the commands' time),
 * since a host that does not answer may be rebooting; then the outcome, `failed` with the reason when it never did.
 * Left armed, the next ordinary reboot (an admin's, a kernel update's, a power cut's) would run the installer and
 * wipe a host rekick calls cancelled or failed. A virt guest has nothing to disarm: its stage destroyed and undefined
 * the VM, and its record says so (markDisarm).
 */
export const disarmInstaller: DisarmActivity = async (job, host, deps, options = {}) => {
  const { config, log } = deps;
  const driver: HostDriver | undefined = host.kind === 'virt' ? deps.drivers?.virt : deps.drivers?.baremetal;
  const at = () => new Date().toISOString();
  if (!driver?.disarm) return { outcome: 'failed', at: at(), detail: `the ${host.kind} driver cannot disarm` };
  const attempts = Math.max(1, options.attempts ?? 2);
  const pauseMs = options.pauseMs ?? Math.min(3_000, Math.floor(config.ssh.connectTimeout / 5));
  const boundMs = config.ssh.connectTimeout + Math.min(COMMANDS_MS, config.ssh.commandTimeout);
  const started = Date.now();
  const jobLog = log.child({ job: job.id, host: host.name, activity: 'disarm' });
  let last = '';
  for (let attempt = 1; ; attempt++) {
    const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(boundMs)]) : AbortSignal.timeout(boundMs);
    try {
      const result = await driver.disarm(driverContext(config, host, deps, signal, boundMs, jobLog));
      jobLog.info({ armed: result.armed, detail: result.detail }, 'installer disarmed');
      return { outcome: result.armed ? 'disarmed' : 'nothing-armed', at: at(), detail: result.detail };
    } catch (err) {
      if (options.signal?.aborted) return undefined;
      // After the reboot into the installer, a new host key is the installer's work: grub used the one-time entry
      // (nothing is armed any more) and the old system is gone. Not a failure to disarm: nothing is left to do.
      if (err instanceof HostKeyChangedError && job.steps[REINSTALL]?.status === 'succeeded') {
        jobLog.info({ presented: err.presented }, 'nothing to disarm: the host answers with a new host key after the reboot into the installer');
        return { outcome: 'installer-ran', at: at(), detail: `${host.name} answers with a new host key (${err.presented})` };
      }
      last = signal.aborted ? `${host.name} did not finish within ${Math.round(boundMs / 1000)}s` : toCodedError(err).message;
      jobLog.warn({ err, attempt }, 'could not disarm the installer');
    }
    if (attempt >= attempts) break;
    await abortableSleep(pauseMs, options.signal).catch(() => undefined);
    if (options.signal?.aborted) return undefined;
  }
  const seconds = Math.max(1, Math.round((Date.now() - started) / 1000));
  return { outcome: 'failed', at: at(), detail: `${squeezedLine(last)} (${attempts} ${attempts === 1 ? 'try' : 'tries'} in ${seconds}s)` };
};

function driverContext(config: Config, host: HostConfig, deps: DisarmDeps, signal: AbortSignal, timeoutMs: number, log: DisarmDeps['log']): DriverContext {
  return {
    host,
    config,
    connector: deps.connector,
    signal,
    timeoutMs,
    progress: (message) => log.info(message),
    output: (line) => log.debug({ line }, 'remote output'),
  };
}

/** Whitespace runs squeezed to one space, at most 200 characters: a disarm failure's cause as recorded on the job. */
function squeezedLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}

/** The step `!retry` of this failed job resumes from (`failed`: the step that failed, when the caller knows it). */
export function retryStep(job: Job, failed?: StepName): StepName {
  if (rearms(job)) return 'stage-installer';
  return failed ?? job.error?.step ?? currentStep(job);
}

/** Whether `!retry` of this failed job re-arms its installer: it resumes from stage-installer. */
export function rearms(job: Job): boolean {
  const outcome = job.disarm?.outcome;
  return (outcome === 'disarmed' || outcome === 'nothing-armed') && job.current > STAGE;
}
