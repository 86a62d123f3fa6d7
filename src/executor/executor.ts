/**
 * The shared executor: one per process. Every source of work (chat, CLI, rolling, HTTP) goes through it. It keeps
 * one job per host, takes the orders (order-*.ts), runs each job's pipeline (job-runner.ts), resumes unfinished jobs
 * after a restart, and emits typed events that the chat side renders.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Store } from '../../store/store';
import type { Config, HostConfig } from '../config/schema';
import { createExecutorActivities, type ExecutorActivities } from '../steps/activities';
import type { Step } from '../steps/types';
import type { AuditEntry, ExecutorEvent, Job, Origin } from '../model';
import type { ApproveOptions, DenyOptions, ExecutorApi, ExecutorListener, ReinstallRequest, RequestContext } from './types';
import { AuditRecorder } from './audit-recorder';
import { EventHub } from './event-hub';
import { InstallerDisarms } from './installer-disarms';
import { JobLauncher } from './job-launcher';
import type { JobEndingIo } from './job-ending';
import { cancelOrder, finishCancelled, retryOrder } from './order-cancel-retry';
import { approveOrder, denyOrder } from './order-decisions';
import type { OrderHost } from './order-host';
import { reinstallOrder } from './order-reinstall';
import { expandHostWords } from '../hosts/expand';
import { indexHosts, type HostIndex } from '../hosts/host-index';
import { resumeJobs } from './resume-jobs';
import { waitingSince } from '../present/job-lines';
import { StoreHealth } from './store-health';
import { withVirthostWaits } from './virthost-waits';
import type { ExecutorOptions } from './executor-options';
import { setHostComment } from './host-comment';

export type { ExecutorOptions } from './executor-options';

export class Executor implements ExecutorApi, OrderHost {
  readonly config: Config;
  readonly store: Store;
  readonly log: Logger;
  /** Connections (shared between jobs, and per job) and the Koji comment, built outside the executor. */
  private readonly activities: ExecutorActivities;
  readonly steps: Step[];
  private readonly events: EventHub;
  readonly launcher: JobLauncher;
  private readonly hostIndex: HostIndex;
  readonly newId: () => string;
  readonly checkpoint?: (point: string, job: Job) => void;
  stopping = false;
  private readonly storeHealth: StoreHealth;
  private readonly auditor: AuditRecorder;
  /** Refusals from outside (no identity rekick can trust): counted and summed up, never stored one by one. */
  readonly outsideRefusals: AuditRecorder['outsideRefusals'];
  /** Disarming the installer of jobs ended cancelled or failed before a new system was proven. */
  readonly disarms: InstallerDisarms;
  /** How the end of a cancelled or failed job is written (job-ending.ts): straight to the store. */
  readonly ending: JobEndingIo;

  constructor(options: ExecutorOptions) {
    this.config = options.config;
    this.store = options.store;
    this.log = options.log;
    this.activities = options.activities ?? createExecutorActivities(options);
    // A guest's and its virthost's jobs wait for each other around stage-installer (reading the store).
    this.steps = withVirthostWaits(options.steps);
    this.newId = options.newId ?? (() => `j-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`);
    this.hostIndex = indexHosts(options.config.hosts);
    this.checkpoint = options.checkpoint;
    this.events = new EventHub(options.log);
    this.storeHealth = new StoreHealth({
      store: this.store,
      log: options.log,
      retryMs: options.storeRetryMs ?? 5_000,
      notify: (level, text) => this.notify(level, text),
      stopping: () => this.stopping,
      recovered: () => void this.afterStoreRecovered(),
    });
    this.auditor = new AuditRecorder(this.store, options.log, (err) => this.onStoreFailure(err));
    this.outsideRefusals = this.auditor.outsideRefusals;
    this.ending = {
      setComment: (job, comment) => this.trySetComment(job, comment),
      save: (job) => this.store.saveJob(job),
      getHost: (name) => this.store.getHost(name),
      saveHost: (record) => this.store.saveHost(record),
      emit: (event) => this.emit(event),
    };
    this.disarms = new InstallerDisarms({
      deps: this.activities.deps,
      store: this.store,
      host: (name) => this.hostIndex.host(name),
      notify: (level, text, origin) => this.notify(level, text, origin),
      ending: this.ending,
      onStoreFailure: (err) => this.onStoreFailure(err),
    });
    this.launcher = new JobLauncher({
      store: this.store,
      log: options.log,
      host: (name) => this.hostIndex.host(name),
      stopping: () => this.stopping,
      runnerOptions: () => ({
        steps: this.steps,
        activities: this.activities.forJob(),
        store: this.store,
        emit: (e) => this.emit(e),
        onStoreFailure: (err) => this.onStoreFailure(err),
        onStoreRecovered: () => this.onStoreRecovered(),
        finishCancelled: (j) => this.finishCancelled(j),
        disarm: (j) => this.disarms.finish(j),
        setComment: (j, c) => this.trySetComment(j, c),
        checkpoint: this.checkpoint,
      }),
    });
  }

  on(listener: ExecutorListener): () => void {
    return this.events.on(listener);
  }

  emit(event: ExecutorEvent): void {
    this.events.emit(event);
  }

  /** Posts a notice to every chat (e.g. a Koji hub outage). */
  notify(level: 'info' | 'warn' | 'error', text: string, origin?: Origin): void {
    this.emit({ type: 'notice', level, text, origin });
  }

  host(name: string): HostConfig | undefined {
    return this.hostIndex.host(name);
  }

  resolveHosts(names: string[]): HostConfig[] {
    return expandHostWords(this.hostIndex, names);
  }

  reinstall(request: ReinstallRequest): Promise<Job[]> {
    return reinstallOrder(this, request);
  }

  approve(hosts: string[] | 'all', ctx: RequestContext & ApproveOptions): Promise<Job[]> {
    return approveOrder(this, hosts, ctx);
  }

  deny(host: string, ctx: RequestContext & DenyOptions): Promise<Job> {
    return denyOrder(this, host, ctx);
  }

  cancel(host: string, ctx: RequestContext): Promise<Job> {
    return cancelOrder(this, host, ctx);
  }

  /** Ends a job as cancelled (order-cancel-retry.ts). */
  finishCancelled(job: Job, options: { background?: boolean } = {}): Promise<void> {
    return finishCancelled(this, job, options);
  }

  retry(host: string, ctx: RequestContext): Promise<Job> {
    return retryOrder(this, host, ctx);
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
    await resumeJobs(this, 'resuming job');
  }

  async stop(graceMs = 10_000): Promise<void> {
    this.stopping = true;
    this.storeHealth.stop();
    const running = this.launcher.running();
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
    await this.launcher.idle();
    await this.disarms.idle();
  }

  /** Records an audit entry (audit-recorder.ts). */
  audit(entry: Omit<AuditEntry, 'at'>): Promise<void> {
    return this.auditor.audit(entry);
  }

  /** Called when a write to the store failed: say so once in chat, stop taking new work. */
  onStoreFailure(err: unknown): void {
    this.storeHealth.failed(err);
  }

  /** Called after a successful write following a failure: says so, resumes the jobs the failure stopped. */
  onStoreRecovered(): void {
    this.storeHealth.succeeded();
  }

  private async afterStoreRecovered(): Promise<void> {
    await this.auditor.flushPending();
    if (this.stopping || this.storeHealth.isBroken) return;
    // Jobs whose runner stopped on a failed write are still active in the store, at their last durable step.
    await resumeJobs(this, 'resuming job after the state file became writable').catch((err) => this.onStoreFailure(err));
  }

  assertStoreWritable(): void {
    this.storeHealth.assertWritable();
  }

  /** Sets the host's Koji comment once rekick has disabled it (host-comment.ts). */
  private trySetComment(job: Job, comment: string): Promise<void> {
    return setHostComment(job, comment, this.activities, this.log);
  }
}
