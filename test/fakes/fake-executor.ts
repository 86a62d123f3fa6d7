/**
 * A fake ExecutorApi for the chat side's tests: jobs live in a real MemoryStore, requests are recorded in
 * `calls`, refusals follow the real executor's rules (unknown/busy hosts refuse the whole request, approve/deny/
 * cancel/retry need a job in the matching state), and `emit` lets a test play any event. Nothing runs steps:
 * `seed` puts a job in whatever state a test needs.
 */
import type { Config, HostConfig } from '../../src/config/schema';
import { UserError } from '../../src/errors';
import type { ApproveOptions, DenyOptions, ExecutorApi, ExecutorListener, ReinstallRequest, RequestContext } from '../../src/executor/types';
import { MemoryStore } from '../../store/memory-store';
import { STEP_NAMES, type ExecutorEvent, type Identity, type Job, type JobState, type StepRecord } from '../../src/model';
import { testConfig } from './test-config';

export interface FakeCall {
  method: 'reinstall' | 'approve' | 'deny' | 'cancel' | 'retry';
  args: unknown[];
}

export class FakeExecutor implements ExecutorApi {
  readonly config: Config;
  readonly store: MemoryStore;
  readonly calls: FakeCall[] = [];
  /** Makes the next call of a method throw this error (once). */
  readonly failNext = new Map<FakeCall['method'], Error>();
  private readonly listeners = new Set<ExecutorListener>();
  private seq = 0;

  private constructor(config: Config, store: MemoryStore) {
    this.config = config;
    this.store = store;
  }

  static async create(config: Config = testConfig()): Promise<FakeExecutor> {
    const store = new MemoryStore();
    await store.open();
    return new FakeExecutor(config, store);
  }

  notify(level: 'info' | 'warn' | 'error', text: string, origin?: import('../../src/model').Origin): void {
    this.emit({ type: 'notice', level, text, origin });
  }

  on(listener: ExecutorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ExecutorEvent): void {
    for (const l of this.listeners) l(event);
  }

  host(name: string): HostConfig | undefined {
    return this.config.hosts.find((h) => h.name === name);
  }

  resolveHosts(names: string[]): HostConfig[] {
    const out = new Map<string, HostConfig>();
    for (const n of names) {
      if (n.startsWith('group:')) {
        const hs = this.config.hosts.filter((h) => h.groups.includes(n.slice(6)));
        if (!hs.length) throw new UserError(`unknown group: ${n.slice(6)}`);
        for (const h of hs) out.set(h.name, h);
      } else {
        const h = this.host(n);
        if (!h) throw new UserError(`unknown host: ${n}`);
        out.set(h.name, h);
      }
    }
    return [...out.values()];
  }

  private record(method: FakeCall['method'], ...args: unknown[]): void {
    this.calls.push({ method, args });
    const err = this.failNext.get(method);
    if (err) {
      this.failNext.delete(method);
      throw err;
    }
  }

  /** A job for `host` in `state`, `current` steps done (the rest pending), saved in the store. */
  async seed(host: string, state: JobState, options: Partial<Job> & { current?: number } = {}): Promise<Job> {
    const current = options.current ?? (state === 'awaiting-approval' ? 7 : 0);
    const at = new Date(Date.now() - 60_000).toISOString();
    const steps: StepRecord[] = STEP_NAMES.map((name, i) => ({
      name,
      status: i < current ? 'succeeded' : i === current && state === 'running' ? 'running' : i === current && state === 'failed' ? 'failed' : 'pending',
      attempts: i <= current ? 1 : 0,
      startedAt: i <= current ? at : undefined,
      endedAt: i < current ? at : undefined,
      durationMs: i < current ? 1500 : undefined,
    }));
    const job: Job = {
      id: `job-${++this.seq}`,
      host,
      state,
      createdAt: at,
      updatedAt: at,
      requestedBy: { source: 'irc', id: 'kevin', display: 'kevin' },
      origin: { adapter: 'irc', room: '#builders' },
      options: {},
      steps,
      current,
      data: {},
      ...options,
    };
    await this.store.saveJob(job);
    return job;
  }

  async reinstall(request: ReinstallRequest): Promise<Job[]> {
    this.record('reinstall', request);
    const hosts = this.resolveHosts(request.hosts);
    for (const h of hosts) {
      const busy = this.store.activeJob(h.name);
      if (busy) throw new UserError(`${h.name} is already in job ${busy.id}; nothing queued`, 'E_BUSY');
    }
    const jobs: Job[] = [];
    for (const h of hosts) {
      const job = await this.seed(h.name, 'queued', { requestedBy: request.by, origin: request.origin, reason: request.reason, options: { forceDrain: request.forceDrain } });
      jobs.push(job);
      this.emit({ type: 'job-queued', job });
    }
    return jobs;
  }

  async approve(hosts: string[] | 'all', ctx: RequestContext & ApproveOptions): Promise<Job[]> {
    this.record('approve', hosts, ctx);
    let jobs: Job[];
    if (hosts === 'all') {
      jobs = this.queue();
      if (!jobs.length) throw new UserError('no host is waiting for approval');
      if (!ctx.override) jobs = jobs.filter((j) => !(j.kojiBefore && !j.kojiBefore.enabled));
    } else {
      jobs = this.resolveHosts(hosts).map((h) => {
        const job = this.store.activeJob(h.name);
        if (!job || job.state !== 'awaiting-approval') throw new UserError(`${h.name} is not waiting for approval; nothing approved`, 'E_NOT_WAITING');
        const meant = ctx.jobIds?.[h.name];
        if (meant !== undefined && meant !== job.id) throw new UserError(`${h.name}'s job ${meant} is no longer waiting for approval; nothing approved`, 'E_NOT_WAITING');
        return job;
      });
    }
    for (const job of jobs) {
      job.state = 'enabling';
      job.approval = { by: ctx.by, at: new Date().toISOString(), override: ctx.override };
      await this.store.saveJob(job);
      this.emit({ type: 'approved', job, by: ctx.by, override: Boolean(ctx.override), auto: false });
    }
    return jobs;
  }

  async deny(host: string, ctx: RequestContext & DenyOptions): Promise<Job> {
    this.record('deny', host, ctx);
    const job = this.store.activeJob(host);
    if (!job || job.state !== 'awaiting-approval') throw new UserError(`${host} is not waiting for approval; nothing denied`, 'E_NOT_WAITING');
    if (ctx.jobId !== undefined && ctx.jobId !== job.id) throw new UserError(`${host}'s job ${ctx.jobId} is no longer waiting for approval; nothing denied`, 'E_NOT_WAITING');
    job.state = 'denied';
    job.denial = { by: ctx.by, at: new Date().toISOString(), reason: ctx.reason };
    await this.store.saveJob(job);
    this.emit({ type: 'denied', job, by: ctx.by, reason: ctx.reason });
    return job;
  }

  async cancel(host: string, ctx: RequestContext): Promise<Job> {
    this.record('cancel', host, ctx);
    const job = this.store.activeJob(host);
    if (!job) throw new UserError(`${host} has no job to cancel`, 'E_NO_JOB');
    job.cancel = { by: ctx.by, at: new Date().toISOString() };
    await this.store.saveJob(job);
    return job;
  }

  async retry(host: string, ctx: RequestContext): Promise<Job> {
    this.record('retry', host, ctx);
    const [last] = this.store.listJobs({ host, limit: 1 });
    if (!last || last.state !== 'failed') throw new UserError(`${host} has no failed job to retry`, 'E_NOT_FAILED');
    last.state = 'running';
    await this.store.saveJob(last);
    return last;
  }

  jobs(options: { host?: string; limit?: number } = {}): Job[] {
    return this.store.listJobs({ host: options.host, limit: options.limit ?? 20 });
  }

  queue(): Job[] {
    return this.store.listJobs({ states: ['awaiting-approval'] }).sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async idle(): Promise<void> {}
}

export const kevin: Identity = { source: 'irc', id: 'kevin', display: 'kevin' };
export const nirik: Identity = { source: 'irc', id: 'nirik', display: 'nirik' };
export const stranger: Identity = { source: 'irc', id: 'mallory', display: 'mallory' };
export const anonymous: Identity = { source: 'irc', display: 'guest42' };
