/**
 * The shared executor: one per process. Every source of work (chat, CLI, rolling, HTTP) goes through it. It keeps
 * one job per host, runs the pipeline (src/executor/run-job.ts), persists every transition before acting on it,
 * resumes unfinished jobs after a restart, and emits typed events that the chat side renders.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { cloneJson } from '../../store/clone-json';
import type { Store } from '../../store/store';
import type { Config, HostConfig } from '../config/schema';
import { UserError, toCodedError } from '../errors';
import type { Step, StepDeps } from '../steps/types';
import { denyComment } from '../steps/koji-comments';
import {
  ACTIVE_JOB_STATES,
  STEP_NAMES,
  type AuditEntry,
  type ExecutorEvent,
  type HostRecord,
  type Identity,
  type Job,
  type Origin,
} from '../model';
import type { ApproveOptions, DenyOptions, ExecutorApi, ExecutorListener, ReinstallRequest, RequestContext } from './types';
import { JobRunner } from './job-runner';
import { describeJobPosition } from './job-states';
import { cancellableJob, decidableJob } from './order-checks';
import { applyInPlace, queuedJob, transitioned } from './job-transitions';
import { concludeEndedJob } from './job-ending';
import { createExecutorActivities, type ExecutorActivities } from '../steps/activities';
import { admitReinstall, linkVirthostJobs } from './virthost-guests';
import { InstallerDisarms } from './installer-disarms';
import { withVirthostWaits } from './virthost-waits';
import { outsideRefusal } from '../audit/audit-kind';
import { OutsideRefusals } from '../audit/outside-refusals';

export interface ExecutorOptions extends StepDeps {
  store: Store;
  /** The pipeline's eight steps, in order (createSteps() in production; scripted ones in tests). */
  steps: Step[];
  /** Called at each durable transition of a job (crash tests kill the process there). */
  checkpoint?: (point: string, job: Job) => void;
  /** Job ids; tests may make them predictable. */
  newId?: () => string;
  /** While the store cannot be written, how often to try a write again (default 5 s). */
  storeRetryMs?: number;
  /** The connection layers and the Koji comment (default: createExecutorActivities over these deps). */
  activities?: ExecutorActivities;
}

/** The states a job has a runner in (awaiting-approval waits for a decision, without one). */
const RUNNABLE = new Set<Job['state']>(['queued', 'running', 'enabling']);

export class Executor implements ExecutorApi {
  readonly config: Config;
  readonly store: Store;
  private readonly log: Logger;
  private readonly deps: StepDeps;
  /** Connections (shared between jobs, and per job) and the Koji comment, built outside the executor. */
  private readonly activities: ExecutorActivities;
  private readonly steps: Step[];
  private readonly listeners = new Set<ExecutorListener>();
  private readonly runners = new Map<string, JobRunner>();
  private readonly hostsByName: Map<string, HostConfig>;
  private readonly newId: () => string;
  private readonly checkpoint?: (point: string, job: Job) => void;
  private stopping = false;
  private storeBroken = false;
  private readonly storeRetryMs: number;
  private storeProbe?: NodeJS.Timeout;
  /** Audit entries that could not be written while the store was broken, appended once it works again. */
  private readonly pendingAudit: AuditEntry[] = [];
  /** Refusals from outside (no identity rekick can trust): counted and summed up, never stored one by one. */
  readonly outsideRefusals: OutsideRefusals;
  /** Disarming the installer of jobs ended cancelled or failed before a new system was proven (issue 19). */
  private readonly disarms: InstallerDisarms;

  constructor(options: ExecutorOptions) {
    this.config = options.config;
    this.store = options.store;
    this.log = options.log;
    this.activities = options.activities ?? createExecutorActivities(options);
    this.deps = this.activities.deps;
    // A guest's and its virthost's jobs wait for each other around stage-installer (reading the store).
    this.steps = withVirthostWaits(options.steps);
    this.newId = options.newId ?? (() => `j-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`);
    this.hostsByName = new Map(options.config.hosts.map((h) => [h.name, h]));
    this.checkpoint = options.checkpoint;
    this.storeRetryMs = options.storeRetryMs ?? 5_000;
    this.outsideRefusals = new OutsideRefusals({ log: options.log, note: (summary) => this.store.noteRefusal(summary) });
    this.disarms = new InstallerDisarms({
      deps: this.deps,
      store: this.store,
      host: (name) => this.hostsByName.get(name),
      notify: (level, text, origin) => this.notify(level, text, origin),
      ending: this.endingIo(),
      onStoreFailure: (err) => this.onStoreFailure(err),
    });
  }

  on(listener: ExecutorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ExecutorEvent): void {
    const frozen = 'job' in event ? { ...event, job: cloneJson(event.job) } : event;
    for (const l of this.listeners) {
      try {
        l(frozen as ExecutorEvent);
      } catch (err) {
        this.log.error({ err, event: event.type }, 'executor listener failed');
      }
    }
  }

  /** Posts a notice to every chat (e.g. a Koji hub outage). */
  notify(level: 'info' | 'warn' | 'error', text: string, origin?: Origin): void {
    this.emit({ type: 'notice', level, text, origin });
  }

  host(name: string): HostConfig | undefined {
    return this.hostsByName.get(name);
  }

  resolveHosts(names: string[]): HostConfig[] {
    const out: HostConfig[] = [];
    const seen = new Set<string>();
    for (const name of names) {
      let hosts: HostConfig[];
      if (name.startsWith('group:')) {
        const group = name.slice('group:'.length);
        hosts = this.config.hosts.filter((h) => h.groups.includes(group));
        if (!hosts.length) throw new UserError(`unknown group: ${group}`, 'E_UNKNOWN_GROUP');
      } else {
        const h = this.hostsByName.get(name);
        if (!h) throw new UserError(`unknown host: ${name}`, 'E_UNKNOWN_HOST');
        hosts = [h];
      }
      for (const h of hosts) {
        if (!seen.has(h.name)) out.push(h);
        seen.add(h.name);
      }
    }
    return out;
  }

  async reinstall(request: ReinstallRequest): Promise<Job[]> {
    if (this.stopping) throw new UserError('rekick is shutting down; try again when it is back', 'E_STOPPING');
    this.assertStoreWritable();
    if (!request.hosts.length) throw new UserError('name at least one host', 'E_USAGE');
    // A virthost comes with its guests (one linked job each); a busy host among them refuses the whole request.
    const admitted = admitReinstall(this.resolveHosts(request.hosts), this.config, (n) => this.store.activeJob(n) ?? this.disarms.busy(n), describeJobPosition);
    const hosts = admitted.map((a) => a.host);
    const now = new Date().toISOString();
    const fields = { requestedBy: request.by, origin: request.origin, reason: request.reason };
    const options = { forceDrain: request.forceDrain || undefined, rollingRunId: request.rollingRunId };
    let jobs = hosts.map((h) => queuedJob({ id: this.newId(), host: h.name, ...fields, options: { ...options } }, (i) => this.steps[i]!.appliesTo?.(h) === false, now));
    linkVirthostJobs(jobs, admitted);
    // Each job is saved with its first step already started: one durable write between the command and the
    // first Koji call (a crash before that call resumes the job at that step, as it would a queued job).
    jobs = jobs.map((job) => {
      const first = job.steps.findIndex((s) => s.status === 'pending');
      if (first < 0 || first === job.steps.length - 1) return job; // enable runs after the approval, not now
      return transitioned(transitioned(job, { type: 'run' }), { type: 'step-started', index: first, at: now });
    });
    await this.store.saveJobs(jobs);
    const audited: Promise<void>[] = [];
    for (const job of jobs) {
      // The job is durable; its audit entry goes into the next write, while the first step works, not before it.
      audited.push(this.audit({ who: request.by, origin: request.origin, action: 'reinstall', host: job.host, jobId: job.id, outcome: 'ok', detail: request.reason }));
      this.emit({ type: 'job-queued', job });
      // From the job as the store holds it now: a !cancel during the write above has ended it, and it stays so.
      this.launch(job.id, { startSaved: job.state === 'running' });
    }
    await Promise.all(audited);
    return jobs.map((j) => cloneJson(j));
  }

  async approve(hosts: string[] | 'all', ctx: RequestContext & ApproveOptions): Promise<Job[]> {
    this.assertStoreWritable();
    let jobs: Job[];
    if (hosts === 'all') {
      jobs = this.queue();
      if (!jobs.length) throw new UserError('no host is waiting for approval', 'E_NOTHING_WAITING');
      // `all` skips hosts that need --override rather than refusing the lot, and jobs being cancelled.
      jobs = jobs.filter((j) => !j.cancel && (ctx.override || !(j.kojiBefore && !j.kojiBefore.enabled)));
    } else {
      if (!hosts.length) throw new UserError('name at least one host, or all', 'E_USAGE');
      this.resolveHosts(hosts.filter((h) => h.startsWith('group:')));
      jobs = [];
      for (const name of hosts) {
        for (const h of this.resolveHosts([name])) {
          const target = { current: this.store.activeJob(h.name), jobId: ctx.jobIds?.[h.name], find: (id: string) => this.store.getJob(id) };
          const job = decidableJob(h.name, target, 'nothing approved');
          if (job.kojiBefore && !job.kojiBefore.enabled && !ctx.override) {
            throw new UserError(
              `${h.name} was already disabled in Koji before rekick touched it (comment: "${job.kojiBefore.comment ?? ''}"); !approve ${h.name} --override enables it anyway; nothing approved`,
              'E_NEEDS_OVERRIDE',
            );
          }
          jobs.push(job);
        }
      }
    }
    const at = new Date().toISOString();
    const approval = { by: ctx.by, at, override: ctx.override || undefined, auto: ctx.auto || undefined };
    jobs = jobs.map((job) => transitioned(job, { type: 'approve', decision: { ...approval } }));
    await this.store.saveJobs(jobs);
    for (const job of jobs) this.checkpoint?.('approved', job);
    for (const job of jobs) {
      await this.audit({
        who: ctx.by,
        origin: ctx.origin,
        action: ctx.auto ? 'auto-approve' : ctx.override ? 'approve-override' : 'approve',
        host: job.host,
        jobId: job.id,
        outcome: 'ok',
      });
      this.emit({ type: 'approved', job, by: ctx.by, override: Boolean(ctx.override), auto: Boolean(ctx.auto) });
      this.launch(job.id);
    }
    return jobs.map((j) => cloneJson(j));
  }

  async deny(host: string, ctx: RequestContext & DenyOptions): Promise<Job> {
    this.assertStoreWritable();
    const [h] = this.resolveHosts([host]);
    const target = { current: this.store.activeJob(h!.name), jobId: ctx.jobId, find: (id: string) => this.store.getJob(id) };
    const denial = { by: ctx.by, at: new Date().toISOString(), reason: ctx.reason };
    const job = transitioned(decidableJob(h!.name, target, 'nothing denied'), { type: 'deny', decision: denial });
    await this.store.saveJob(job);
    await this.audit({ who: ctx.by, origin: ctx.origin, action: 'deny', host: job.host, jobId: job.id, outcome: 'ok', detail: ctx.reason });
    // The job is finished: nothing else changes it, so this copy is still the store's.
    await this.trySetComment(job, denyComment(job, ctx.by, ctx.reason));
    await this.store.saveJob(job);
    this.emit({ type: 'denied', job, by: ctx.by, reason: ctx.reason });
    return cloneJson(job);
  }

  async cancel(host: string, ctx: RequestContext): Promise<Job> {
    this.assertStoreWritable();
    const [h] = this.resolveHosts([host]);
    const job = cancellableJob(h!.name, this.store.activeJob(h!.name));
    const decision = { by: ctx.by, at: new Date().toISOString() };
    // A runner still working the job holds it: it records the cancel and stops at the next safe point (including
    // its approval gate). A job without one (waiting for approval, or not started yet) ends cancelled now.
    const runner = this.runners.get(job.id);
    if (runner?.takesCancel) await runner.requestCancel(decision);
    else await this.finishCancelled(transitioned(job, { type: 'cancel', decision }));
    await this.audit({ who: ctx.by, origin: ctx.origin, action: 'cancel', host: job.host, jobId: job.id, outcome: 'ok' });
    return cloneJson(this.store.getJob(job.id) ?? job);
  }

  /**
   * Ends a job as cancelled: the host stays disabled, with a comment saying who cancelled and where. Called with
   * the job as its runner holds it (or as the store holds it, without a runner); a job the store has finished
   * meanwhile is left as it is. `background`: a disarm of its installer is finished without waiting for it (the host
   * busy meanwhile; the comment and the line come after it), as at start for a cancel a crash left pending.
   */
  async finishCancelled(job: Job, options: { background?: boolean } = {}): Promise<void> {
    const stored = this.store.peekJob(job.id);
    if (stored && !ACTIVE_JOB_STATES.includes(stored.state)) {
      this.log.warn({ job: job.id, state: stored.state }, 'cancel of a job already finished: left as it is');
      return;
    }
    const done = transitioned(job, { type: 'end-cancelled', at: new Date().toISOString(), host: this.hostsByName.get(job.host) }); // a disarm pending
    await this.store.saveJob(done);
    if (options.background && done.disarm?.outcome === 'pending') return this.disarms.finishInBackground(done);
    await this.disarms.finish(done);
    await concludeEndedJob(done, this.endingIo());
  }

  async retry(host: string, ctx: RequestContext): Promise<Job> {
    this.assertStoreWritable();
    const [h] = this.resolveHosts([host]);
    // A disarm resumed at start: the retry goes on from its outcome (no await otherwise: orders keep their order).
    if (this.disarms.busy(h!.name)) await this.disarms.settled(h!.name);
    let last = this.retryableJob(h!.name);
    // The runner that failed may still be recording the failure (its Koji comment, its last write): let it finish,
    // then decide on the job as the store holds it then, so that runner cannot write the failure over the retry.
    const winding = this.runners.get(last.id);
    if (winding) {
      await winding.done;
      last = this.retryableJob(h!.name);
    }
    const job = transitioned(last, { type: 'retry', by: ctx.by, at: new Date().toISOString() });
    const step = job.steps[job.current]!;
    await this.store.saveJob(job);
    await this.audit({ who: ctx.by, origin: ctx.origin, action: 'retry', host: job.host, jobId: job.id, outcome: 'ok', detail: `from ${step.name}` });
    // From the job as the store holds it now: a !cancel since the write above has ended it, and it stays so.
    this.launch(job.id);
    return cloneJson(this.store.getJob(job.id) ?? job);
  }

  /** The host's failed job that `!retry` resumes, or a refusal. */
  private retryableJob(host: string): Job {
    if (this.store.activeJob(host)) throw new UserError(`${host} is in a job that has not failed; nothing to retry`, 'E_NOT_FAILED');
    const [last] = this.store.listJobs({ host, limit: 1 });
    if (!last || last.state !== 'failed') {
      throw new UserError(`${host} has no failed job to retry${last ? ` (its last job ${last.id} ${last.state})` : ''}`, 'E_NOT_FAILED');
    }
    return last;
  }

  jobs(options: { host?: string; limit?: number } = {}): Job[] {
    return this.store.listJobs({ host: options.host, limit: options.limit ?? 20 });
  }

  queue(): Job[] {
    return this.store
      .listJobs({ states: ['awaiting-approval'] })
      .sort((a, b) => waitingSince(a).localeCompare(waitingSince(b)));
  }

  async start(): Promise<void> {
    this.disarms.resumePending();
    await this.resumeJobs('resuming job');
  }

  /**
   * Resumes the unfinished jobs that have no runner, oldest first, each as the store holds it at its turn (an order
   * may come while an earlier one is being finished). A pending cancel ends its job cancelled, one waiting for
   * approval included (a disarm it needs goes on in the background: a host that does not answer holds up neither
   * the other jobs nor the start); a job waiting for approval otherwise waits on.
   */
  private async resumeJobs(why: string): Promise<void> {
    const ids = this.store.listJobs({ states: ACTIVE_JOB_STATES }).reverse().map((j) => j.id);
    for (const id of ids) {
      if (this.stopping) return;
      const job = this.store.getJob(id);
      if (!job || !ACTIVE_JOB_STATES.includes(job.state) || this.runners.has(id)) continue;
      if (job.cancel && job.state !== 'enabling') {
        await this.finishCancelled(job, { background: true });
        continue;
      }
      if (job.state === 'awaiting-approval') continue;
      this.log.info({ job: job.id, host: job.host, step: STEP_NAMES[job.current] }, why);
      this.launch(job.id);
    }
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.storeProbe);
    this.storeProbe = undefined;
    const running = [...this.runners.values()];
    const timer = setTimeout(() => {
      running.forEach((r) => r.abortForShutdown());
      this.disarms.stop(); // a disarm under way stays pending: the next start finishes it
    }, graceMs);
    await Promise.allSettled(running.map((r) => r.done));
    await this.disarms.idle();
    clearTimeout(timer);
    await this.activities.closeAll();
  }

  async idle(): Promise<void> {
    while (this.runners.size) await Promise.allSettled([...this.runners.values()].map((r) => r.done));
    await this.disarms.idle();
  }

  /**
   * Records an audit entry (see src/audit/audit-kind.ts). A security action (outcome `ok`) is durable when this
   * resolves, and kept apart from refusals. A refusal of someone rekick can tell goes to the store's refusal list,
   * written with a later write; a refusal from outside (no trustworthy identity) is only counted and logged at a
   * limited rate. Neither kind costs a write of its own.
   */
  async audit(entry: Omit<AuditEntry, 'at'>): Promise<void> {
    const full: AuditEntry = { at: new Date().toISOString(), ...entry };
    const outside = outsideRefusal(full);
    if (outside) {
      this.outsideRefusals.record(full, outside);
      return;
    }
    this.log.info({ audit: full }, `audit: ${entry.action} ${entry.outcome}`);
    if (full.outcome !== 'ok') {
      // Its write is nobody's to await: a failure of it is a store failure all the same.
      this.store.noteRefusal(full, { flushSoon: true, onFlushError: (err) => this.onStoreFailure(err) });
      return;
    }
    try {
      await this.store.appendAudit(full);
    } catch (err) {
      // Kept, and appended once the store works again: a security action during a full disk is still audited.
      this.pendingAudit.push(full);
      this.onStoreFailure(err);
    }
  }

  /** Called when a write to the store failed: say so once in chat, stop taking new work. */
  onStoreFailure(err: unknown): void {
    const e = toCodedError(err);
    this.log.error({ err: e }, 'store write failed');
    if (!this.storeBroken) {
      this.storeBroken = true;
      this.notify('error', `rekick cannot write its state file (${e.message}); it takes no new work until that is fixed. Running jobs stop at their next step.`);
    }
    this.scheduleStoreProbe();
  }

  /** Called after a successful write following a failure: says so, resumes the jobs the failure stopped. */
  onStoreRecovered(): void {
    if (!this.storeBroken) return;
    this.storeBroken = false;
    clearTimeout(this.storeProbe);
    this.storeProbe = undefined;
    this.notify('info', 'rekick can write its state file again; it takes new work.');
    void this.afterStoreRecovered();
  }

  /** While the store is broken nothing else may write: try an empty write now and then to find out it works again. */
  private scheduleStoreProbe(): void {
    if (this.storeProbe || this.stopping || !this.storeBroken) return;
    this.storeProbe = setTimeout(() => {
      this.storeProbe = undefined;
      this.store.saveJobs([]).then(
        () => this.onStoreRecovered(),
        (err) => {
          this.log.debug({ err }, 'state file still not writable');
          this.scheduleStoreProbe();
        },
      );
    }, this.storeRetryMs);
    this.storeProbe.unref?.();
  }

  private async afterStoreRecovered(): Promise<void> {
    for (const entry of this.pendingAudit.splice(0)) await this.audit(entry);
    if (this.stopping || this.storeBroken) return;
    // Jobs whose runner stopped on a failed write are still active in the store, at their last durable step.
    await this.resumeJobs('resuming job after the state file became writable').catch((err) => this.onStoreFailure(err));
  }

  private assertStoreWritable(): void {
    if (this.storeBroken || !this.store.writable) {
      throw new UserError('rekick cannot write its state file right now, so it takes no new work (see the logs)', 'E_STORE_READONLY');
    }
  }

  /** How the end of a cancelled or failed job is written (job-ending.ts): straight to the store. */
  endingIo() {
    return {
      setComment: (job: Job, comment: string) => this.trySetComment(job, comment),
      save: (job: Job) => this.store.saveJob(job),
      getHost: (name: string) => this.store.getHost(name),
      saveHost: (record: HostRecord) => this.store.saveHost(record),
      emit: (event: ExecutorEvent) => this.emit(event),
    };
  }

  private async trySetComment(job: Job, comment: string): Promise<void> {
    if (job.steps[0]!.status !== 'succeeded') return;
    try {
      await this.activities.setHostComment(job.host, comment);
      applyInPlace(job, { type: 'comment-set', comment });
    } catch (err) {
      this.log.warn({ err, host: job.host }, 'could not set the Koji comment');
    }
  }

  /**
   * Starts a runner for the job as the store holds it now: a job finished, cancelled or waiting for approval
   * meanwhile is not started (a pending cancel is acted on by the runner's first check).
   */
  private launch(jobId: string, options: { startSaved?: boolean } = {}): void {
    if (this.stopping) return;
    const job = this.store.getJob(jobId);
    if (!job || !RUNNABLE.has(job.state)) return;
    const previous = this.runners.get(job.id);
    if (previous) {
      // Its last runner is still winding down (e.g. it just reached the approval gate and an auto-approval came at
      // once): go on once it has, not never, from the job as it is then.
      void previous.done.then(() => this.launch(job.id));
      return;
    }
    const host = this.hostsByName.get(job.host);
    if (!host) {
      this.log.error({ job: job.id, host: job.host }, 'job for a host no longer in the config: left as it is');
      return;
    }
    const runner = new JobRunner({
      job,
      host,
      steps: this.steps,
      activities: this.activities.forJob(),
      store: this.store,
      emit: (e) => this.emit(e),
      onStoreFailure: (err) => this.onStoreFailure(err),
      onStoreRecovered: () => this.onStoreRecovered(),
      finishCancelled: (j) => this.finishCancelled(j),
      disarm: (j) => this.disarms.finish(j),
      startSaved: options.startSaved,
      setComment: (j, c) => this.trySetComment(j, c),
      checkpoint: this.checkpoint,
    });
    this.runners.set(job.id, runner);
    void runner.done.finally(() => this.runners.delete(job.id));
    runner.start();
  }
}

function waitingSince(job: Job): string {
  return job.steps[STEP_NAMES.indexOf('reboot-verify')]?.endedAt ?? job.updatedAt;
}

export { describeJobPosition };

export type { Identity };
